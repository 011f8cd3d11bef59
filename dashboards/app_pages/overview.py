import streamlit as st

from dashboards import charts, session

who = session.page("Overview", "overview")
cohorts = session.load("cohorts", who)
learners = session.load("learners", who)
if learners.is_empty():
    st.info("No learners in your organization yet.")
    st.stop()
total = int(cohorts["n_learners"].sum())
cols = st.columns(4)
cols[0].metric("Learners", f"{total:,}")
cols[1].metric("Active in the last 7 days", f"{int(cohorts['n_active_7d'].sum()):,}")
cols[2].metric("Mean readiness", f"{learners['readiness_score'].mean():.1f}")
cols[3].metric("At risk", f"{int(learners['at_risk'].sum()):,}")
st.plotly_chart(charts.readiness_histogram(learners), use_container_width=True)
st.subheader("Cohorts")
st.dataframe(
    cohorts.select("cohort_id", "cohort_name", "track", "target_mastery_date", "n_learners",
                   "n_active_7d", "mission_pass_rate", "mean_readiness", "n_at_risk"),
    hide_index=True, use_container_width=True,
)  # fmt: skip
