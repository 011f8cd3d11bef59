"""The supervisor pages' filters: they narrow every page, stay set from page to page, show
names, and never widen a principal's scope (they are SQL parameters beside it)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from dashboards import data
from dashboards.auth import Filters, Principal
from pipelines.serving import connect, current
from tests.dashboards.test_app import sign_in


def metric(app, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def test_a_cohort_filter_narrows_the_pages_and_stays_set_across_them(app, served):
    sign_in(app, "admin")
    everyone = metric(app, "Learners")
    box = next(m for m in app.sidebar.multiselect if m.label == "Cohort")
    label = box.options[-1]
    cohort = label.rsplit("(", 1)[1].rstrip(")")
    box.select(label).run()
    assert not app.exception, app.exception
    admin = Principal("admin", "admin")
    expected = data.learners(served.serving, admin, cohort_id=cohort).height
    assert metric(app, "Learners") == f"{expected:,}" != everyone
    app.switch_page("app_pages/learners.py").run()
    assert next(m for m in app.sidebar.multiselect if m.label == "Cohort").value == [label]
    shown = app.dataframe[0].value
    assert len(shown) == expected
    assert "Filtered to 1 cohort." in [c.value for c in app.caption]


def test_the_admin_picks_an_organization_by_name(app, served):
    sign_in(app, "admin")
    box = next(s for s in app.sidebar.selectbox if s.label == "Organization")
    assert box.options[0] == "All organizations"
    assert not any(served.other_org in option for option in box.options)  # names, not ids
    with connect(current(served.serving)) as con:
        name, size = con.execute(
            "select any_value(org_name), sum(n_learners) from marts.cohort_summary"
            " where org_id = ?",
            [served.other_org],
        ).fetchone()
    box.select(f"{name} ({size:,} learners)").run()
    assert not app.exception, app.exception
    assert metric(app, "Learners") == f"{size:,}"


def test_filters_narrow_but_never_widen_a_scope(served):
    sup = Principal("sup", "supervisor", org_id=served.org)
    other = Principal("x", "admin").narrowed(Filters(org_id=served.other_org))
    their_cohort = data.learners(served.serving, other)["cohort_id"][0]
    for filters in (Filters(org_id=served.other_org), Filters(cohort_ids=(their_cohort,))):
        assert data.learners(served.serving, sup.narrowed(filters)).is_empty()
    student = Principal("stu", "student", learner_id=served.student)
    narrowed = student.narrowed(Filters(cohort_ids=(their_cohort,)))
    assert data.learners(served.serving, narrowed)["learner_id"].to_list() == [served.student]


def test_the_date_range_narrows_activity_and_attempts_to_its_weeks(served):
    sup = Principal("sup", "supervisor", org_id=served.org)
    weeks = data.weekly_activity(served.serving, sup)["week_start"]
    since, until = weeks[2], weeks[4] + dt.timedelta(days=6)
    ranged = sup.narrowed(Filters(since=since, until=until))
    shown_weeks = data.weekly_activity(served.serving, ranged)["week_start"]
    assert shown_weeks.to_list() == weeks[2:5].to_list()
    shown = int(data.mission_statuses(served.serving, ranged)["n_attempts"].sum())
    with connect(current(served.serving)) as con:
        expected = con.execute(
            """
            select count(*) from marts.fct_mission_attempts as a
            join marts.learner_readiness as r using (learner_id)
            where r.org_id = ?
                and coalesce(a.started_at, a.updated_at) >= ?
                and coalesce(a.started_at, a.updated_at) < ?
            """,
            [served.org, since, until + dt.timedelta(days=1)],
        ).fetchone()[0]
    total = int(data.mission_statuses(served.serving, sup)["n_attempts"].sum())
    assert 0 < shown == expected < total


def test_mentor_statistics_follow_the_cohort_and_date_filters(served):
    """Unfiltered, a supervisor's mentor table is the organization's mart row for row; one
    cohort and three weeks count exactly that cohort's reviews in those weeks (reviewed
    attempts, from the attempts fact), and move the scores with them."""
    sup = Principal("sup", "supervisor", org_id=served.org)
    everything = data.mentor_reviews(served.serving, sup).drop("org_name")
    with connect(current(served.serving)) as con:
        mart = con.sql(
            "select * from marts.mentor_review_analytics where org_id = ?", params=[served.org]
        ).pl()
    key = ["org_id", "mentor_id"]
    assert_frame_equal(everything.sort(key), mart.select(everything.columns).sort(key))

    cohort = data.cohorts(served.serving, sup)["cohort_id"][0]
    weeks = data.weekly_activity(served.serving, sup)["week_start"]
    since, until = weeks[-4], weeks[-2] + dt.timedelta(days=6)
    narrowed = sup.narrowed(Filters(cohort_ids=(cohort,), since=since, until=until))
    shown = data.mentor_reviews(served.serving, narrowed)
    with connect(current(served.serving)) as con:
        expected = con.execute(
            """
            select count(*) from marts.fct_mission_attempts as a
            join marts.learner_readiness as r using (learner_id)
            where r.cohort_id = ? and a.mentor_reviewed_at >= ? and a.mentor_reviewed_at < ?
            """,
            [cohort, since, until + dt.timedelta(days=1)],
        ).fetchone()[0]
    assert 0 < shown["n_reviews"].sum() == expected < everything["n_reviews"].sum()
    assert set(shown["mentor_id"]) <= set(everything["mentor_id"])


def test_the_track_filter_narrows_the_catalog_tables(served):
    admin = Principal("admin", "admin")
    tracks = data.stage_time(served.serving, admin)["track"].unique().sort().to_list()
    assert len(tracks) > 1
    one = admin.narrowed(Filters(tracks=(tracks[0],)))
    for read in (data.stage_time, data.tool_usage, data.disputed_labels):
        rows = read(served.serving, one)
        assert rows.filter(pl.col("track") != tracks[0]).is_empty()
