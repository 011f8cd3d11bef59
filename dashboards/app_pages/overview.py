import polars as pl
import streamlit as st

from dashboards import charts, columns, data, digest, session
from dashboards.definitions import text as defined

who = session.page("Overview", "overview")
cohorts = session.load(data.cohorts, who)
bins = session.load(data.readiness_overview, who)
if bins.is_empty():
    st.info("No learners match the filters." if who.filters.active else "No learners yet.")
    st.stop()
total = int(bins["n_learners"].sum())
# First: whom to contact this week, and why (the triage, in contact order).
learners = session.load(data.learners, who)
flagged = learners.filter(pl.col("at_risk")).sort("risk_priority", "org_name")
# Contact order is per organization: over several, each row says whose it is.
many_orgs = ["org_name"] if learners["org_id"].n_unique() > 1 else []
st.subheader(f"To contact this week: {flagged.height:,} learners")
if flagged.is_empty():
    st.success("Nobody is flagged for contact this week.")
else:
    st.dataframe(
        flagged.head(10).select(
            *many_orgs,
            "risk_priority",
            "display_name",
            "cohort_name",
            pl.col("at_risk_reasons").list.first().alias("reason"),
            "next_action",
            "p_disengage_8w",
        ),
        hide_index=True,
        placeholder=columns.MISSING,
        width="stretch",
        column_config={
            "org_name": "Organization",
            "risk_priority": st.column_config.NumberColumn(
                "Order", format="%d", help=defined("risk_priority")
            ),
            "display_name": "Learner",
            "cohort_name": "Cohort",
            "reason": st.column_config.TextColumn(
                "Why (the strongest reason)", width="large", help=defined("at_risk_reasons")
            ),
            "next_action": st.column_config.TextColumn(
                "Suggested action", width="large", help=defined("next_action")
            ),
            "p_disengage_8w": columns.chance(
                "Chance of stopping in 8 weeks",
                help=defined("p_disengage_8w"),
            ),
        },
    )
    if flagged.height > 10:
        st.caption(
            f"The other {flagged.height - 10:,} are on the Learners page, in the same order."
        )
cols = st.columns(4)
cols[0].metric("Learners", f"{total:,}")
cols[1].metric(
    "Active in the last 7 days",
    f"{int(cohorts['n_active_7d'].sum()):,}",
    help=defined("n_active_7d"),
)
cols[2].metric(
    "Mean readiness (0-100)",
    f"{bins['sum_readiness'].sum() / total:.1f}",
    help=defined("readiness_score"),
)
cols[3].metric("At risk", f"{int(bins['n_at_risk'].sum()):,}", help=defined("at_risk"))
left, right = st.columns(2)
left.plotly_chart(charts.readiness_histogram(bins), width="stretch")
weekly = session.load(data.weekly_activity, who)
if not weekly.is_empty():
    right.plotly_chart(charts.weekly_trend(weekly), width="stretch")
st.subheader("Cohorts")
st.dataframe(
    cohorts.select(
        "cohort_name",
        pl.col("track").map_elements(charts.track_label, return_dtype=pl.String),
        "target_mastery_date",
        "n_learners",
        "n_active_7d",
        "mission_pass_rate",
        "mean_readiness",
        "n_at_risk",
    ),
    hide_index=True,
    placeholder=columns.MISSING,
    width="stretch",
    column_config={
        "cohort_name": "Cohort",
        "track": "Track",
        "target_mastery_date": st.column_config.DateColumn("Target date", format="YYYY-MM-DD"),
        "n_learners": st.column_config.NumberColumn("Learners", format="localized"),
        "n_active_7d": st.column_config.NumberColumn(
            "Active in 7 days", format="localized", help=defined("n_active_7d")
        ),
        "mission_pass_rate": columns.percent("Mission pass rate", help=defined("pass_rate")),
        "mean_readiness": st.column_config.NumberColumn(
            "Mean readiness (0-100)", format="%.1f", help=defined("readiness_score")
        ),
        "n_at_risk": st.column_config.NumberColumn(
            "To contact", format="localized", help=defined("at_risk")
        ),
    },
)

# The weekly digest (dashboards/digest.py): a supervisor downloads their organization's latest
# report, an admin any organization's. Which files is decided by the account's scope alone.
st.subheader("Weekly digest")
latest: dict[str, digest.Report] = {}
for report in digest.reports_for(who, session.serving()):  # newest first per organization
    latest.setdefault(report.org_id, report)
if not latest:
    st.caption("No weekly digest yet: `cohortlens digest` writes them (Mondays, when scheduled).")
else:
    chosen = next(iter(latest))
    if len(latest) > 1:
        chosen = st.selectbox(
            "Organization of the digest",
            list(latest),
            format_func=lambda org: f"{latest[org].org_name} ({org})",
        )
    report = latest[chosen]
    try:
        pdf = report.pdf.read_bytes()
    except OSError:
        st.caption("The digest is being rewritten: reload in a moment.")
    else:
        st.download_button(
            f"Download the digest of the week of {report.week} (PDF)",
            data=pdf,
            file_name=f"cohortlens-digest-{digest.folder_name(report.org_id)}-{report.week}.pdf",
            mime="application/pdf",
            on_click=session.viewed,
            args=(who, "digest", f"{report.org_id} {report.week}"),
        )
