import polars as pl
import streamlit as st

from dashboards import charts, columns, data, session
from dashboards.definitions import text as defined
from dashboards.text import plain

who = session.page("My progress", "my_progress")
me = session.load(data.learner, who, learner_id=who.learner_id)
if me.is_empty():
    st.info("Nothing recorded for you yet.")
    st.stop()
row = me.row(0, named=True)
tier = row["subscription_tier"]
cols = st.columns(3)
cols[0].metric(
    "Readiness (0-100)", f"{row['readiness_score']:.1f}", help=defined("readiness_score")
)
cols[0].badge(**session.band_badge(row["readiness_band"]))
if nudge := session.nudge(row):
    st.warning(nudge)
cols[1].metric(
    "Current streak", f"{row['current_streak_days']} days", help=defined("current_streak_days")
)
cols[2].metric(
    "Longest streak", f"{row['longest_streak_days']} days", help=defined("longest_streak_days")
)
actions = session.load(data.next_actions, who, learner_id=who.learner_id)
if not actions.is_empty():
    st.subheader("Your next steps")
    for action in actions.iter_rows(named=True):
        st.markdown(f"- **{plain(action['action'])}** — {plain(action['why'])}")
    if tier == "free":
        st.caption("Your plan (free) shows your first step; starter3 adds the rest.")
competency = session.load(data.competency, who)
if not competency.is_empty():
    st.plotly_chart(charts.competency_radar(competency.row(0, named=True)), width="stretch")
path = session.load(data.path_steps, who)
if not path.is_empty():
    st.subheader("Your path")
    st.caption(
        "Open circles: when learners who finish on time do each required step. Filled: when"
        " you did it."
    )
    st.markdown(plain(charts.path_summary(path)))
    st.plotly_chart(charts.path_timeline(path), width="stretch")
st.subheader("Tier 4 and tier 5 completion")
checklist = st.columns(2)
for col, tier_no in zip(checklist, (4, 5), strict=True):
    done = row[f"tier{tier_no}_complete"]
    missing = row[f"tier{tier_no}_missing"] or []
    col.markdown(
        f"**Tier {tier_no} completion: {'complete' if done else 'not complete yet'}**",
        help=defined(f"tier{tier_no}_complete"),
    )
    for item in missing:
        col.markdown(f"- still missing: {plain(item)}")
mine = session.load(data.points, who)
if not mine.is_empty():
    p = mine.row(0, named=True)
    cols = st.columns(3)
    cols[0].metric("Points", f"{p['total_points']:,}", help=defined("total_points"))
    cols[1].metric("Level", p["level"])
    cols[1].caption(f"{p['points_to_next_level']:,} points to the next level")
    if data.entitled(tier, "leaderboard"):  # the rank is part of the leaderboard
        cols[2].metric("Rank in cohort", p["cohort_rank"])
statuses = session.load(data.mission_statuses, who)
if not statuses.is_empty():
    st.plotly_chart(charts.status_bars(statuses), width="stretch")
weekly = session.load(data.weekly_activity, who)
if not weekly.is_empty():
    recent = weekly.tail(12)
    st.plotly_chart(
        charts.activity_chart(recent).update_layout(
            title=f"Study time by week: the {recent.height} weeks from"
            f" {recent['week_start'][0]} to {recent['week_start'][-1]}"
        ),
        width="stretch",
    )
st.subheader("Forecast")
if data.entitled(tier, "forecast"):
    p = row["p_mastery_by_target"]
    if p is None:
        st.info("No forecast for you yet.")
    else:
        low, mid, high = (row[f"weeks_to_mastery_p{q}"] for q in (10, 50, 90))
        st.metric(
            "Chance of competency mastery by your cohort's target date",
            f"{p:.0%}",
            help=defined("p_mastery_by_target"),
        )
        if mid is not None:
            st.write(
                f"Weeks to competency mastery: about {mid:.0f} (80 % interval {low:.0f} to "
                f"{'more than 52' if high is None else f'{high:.0f}'})"
            )
        elif low is not None:
            st.write(
                "Weeks to competency mastery: more than 52 in most futures; in the luckiest one"
                f" in ten, {low:.0f} or fewer (80 % interval {low:.0f} to more than 52)"
            )
        else:
            st.write("Weeks to competency mastery: more than 52 in nine futures out of ten.")
else:
    st.info(f"The forecast is not part of your plan ({tier}).")
st.subheader("Cohort leaderboard")
if data.entitled(tier, "leaderboard"):
    board = session.load(data.leaderboard, who)
    mine = board.filter(pl.col("is_me"))
    if not mine.is_empty():  # the top five, and the learner with their neighbours
        rank = mine["cohort_rank"][0]
        board = board.filter(
            (pl.col("cohort_rank") <= 5) | ((pl.col("cohort_rank") - rank).abs() <= 2)
        )
        st.caption(f"You are ranked {rank:,} of your cohort: the top five, and your neighbours.")
    st.dataframe(
        board.select(
            "cohort_rank",
            pl.when(pl.col("is_me")).then(pl.lit("▶ you")).otherwise(pl.lit("")).alias("you"),
            pl.col("display_name").fill_null("—"),
            "total_points",
            "level",
        ),
        hide_index=True,
        placeholder=columns.MISSING,
        height=35 * (board.height + 1) + 3,  # every row: no scrolling for ten
        width="stretch",
        column_config={
            "cohort_rank": st.column_config.NumberColumn("Rank", format="%d"),
            "you": "You",
            "display_name": "Learner",
            "total_points": st.column_config.NumberColumn("Points", format="localized"),
            "level": st.column_config.NumberColumn("Level", format="%d"),
        },
    )
else:
    st.info(f"The leaderboard is not part of your plan ({tier}).")
st.subheader("Mentor and rubric feedback")
if data.entitled(tier, "mentor_feedback"):
    feedback = session.load(data.rubric_feedback, who)
    reviews = session.load(data.mentor_feedback, who)
    if feedback.is_empty() and reviews.is_empty():
        st.info("No mentor has reviewed a mission of yours yet.")
    if not feedback.is_empty():
        st.plotly_chart(charts.rubric_feedback_bars(feedback), width="stretch")
    if not reviews.is_empty():
        st.dataframe(
            reviews.head(20).select(
                "mentor_reviewed_at",
                pl.col("mission_title").fill_null(pl.col("mission_id")),
                "tier",
                "attempt_number",
                "final_status",
                "mentor_score",
                "rubric_mean",
                "review_hours",
            ),
            hide_index=True,
            placeholder=columns.MISSING,
            width="stretch",
            column_config={
                "mentor_reviewed_at": st.column_config.DateColumn("Reviewed", format="YYYY-MM-DD"),
                "mission_title": "Mission",
                "tier": "Tier",
                "attempt_number": st.column_config.NumberColumn("Attempt", format="%d"),
                "final_status": "Outcome",
                "mentor_score": st.column_config.NumberColumn(
                    "Mentor score (0-100)", format="%.0f", help=defined("mentor_score")
                ),
                "rubric_mean": st.column_config.NumberColumn(
                    "Rubric mean (0-100)", format="%.0f", help=defined("mentor_score")
                ),
                "review_hours": st.column_config.NumberColumn("Review took (hours)", format="%.1f"),
            },
        )
else:
    st.info(f"Mentor and rubric feedback are not part of your plan ({tier}).")
