import streamlit as st

from dashboards import charts, data, session

who = session.page("Overview", "overview")
cohorts = session.load(data.cohorts, who)
bins = session.load(data.readiness_overview, who)
if bins.is_empty():
    st.info("No learners in your organization yet.")
    st.stop()
total = int(bins["n_learners"].sum())
cols = st.columns(4)
cols[0].metric("Learners", f"{total:,}")
cols[1].metric("Active in the last 7 days", f"{int(cohorts['n_active_7d'].sum()):,}")
cols[2].metric("Mean readiness", f"{bins['sum_readiness'].sum() / total:.1f}")
cols[3].metric("At risk", f"{int(bins['n_at_risk'].sum()):,}")
left, right = st.columns(2)
left.plotly_chart(charts.readiness_histogram(bins), width="stretch")
weekly = session.load(data.weekly_activity, who)
if not weekly.is_empty():
    right.plotly_chart(charts.weekly_trend(weekly), width="stretch")
st.subheader("Cohorts")
st.dataframe(
    cohorts.select(
        "cohort_id",
        "cohort_name",
        "track",
        "target_mastery_date",
        "n_learners",
        "n_active_7d",
        "mission_pass_rate",
        "mean_readiness",
        "n_at_risk",
    ),
    hide_index=True,
    width="stretch",
)
