import polars as pl
import streamlit as st

from dashboards import charts, columns, data, session
from dashboards.definitions import text as defined
from dashboards.text import chart_text, plain

who = session.page("Missions", "missions")
perf = session.load(data.difficulty_performance, who)
if perf.is_empty():
    st.info("No decided mission attempts match the filters yet.")
    st.stop()
st.subheader("Pass rate by labelled difficulty", help=defined("pass_rate"))
tracks = perf["track"].unique(maintain_order=True).to_list()
for tab, track in zip(st.tabs([plain(charts.track_label(t)) for t in tracks]), tracks, strict=True):
    tab.plotly_chart(
        charts.difficulty_bars(perf.filter(pl.col("track") == track)).update_layout(
            title=f"{chart_text(charts.track_label(track))}: pass rate by labelled difficulty"
            " and tier (95 % interval)"
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
    st.caption(
        "Program-wide. A label is disputed when the mission's pass rate interval lies wholly"
        " above the pass rate of its tier's missions labelled one level easier, or wholly below"
        " that of the missions one level harder."
    )
    st.dataframe(
        disputed.select(
            pl.col("mission_title").fill_null(pl.col("mission_id")),
            pl.col("track").map_elements(charts.track_label, return_dtype=pl.String),
            "tier",
            "difficulty",
            "n_decided",
            "pass_rate",
            "easier_label_pass_rate",
            "harder_label_pass_rate",
        ),
        hide_index=True,
        placeholder=columns.MISSING,
        width="stretch",
        column_config={
            "mission_title": "Mission",
            "track": "Track",
            "tier": "Tier",
            "difficulty": st.column_config.NumberColumn("Labelled difficulty (1-5)", format="%d"),
            "n_decided": st.column_config.NumberColumn("Decided attempts", format="localized"),
            "pass_rate": columns.percent("Pass rate", help=defined("pass_rate")),
            "easier_label_pass_rate": columns.percent("Pass rate one level easier"),
            "harder_label_pass_rate": columns.percent("Pass rate one level harder"),
        },
    )

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
        tools.select(
            pl.col("mission_title").fill_null(pl.col("mission_id")),
            pl.col("tool").str.replace_all("_", " "),
            "n_decided",
            "share_with_tool",
            "share_of_passed_using",
            "share_of_failed_using",
            "pass_rate_with_tool",
            "pass_rate_without_tool",
            "use_difference_z",
        ),
        hide_index=True,
        placeholder=columns.MISSING,
        width="stretch",
        column_config={
            "mission_title": "Mission",
            "tool": "Tool",
            "n_decided": st.column_config.NumberColumn("Decided attempts", format="localized"),
            "share_with_tool": columns.percent("Used in"),
            "share_of_passed_using": columns.percent("Passed attempts using it"),
            "share_of_failed_using": columns.percent("Failed attempts using it"),
            "pass_rate_with_tool": columns.percent("Pass rate with"),
            "pass_rate_without_tool": columns.percent("Pass rate without"),
            "use_difference_z": st.column_config.NumberColumn(
                "Difference (z)",
                format="%.1f",
                help="How many standard errors apart the two shares are",
            ),
        },
    )

st.subheader("Time per stage")
stages = session.load(data.stage_time, who)
if not stages.is_empty():
    stages = stages.with_columns(
        mission=pl.col("mission_title").fill_null(pl.col("mission_id"))
        + pl.lit(" (")
        + pl.col("mission_id")
        + pl.lit(")")
    )
    sinks = stages.filter(pl.col("is_time_sink_losing_learners"))
    if not sinks.is_empty():
        named = [
            f"{plain(m)}, subtask {n}" for m, n in sinks.select("mission", "stage").iter_rows()
        ]
        more = f", and {len(named) - 8} more" if len(named) > 8 else ""
        st.warning(
            f"{len(named)} missions have a subtask that takes the most time and loses the most"
            f" attempts: {'; '.join(named[:8])}{more}."
        )
    missions = stages["mission"].unique(maintain_order=True).to_list()
    first = sinks["mission"][0] if not sinks.is_empty() else missions[0]
    mission = st.selectbox("Mission", missions, index=missions.index(first))
    st.plotly_chart(
        charts.stage_time_bars(stages.filter(pl.col("mission") == mission)), width="stretch"
    )

st.subheader("Rubric categories", help=defined("mentor_score"))
rubric = session.load(data.rubric_categories, who)
if rubric.is_empty():
    st.info("No mentor rubric scores match the filters yet.")
else:
    st.plotly_chart(charts.rubric_heatmap(rubric), width="stretch")

st.subheader("Mentor reviews")
reviews = session.load(data.mentor_reviews, who)
if reviews.is_empty():
    st.info("No mentor reviews match the filters yet.")
else:
    st.caption(
        "Per mentor, over the reviews of the learners and in the weeks the filters select"
        " (a learner's mentor reviews their missions)."
    )
    shown = ["org_name"] if who.role == "admin" and not who.filters.org_id else []
    st.dataframe(
        reviews.select(
            *shown,
            "mentor_id",
            "n_reviews",
            "mean_mentor_score",
            "median_mentor_score",
            "mentor_score_p10",
            "mentor_score_p90",
            "median_review_hours",
            "review_hours_p90",
            "revision_requests_per_review",
        ),
        hide_index=True,
        placeholder=columns.MISSING,
        width="stretch",
        column_config={
            "org_name": "Organization",
            "mentor_id": "Mentor",
            "n_reviews": st.column_config.NumberColumn("Reviews", format="localized"),
            "mean_mentor_score": st.column_config.NumberColumn(
                "Mean score (0-100)", format="%.1f", help=defined("mentor_score")
            ),
            "median_mentor_score": st.column_config.NumberColumn(
                "Median score (0-100)", format="%.0f"
            ),
            "mentor_score_p10": st.column_config.NumberColumn(
                "Low score (10th pct)", format="%.0f"
            ),
            "mentor_score_p90": st.column_config.NumberColumn(
                "High score (90th pct)", format="%.0f"
            ),
            "median_review_hours": st.column_config.NumberColumn(
                "Median review time (hours)", format="%.1f"
            ),
            "review_hours_p90": st.column_config.NumberColumn(
                "Slow review time (90th pct, hours)", format="%.1f"
            ),
            "revision_requests_per_review": st.column_config.NumberColumn(
                "Revisions asked per review", format="%.2f"
            ),
        },
    )
