import streamlit as st

from dashboards import charts, data, session

who = session.page("Missions", "missions")
perf = session.load(data.difficulty_performance, who)
if perf.is_empty():
    st.info("No decided mission attempts in your organization yet.")
    st.stop()
for track in perf["track"].unique(maintain_order=True).to_list():
    rows = perf.filter(perf["track"] == track)
    st.plotly_chart(
        charts.difficulty_bars(rows).update_layout(
            title=f"{track}: pass rate by labelled difficulty (95 % interval)"
        ),
        width="stretch",
    )

st.subheader("Outcomes and drop-off")
cols = st.columns(2)
statuses = session.load(data.mission_statuses, who)
drops = session.load(data.drop_off, who)
if not statuses.is_empty():
    cols[0].plotly_chart(charts.status_bars(statuses), width="stretch")
if not drops.is_empty():
    cols[1].plotly_chart(charts.drop_off_bars(drops), width="stretch")
st.subheader("Difficulty labels the data disputes")
disputed = session.load(data.disputed_labels, who)
if disputed.is_empty():
    st.success("Every mission's pass rate fits its labelled difficulty.")
else:
    st.dataframe(disputed, hide_index=True, width="stretch")
st.subheader("Rubric categories")
rubric = session.load(data.rubric_categories, who)
if rubric.is_empty():
    st.info("No mentor rubric scores in your organization yet.")
else:
    st.plotly_chart(charts.rubric_heatmap(rubric), width="stretch")
st.subheader("Mentor reviews")
st.dataframe(session.load(data.mentor_reviews, who), hide_index=True, width="stretch")
