import polars as pl
import streamlit as st

from dashboards import charts, columns, data, session
from dashboards.definitions import text as defined
from dashboards.export import safe_csv
from dashboards.text import plain

who = session.page("Learners", "learners")
if who.role == "admin" and not who.filters.org_id and not who.filters.cohort_ids:
    # One organization at a time: a whole program is no table to read.
    orgs = session.load(data.organizations, who)
    if orgs.is_empty():
        st.info("No learners match the filters.")
        st.stop()
    largest, name = orgs.row(0)[:2]
    st.caption(
        f"Showing {plain(name)}, the largest organization: choose another in the sidebar's filters."
    )
    learners = session.load(data.learners, who, org_id=largest)
else:
    learners = session.load(data.learners, who)
search = st.text_input("Filter by name or learner id", "")
at_risk_only = st.toggle("At risk only", False)
shown = learners
if search:
    needle = search.lower()
    shown = shown.filter(
        pl.col("display_name").str.to_lowercase().str.contains(needle, literal=True)
        | pl.col("learner_id").str.to_lowercase().str.contains(needle, literal=True)
    )
if at_risk_only:
    shown = shown.filter(pl.col("at_risk"))
st.caption(
    "Sorted by contact order: the learners to contact first lead. Reasons are what was"
    " observed; the next action is the first one the learner's page suggests."
)
st.dataframe(
    shown.select(
        "risk_priority",
        "display_name",
        "cohort_name",
        "p_disengage_8w",
        "p_mastery_by_target",
        "weeks_to_mastery_p50",
        "next_action",
        pl.col("at_risk_reasons").list.join("; ").alias("reasons"),
        (pl.col("readiness_score")).alias("readiness"),
        pl.col("readiness_band").str.replace("_", " "),
        "current_streak_days",
        "last_active_date",
        "learner_id",
    ),
    hide_index=True,
    placeholder=columns.MISSING,
    width="stretch",
    column_config={
        "risk_priority": st.column_config.NumberColumn(
            "Contact order", format="%d", help=defined("risk_priority")
        ),
        "display_name": "Learner",
        "cohort_name": "Cohort",
        "reasons": st.column_config.TextColumn(
            "Why", width="large", help=defined("at_risk_reasons")
        ),
        "next_action": st.column_config.TextColumn(
            "Next action", width="large", help=defined("next_action")
        ),
        "p_disengage_8w": columns.chance(
            "Chance of stopping in 8 weeks",
            help=defined("p_disengage_8w"),
        ),
        "p_mastery_by_target": columns.chance(
            "Competency mastery by target",
            help=defined("p_mastery_by_target"),
        ),
        "weeks_to_mastery_p50": st.column_config.NumberColumn(
            "Weeks to competency mastery", format="%.0f", help=defined("weeks_to_mastery")
        ),
        "readiness": st.column_config.NumberColumn(
            "Readiness (0-100)", format="%.1f", help=defined("readiness_score")
        ),
        "readiness_band": st.column_config.TextColumn("Band", help=defined("readiness_band")),
        "current_streak_days": st.column_config.NumberColumn(
            "Streak (days)", format="%d", help=defined("current_streak_days")
        ),
        "last_active_date": st.column_config.DateColumn("Last active", format="YYYY-MM-DD"),
        "learner_id": None,  # hidden: the name is shown, and the search also finds ids
    },
)
if st.download_button("Export CSV", safe_csv(shown), "learners.csv", "text/csv"):
    session.viewed(who, "export", f"rows={shown.height}")
# The filter above finds anyone among 40,000; the list offers the first 50 it leaves, in
# contact order (a select box of every name would be no way to find one).
listed = {
    f"{name or learner_id} ({learner_id})": learner_id
    for learner_id, name in shown.head(50).select("learner_id", "display_name").iter_rows()
}
more = f"; {shown.height - 50:,} more: narrow the filter above" if shown.height > 50 else ""
picked = st.selectbox(
    "Drill down",
    list(listed),
    index=None,
    placeholder=f"Choose a learner ({len(listed)} listed{more})",
)
choice = listed.get(picked) if picked else None
detail = session.load(data.learner, who, learner_id=choice) if choice else None
if detail is not None and not detail.is_empty():  # the full row: tier checklists, interval
    row = detail.row(0, named=True)
    session.viewed(who, "learner", choice)
    st.subheader(f"{plain(row['display_name'] or choice)} ({plain(choice)})", anchor=False)
    cols = st.columns(3)
    cols[0].metric(
        "Readiness (0-100)", f"{row['readiness_score']:.1f}", help=defined("readiness_score")
    )
    cols[0].badge(**session.band_badge(row["readiness_band"]))
    cols[1].metric(
        "Streak, days (longest)",
        f"{row['current_streak_days']} ({row['longest_streak_days']})",
        help=defined("current_streak_days"),
    )
    p = row["p_mastery_by_target"]
    cols[2].metric(
        "Chance of competency mastery by the target",
        "no forecast yet" if p is None else f"{p:.0%}",
        help=defined("p_mastery_by_target"),
    )
    for reason in row["at_risk_reasons"] or []:
        st.warning(plain(reason))
    actions = session.load(data.next_actions, who, learner_id=choice)
    if not actions.is_empty():
        st.markdown("**Next actions**")
        for action in actions.iter_rows(named=True):
            who_for = " (for you)" if action["audience"] == "supervisor" else ""
            what, why = plain(action["action"]), plain(action["why"])
            st.markdown(f"{action['action_rank']}. {what}{who_for} — {why}")
    left, right = st.columns(2)
    mine = session.load(data.competency, who, learner_id=choice)
    if not mine.is_empty():
        left.plotly_chart(charts.competency_radar(mine.row(0, named=True)), width="stretch")
    for tier_no in (4, 5):
        done = row[f"tier{tier_no}_complete"]
        right.markdown(
            f"**Tier {tier_no} completion: {'complete' if done else 'not complete yet'}**",
            help=defined(f"tier{tier_no}_complete"),
        )
        for item in row[f"tier{tier_no}_missing"] or []:
            right.markdown(f"- still missing: {plain(item)}")
    low, mid, high = (row[f"weeks_to_mastery_p{q}"] for q in (10, 50, 90))
    if mid is not None:
        right.write(
            f"Weeks to competency mastery: about {mid:.0f} (80 % interval {low:.0f} to "
            f"{'more than 52' if high is None else f'{high:.0f}'})"
        )
    path = session.load(data.path_steps, who, learner_id=choice)
    if not path.is_empty():
        st.markdown(plain(charts.path_summary(path)))
        st.plotly_chart(charts.path_timeline(path), width="stretch")
    feedback = session.load(data.rubric_feedback, who, learner_id=choice)
    if not feedback.is_empty():
        st.plotly_chart(charts.rubric_feedback_bars(feedback), width="stretch")
