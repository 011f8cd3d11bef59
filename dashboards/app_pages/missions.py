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
st.subheader("Tools that tell passing from failing attempts")
tools = session.load(data.tool_usage, who)
if tools.is_empty():
    st.info("No tool's use differs between passed and failed attempts beyond chance yet.")
else:
    st.caption(
        "Program-wide: every organization's decided attempts. A tool is listed when its share"
        " among passed attempts differs from its share among failed ones by more than sampling"
        " allows (|z| ≥ 3.29). An association: better-prepared learners may simply reach for it."
    )
    st.dataframe(
        tools,
        hide_index=True,
        width="stretch",
        column_config={
            "mission_id": "Mission",
            "tool": "Tool",
            "n_decided": st.column_config.NumberColumn("Decided attempts", format="%d"),
            "share_with_tool": st.column_config.NumberColumn("Used in", format="percent"),
            "share_of_passed_using": st.column_config.NumberColumn(
                "Passed attempts using it", format="percent"
            ),
            "share_of_failed_using": st.column_config.NumberColumn(
                "Failed attempts using it", format="percent"
            ),
            "pass_rate_with_tool": st.column_config.NumberColumn(
                "Pass rate with", format="percent"
            ),
            "pass_rate_without_tool": st.column_config.NumberColumn(
                "Pass rate without", format="percent"
            ),
            "use_difference_z": st.column_config.NumberColumn("z", format="%.1f"),
        },
    )
st.subheader("Time per stage")
stages = session.load(data.stage_time, who)
if not stages.is_empty():
    sinks = stages.filter(stages["is_time_sink_losing_learners"])
    if not sinks.is_empty():
        named = [f"{m} (stage {n})" for m, n in sinks.select("mission_id", "stage").iter_rows()]
        more = f", and {len(named) - 8} more" if len(named) > 8 else ""
        st.warning(
            f"{len(named)} missions have a stage that takes the most time and loses the most"
            f" attempts: {', '.join(named[:8])}{more}."
        )
    missions = stages["mission_id"].unique(maintain_order=True).to_list()
    first = sinks["mission_id"][0] if not sinks.is_empty() else missions[0]
    mission = st.selectbox("Mission", missions, index=missions.index(first))
    st.plotly_chart(
        charts.stage_time_bars(stages.filter(stages["mission_id"] == mission)), width="stretch"
    )
st.subheader("Rubric categories")
rubric = session.load(data.rubric_categories, who)
if rubric.is_empty():
    st.info("No mentor rubric scores in your organization yet.")
else:
    st.plotly_chart(charts.rubric_heatmap(rubric), width="stretch")
st.subheader("Mentor reviews")
st.dataframe(session.load(data.mentor_reviews, who), hide_index=True, width="stretch")
