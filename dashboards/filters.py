"""The supervisor pages' filters: organization (admin), cohorts, tracks and a date range.

Drawn in the sidebar by the entry point on every run, so their widgets (and values) persist as
the user moves between pages. They narrow the principal (auth.Filters): every query applies
them in SQL beside the principal's own scope, which they can never widen.
"""

from __future__ import annotations

import streamlit as st

from . import data, session
from .auth import Filters, Principal

ALL_ORGANIZATIONS = "All organizations"


def sidebar(who: Principal) -> Filters:
    """Draw the filters for ``who`` (a supervisor or admin) and return what they select."""
    with st.sidebar:
        st.subheader("Filters")
        org_id = None
        if who.role == "admin":
            orgs = session.load(data.organizations, who)
            # label -> id: names may repeat, so each label carries its size
            labels = {ALL_ORGANIZATIONS: None} | {
                f"{name} ({n:,} learners)": org
                for org, name, n in orgs.select("org_id", "org_name", "n_learners").iter_rows()
            }
            org_id = labels.get(st.selectbox("Organization", list(labels), key="filter_org"))
        in_org = who.narrowed(Filters(org_id=org_id))
        cohorts = session.load(data.cohorts, in_org)
        tracks = sorted(cohorts["track"].unique().to_list())
        chosen_tracks = st.multiselect(
            "Track", tracks, key="filter_tracks", placeholder="All tracks"
        )
        offered = cohorts.filter(cohorts["track"].is_in(chosen_tracks) | (not chosen_tracks))
        names = {
            f"{name} ({cohort})": cohort
            for cohort, name in offered.select("cohort_id", "cohort_name").iter_rows()
        }
        # Cohorts of another organization or track are no longer offered: drop them first
        # (a selection outside the options would be an error).
        kept = [c for c in st.session_state.get("filter_cohorts", []) if c in names]
        st.session_state["filter_cohorts"] = kept
        chosen = st.multiselect(
            "Cohort", list(names), key="filter_cohorts", placeholder="All cohorts"
        )
        since = until = None
        bounds = session.load(data.date_bounds, who)  # the whole scope's: stable limits
        if bounds is not None:
            first, last = bounds
            picked = st.date_input(
                "Dates",
                value=(first, last),
                min_value=first,
                max_value=last,
                format="YYYY-MM-DD",
                key="filter_dates",
                help="The weeks of activity, mission attempts and mentor reviews shown. The"
                " triage, readiness and forecasts are as of the last day.",
            )
            if isinstance(picked, tuple) and len(picked) == 2 and picked != (first, last):
                since, until = picked  # mid-selection it holds one day: no range yet
        filters = Filters(
            org_id=org_id,
            cohort_ids=tuple(names[c] for c in chosen if c in names),
            tracks=tuple(chosen_tracks),
            since=since,
            until=until,
        )
        if filters.active and st.button("Clear filters", key="filter_clear"):
            for key in ("filter_org", "filter_tracks", "filter_cohorts", "filter_dates"):
                st.session_state.pop(key, None)
            st.rerun()
    st.session_state["filters"] = filters
    return filters
