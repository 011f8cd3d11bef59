"""Every landed file matches the landing-zone contract of PRODUCT.md section 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from pipelines.synthetic.generator import REFERENCE_COLUMNS

FILE_NAME = re.compile(r"^(mission_progress|assessment_attempts|xapi)_(\d{4}-\d{2}-\d{2})\.jsonl$")
PROGRESS_KEYS = [
    "progress_id",
    "learner_id",
    "mission_id",
    "attempt_number",
    "status",
    "final_status",
    "mentor_score",
    "subtask_scores",
    "rubric_scores",
    "time_per_stage",
    "tools_used",
    "hints_used",
    "drop_off_stage",
    "reflection_submitted",
    "started_at",
    "submitted_at",
    "mentor_reviewed_at",
    "deadline_at",
    "updated_at",
]
ATTEMPT_KEYS = [
    "attempt_id",
    "learner_id",
    "assessment_id",
    "attempt_number",
    "status",
    "started_at",
    "submitted_at",
    "graded_at",
    "score",
    "percentage",
    "time_spent_minutes",
    "answers",
]
STATUSES = {
    "not_started",
    "in_progress",
    "submitted",
    "ai_reviewed",
    "mentor_review",
    "revision_requested",
    "approved",
    "rejected",
}
PHASES = ["investigation", "decision_making", "design_remediation", "reporting", "presentation"]


def read_reference(landing: Path, name: str) -> pl.DataFrame:
    folder = landing / "reference"
    csv = folder / f"{name}.csv"
    return (
        pl.read_csv(csv, try_parse_dates=True)
        if csv.exists()
        else pl.read_parquet(folder / f"{name}.parquet")
    )


def records(landing: Path, source: str) -> list[tuple[str, dict]]:
    out = []
    for path in sorted((landing / source).glob("*.jsonl")):
        match = FILE_NAME.match(path.name)
        assert match and match.group(1) == source, path.name
        out += [(match.group(2), json.loads(line)) for line in path.read_text().splitlines()]
    return out


@pytest.fixture(scope="module")
def ref(small_batch):
    return {name: read_reference(small_batch.landing, name) for name in REFERENCE_COLUMNS}


def test_reference_snapshots_have_exactly_the_contract_columns(ref):
    for name, columns in REFERENCE_COLUMNS.items():
        assert ref[name].columns == columns, name
    assert (ref["questions"].height > 0) and (ref["learners"].height == 400)


def test_missions_cover_every_track_tier_and_difficulty_with_capstones(ref):
    m = ref["missions"]
    assert m["tier"].unique().sort().to_list() == [
        "advanced",
        "beginner",
        "intermediate",
        "mastery",
    ]
    for track, group in m.group_by("track"):
        assert set(group["difficulty"]) == {1, 2, 3, 4, 5}, track
        capstones = group.filter(pl.col("mission_type") == "capstone")
        assert capstones["tier"].to_list() == ["mastery"]
    assert m["time_constraint_hours"].is_between(1, 168).all()
    assert m["subtask_count"].is_between(1, 8).all()
    weights = m.select(pl.sum_horizontal(pl.col("^weight_.*$"))).to_series()
    assert ((weights - 1).abs() < 1e-9).all()
    assert set(m["required"].unique()) == {True, False}


def test_reference_enumerations_and_keys_hold(ref):
    learners, cohorts = ref["learners"], ref["cohorts"]
    assert set(learners["subscription_tier"]) <= {"free", "starter3", "professional7"}
    assert set(learners["subscription_tier"]) == {"free", "starter3", "professional7"}
    joined = learners.join(cohorts, on="cohort_id", suffix="_cohort")
    assert joined.height == learners.height and (joined["org_id"] == joined["org_id_cohort"]).all()
    assert (cohorts["target_mastery_date"] > cohorts["start_date"]).all()
    assert set(ref["assessments"]["assessment_type"]) <= {
        "quiz",
        "practical",
        "project",
        "supervised_practice",
    }
    assert ref["assessments"]["passing_score"].is_between(0, 1).all()
    q = ref["questions"]
    assert set(q["competency_domain"]) == {"knowledge", "skills", "application", "ethics"}
    assert set(q["difficulty_level"]) == {"beginner", "intermediate", "advanced"}
    assert set(q["assessment_id"]) <= set(ref["assessments"]["assessment_id"])
    assert set(ref["assessments"]["module_id"]) <= set(ref["modules"]["module_id"])


def test_every_event_lies_on_the_day_its_file_is_named_for(small_batch):
    stamp = {"mission_progress": "updated_at", "xapi": "timestamp"}
    for source, field in stamp.items():
        for day, record in records(small_batch.landing, source):
            assert record[field].startswith(day)
    for day, record in records(small_batch.landing, "assessment_attempts"):
        assert (record["graded_at"] or record["started_at"]).startswith(day)


def test_mission_progress_records_match_the_contract(small_batch, ref):
    missions = {r["mission_id"]: r for r in ref["missions"].to_dicts()}
    learners = set(ref["learners"]["learner_id"])
    for _, r in records(small_batch.landing, "mission_progress"):
        mission = missions[r["mission_id"]]
        capstone = mission["mission_type"] == "capstone"
        assert (
            list(r)
            == PROGRESS_KEYS[:14] + (["capstone_phases"] if capstone else []) + PROGRESS_KEYS[14:]
        )
        assert r["learner_id"] in learners
        assert r["status"] in STATUSES
        assert r["final_status"] == {"approved": "pass", "rejected": "fail"}.get(
            r["status"], "pending"
        )
        assert r["mentor_score"] is None or 0 <= r["mentor_score"] <= 100
        assert set(r["subtask_scores"]) <= {str(k) for k in range(1, mission["subtask_count"] + 1)}
        assert all(0 <= v <= 100 for v in r["subtask_scores"].values())
        assert all(0 <= v <= 1 for v in r["rubric_scores"].values())
        assert r["drop_off_stage"] is None or 1 <= r["drop_off_stage"] <= mission["subtask_count"]
        if capstone:
            assert set(r["capstone_phases"]) <= set(PHASES)
            done = [r["capstone_phases"][p] for p in PHASES if p in r["capstone_phases"]]
            assert list(r["capstone_phases"]) == PHASES[: len(done)]  # phases complete in order
            assert done == sorted(done)


def test_assessment_attempts_match_the_contract_and_add_up(small_batch, ref):
    questions = ref["questions"]
    of_assessment = questions.group_by("assessment_id").agg("question_id", "points")
    expected = {r["assessment_id"]: r for r in of_assessment.to_dicts()}
    for _, r in records(small_batch.landing, "assessment_attempts"):
        assert list(r) == ATTEMPT_KEYS
        assert r["status"] in {"in_progress", "submitted", "graded"}
        if r["status"] == "graded":
            want = expected[r["assessment_id"]]
            assert [a["question_id"] for a in r["answers"]] == want["question_id"]
            assert abs(sum(a["points_earned"] for a in r["answers"]) - r["score"]) < 1e-6
            assert abs(100 * r["score"] / sum(want["points"]) - r["percentage"]) < 0.01
            assert 0 <= r["percentage"] <= 100


@pytest.mark.slow
def test_every_xapi_statement_validates_against_ralphs_model(small_batch, ref):
    learners = set(ref["learners"]["learner_id"])
    ids = set()
    statements = records(small_batch.landing, "xapi")
    assert len(statements) > 10_000
    for _, s in statements:
        BaseXapiStatement.model_validate(s)
        assert s["actor"]["account"]["name"] in learners
        ids.add(s["id"])
    assert len(ids) == len(statements)


def test_xapi_uses_adl_verbs_and_project_iris_for_the_rest(small_batch):
    con = duckdb.connect()
    verbs = {
        row[0]
        for row in con.execute(
            "select distinct verb.id from read_json(?, format='newline_delimited')",
            [str(small_batch.landing / "xapi" / "*.jsonl")],
        ).fetchall()
    }
    adl = {v.rsplit("/", 1)[1] for v in verbs if v.startswith("http://adlnet.gov/expapi/verbs/")}
    assert adl == {
        "initialized",
        "terminated",
        "launched",
        "progressed",
        "completed",
        "passed",
        "failed",
        "attempted",
        "answered",
        "experienced",
    }
    assert {
        v.rsplit("/", 1)[1]
        for v in verbs
        if v not in {f"http://adlnet.gov/expapi/verbs/{a}" for a in adl}
    } == {"hint-requested", "tool-used"}
