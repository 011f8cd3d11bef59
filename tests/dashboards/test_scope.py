"""Every way to reach rows outside one's scope, through the data-access module."""

from __future__ import annotations

import polars as pl
import pytest

from dashboards import data
from dashboards.auth import Principal
from dashboards.export import safe_csv
from pipelines.serving import connect

SCOPED_READS = [
    "learners",
    "learner",
    "organizations",
    "readiness_overview",
    "cohorts",
    "difficulty_performance",
    "cohort_fan",
    "competency",
    "mission_statuses",
    "drop_off",
    "mentor_reviews",
    "points",
    "weekly_activity",
    "leaderboard",
    "rubric_categories",
    "rubric_feedback",
    "mentor_feedback",
    "path_steps",
]


def org_of(served, learner_ids):
    everyone = data.learners(served.serving, Principal("a", "admin"))
    return set(everyone.filter(pl.col("learner_id").is_in(list(learner_ids)))["org_id"])


# Reads about one learner: a supervisor names the learner, a student gets themselves.
ONE_LEARNER_READS = ["learner", "rubric_feedback", "mentor_feedback", "competency", "path_steps"]


@pytest.mark.parametrize("read", SCOPED_READS)
def test_a_supervisor_sees_their_organization_only(served, read):
    sup = Principal("sup", "supervisor", org_id=served.org)
    chosen = {"learner_id": served.pro_student} if read in ONE_LEARNER_READS else {}
    frame = getattr(data, read)(served.serving, sup, **chosen)
    assert not frame.is_empty()
    if "learner_id" in frame.columns:
        assert org_of(served, frame["learner_id"]) == {served.org}
    if "org_id" in frame.columns:
        assert set(frame["org_id"]) == {served.org}


def test_a_student_sees_only_themselves(served):
    me = Principal("stu", "student", learner_id=served.student)
    assert data.learners(served.serving, me)["learner_id"].to_list() == [served.student]
    assert data.competency(served.serving, me)["learner_id"].to_list() == [served.student]
    assert data.learner(served.serving, me, served.other_learner).is_empty()
    board = data.leaderboard(served.serving, me)
    named = board.filter(pl.col("display_name").is_not_null())
    assert named["is_me"].all() and named.height == 1, "only their own name on the leaderboard"
    files, quarantine = data.data_health(served.serving, me)
    assert files.is_empty() and quarantine.is_empty()
    assert data.refused_files(served.serving, me).is_empty()
    assert data.mentor_reviews(served.serving, me).is_empty()
    assert data.disputed_labels(served.serving, me).is_empty()
    assert data.points(served.serving, me)["learner_id"].to_list() == [served.student]
    assert data.rubric_categories(served.serving, me).is_empty()
    assert data.tool_usage(served.serving, me).is_empty()
    assert data.stage_time(served.serving, me).is_empty()
    assert set(data.path_steps(served.serving, me)["learner_id"]) == {served.student}
    for read in (data.rubric_feedback, data.mentor_feedback):
        assert set(read(served.serving, me)["learner_id"]) <= {served.student}


def test_rubric_categories_count_the_organizations_own_scores(served):
    """The supervisor's rubric view sums their learners' scores only: it equals the per-learner
    mart summed over the organization's learners, and differs from the whole program."""

    sup = Principal("sup", "supervisor", org_id=served.org)
    theirs = data.rubric_categories(served.serving, sup)
    everyone = data.rubric_categories(served.serving, Principal("a", "admin"))
    with connect(data.snapshot(served.serving)) as con:
        expected = dict(
            con.execute(
                "select rubric_category, sum(n_scores) from marts.learner_rubric_scores"
                " join marts.learner_readiness using (learner_id) where org_id = ? group by 1",
                [served.org],
            ).fetchall()
        )
    got = theirs.group_by("rubric_category").agg(pl.col("n_scores").sum())
    assert dict(got.iter_rows()) == expected
    assert theirs["n_scores"].sum() < everyone["n_scores"].sum()


def test_mission_outcomes_count_the_organizations_own_attempts(served):
    """The outcome charts read per-organization sums: they equal the supervisor's learners'
    attempts counted straight from the fact, and a learner's equal their own attempts."""

    sup = Principal("sup", "supervisor", org_id=served.org)
    me = Principal("stu", "student", learner_id=served.student)
    with connect(data.snapshot(served.serving)) as con:

        def counted(where: str, value: str) -> dict:
            rows = con.execute(
                "select track, tier, difficulty, count(*) filter (where is_decided),"
                " count(*) filter (where is_passed) from marts.fct_mission_attempts"
                " join marts.learner_readiness using (learner_id)"
                f" where {where} = ? group by all having count(*) filter (where is_decided) > 0",
                [value],
            ).fetchall()
            return {(t, tier, d): (n, p) for t, tier, d, n, p in rows}

        expected_sup = counted("org_id", served.org)
        expected_me = counted("learner_id", served.student)
        n_sup_attempts = con.execute(
            "select count(*) from marts.fct_mission_attempts join marts.learner_readiness"
            " using (learner_id) where org_id = ?",
            [served.org],
        ).fetchall()[0][0]

    def shown(frame):
        return {
            (r["track"], r["tier"], r["difficulty"]): (r["n_decided"], r["n_passed"])
            for r in frame.iter_rows(named=True)
        }

    assert shown(data.difficulty_performance(served.serving, sup)) == expected_sup
    assert shown(data.difficulty_performance(served.serving, me)) == expected_me
    assert data.mission_statuses(served.serving, sup)["n_attempts"].sum() == n_sup_attempts


@pytest.mark.parametrize(
    "principal",
    [
        Principal("x", "supervisor", org_id="' or '1'='1"),
        Principal("x", "supervisor", org_id=None),
        Principal("x", "student", learner_id="' or 1=1 --"),
        Principal("x", "student", learner_id=None),
        Principal("x", "superuser", org_id="ORG01"),
        Principal(
            "x", "supervisor", learner_id="L0000001"
        ),  # a learner id gives a supervisor nothing
    ],
)
def test_forged_or_malformed_scopes_see_nothing(served, principal):
    for read in SCOPED_READS:
        chosen = {"learner_id": served.student} if read in ONE_LEARNER_READS else {}
        assert getattr(data, read)(served.serving, principal, **chosen).is_empty(), read


@pytest.mark.parametrize("read", ONE_LEARNER_READS)
def test_naming_a_learner_out_of_scope_gives_nothing(served, read):
    """A supervisor's drill-down into another organization, and a student naming someone else:
    the learner id narrows the scope, never widens it."""
    sup = Principal("sup", "supervisor", org_id=served.org)
    assert getattr(data, read)(served.serving, sup, learner_id=served.other_learner).is_empty()
    me = Principal("pro", "student", learner_id=served.pro_student)
    theirs = getattr(data, read)(served.serving, me, learner_id=served.other_learner)
    assert set(theirs["learner_id"]) <= {served.pro_student}


def test_a_supervisor_naming_another_organization_gets_nothing(served):
    sup = Principal("sup", "supervisor", org_id=served.org)
    assert data.learners(served.serving, sup, org_id=served.other_org).is_empty()
    mine = data.learners(served.serving, sup)
    assert data.learners(served.serving, sup, org_id=served.org).equals(mine)


def test_an_admin_looks_at_one_organization_at_a_time(served):
    admin = Principal("a", "admin")
    one = data.learners(served.serving, admin, org_id=served.other_org)
    assert set(one["org_id"]) == {served.other_org}
    orgs = data.organizations(served.serving, admin)
    sizes = dict(orgs.select("org_id", "n_learners").iter_rows())
    assert sizes[served.other_org] == one.height
    assert sum(sizes.values()) == data.learners(served.serving, admin).height


def test_the_readiness_overview_counts_the_scope(served):
    sup = Principal("sup", "supervisor", org_id=served.org)
    overview = data.readiness_overview(served.serving, sup)
    mine = data.learners(served.serving, sup)
    assert overview["n_learners"].sum() == mine.height
    assert overview["n_at_risk"].sum() == mine["at_risk"].sum()


def test_the_csv_export_neutralizes_formulas():
    frame = pl.DataFrame(
        {
            "name": ['=HYPERLINK("x")', "+1", "-2", "@cmd", "plain"],
            "reasons": [["=1+1"], [], ["ok"], [], []],
            "n": [1, 2, 3, 4, 5],
        }
    )
    text = safe_csv(frame).decode()
    assert "'=HYPERLINK" in text and "'+1" in text and "'-2" in text and "'@cmd" in text
    assert "'=1+1" in text and "\nplain," in text
