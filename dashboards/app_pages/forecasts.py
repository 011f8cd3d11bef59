import streamlit as st

from dashboards import charts, data, session

who = session.page("Forecasts", "forecasts")
fan = session.load(data.cohort_fan, who)
if fan.is_empty():
    st.info("No forecast published yet: it runs nightly (or `cohortlens forecast`).")
    st.stop()
cohort = st.selectbox("Cohort", fan["cohort_id"].unique(maintain_order=True).to_list())
series = st.radio(
    "Domain", ["mean", "knowledge", "skills", "application", "ethics"], horizontal=True
)
st.plotly_chart(charts.fan_chart(fan.filter(fan["cohort_id"] == cohort), series), width="stretch")
st.plotly_chart(
    charts.probability_histogram(session.load(data.learners, who, cohort_id=cohort)),
    width="stretch",
)

st.subheader("What if the cohort studied more, or less?")
effort = st.slider(
    "Weekly study effort, relative to each learner's recent weeks",
    0.25,
    2.0,
    1.0,
    0.05,
    format="%.2fx",
)
with st.spinner("Re-simulating the cohort ..."):
    base = session.what_if(who, cohort, 1.0)
    changed = session.what_if(who, cohort, effort)
if base is None:
    st.info("No calibration for this cohort yet.")
else:
    before, after = base.p_mastery_by_target, changed.p_mastery_by_target
    cols = st.columns(3)
    cols[0].metric(
        "Expected learners at mastery by the target",
        f"{after.sum():.0f}",
        f"{after.sum() - before.sum():+.0f}",
    )
    cols[1].metric(
        "Mean chance of mastery by the target",
        f"{after.mean():.0%}",
        f"{after.mean() - before.mean():+.0%}",
    )
    likely, likely_before = int((after > 0.5).sum()), int((before > 0.5).sum())
    cols[2].metric("Learners likely (over 50 %)", f"{likely}", f"{likely - likely_before:+d}")
    st.plotly_chart(charts.what_if_histogram(before, after, effort), width="stretch")
