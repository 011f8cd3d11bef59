import streamlit as st

from dashboards import charts, data, session

who = session.page("Forecasts", "forecasts")
fan = session.load(data.cohort_fan, who)
if fan.is_empty():
    st.info("No forecast published yet: it runs nightly (or `cohortlens forecast`).")
    st.stop()
cohorts = session.load(data.cohorts, who)
names = dict(cohorts.select("cohort_id", "cohort_name").iter_rows())
targets = dict(cohorts.select("cohort_id", "target_mastery_date").iter_rows())
labels = {
    f"{names.get(c) or c} ({c})": c for c in fan["cohort_id"].unique(maintain_order=True).to_list()
}
cohort = labels[st.selectbox("Cohort", list(labels))]
series = st.radio(
    "Domain",
    ["mean", "knowledge", "skills", "application", "ethics"],
    horizontal=True,
    format_func=lambda s: "mean of the four domains" if s == "mean" else s,
)
rows = fan.filter(fan["cohort_id"] == cohort)
history = session.competency_history(who, cohort)
st.plotly_chart(
    charts.fan_chart(
        rows, series, target=targets.get(cohort), as_of=rows["as_of_date"][0], history=history
    ),
    width="stretch",
)
st.caption(
    "Grey, up to the as-of day: the cohort's competency as estimated from its answers so far"
    " (the middle 80 % of its learners and the median). Blue: where 80 % and 50 % of the"
    " simulated futures lie each week. Competency mastery is not tier 5 completion."
)
st.plotly_chart(
    charts.probability_histogram(session.load(data.learners, who, cohort_id=cohort)),
    width="stretch",
)

st.subheader("What if the cohort studied more, or less?")
st.caption(
    "The slider scales every learner's weekly study time from their recent weeks. The same"
    " simulated futures (the same random draws) are used at every setting, so a change is"
    " the effort's alone."
)
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
    changes = effort != 1.0  # at today's effort there is no change to show (not a green +0)
    likely, likely_before = int((after > 0.5).sum()), int((before > 0.5).sum())
    cols = st.columns(3)
    cols[0].metric(
        "Expected learners at competency mastery by the target",
        f"{after.sum():.0f}",
        f"{after.sum() - before.sum():+.0f}" if changes else None,
    )
    cols[1].metric(
        "Mean chance of competency mastery by the target",
        f"{after.mean():.0%}",
        f"{after.mean() - before.mean():+.0%}" if changes else None,
    )
    cols[2].metric(
        "Learners likely (over 50 %)",
        f"{likely}",
        f"{likely - likely_before:+d}" if changes else None,
    )
    st.plotly_chart(charts.what_if_histogram(before, after, effort), width="stretch")
