"""The marts, built by dbt through Dagster, agree with an independent computation straight from
the landing files; an analyst's plain `dbt build` passes against the same warehouse."""

from __future__ import annotations

import os
import shutil
import subprocess

import duckdb
import polars as pl
import pytest

from pipelines.contract import MISSION_STATUSES
from pipelines.defs.transform.project import DBT_DIR, DBT_EXECUTABLE


def _mart(warehouse, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


def test_every_dbt_model_and_test_passed_in_the_run(built_program):
    report = built_program.report
    assert report.ok, report.error
    assert {
        "marts/fct_mission_attempts",
        "marts/fct_assessment_attempts",
        "marts/mission_difficulty_performance",
    } <= set(report.models)
    dbt_checks = [c for c in report.checks if not c.asset.startswith(("raw/", "audit/"))]
    assert dbt_checks and all(c.passed for c in dbt_checks)
    # Singular tests reading two models show as checks of the model their meta names.
    assert {
        (
            "intermediate/int_learner_days_aggregated",
            "every_statement_counted_by_the_daily_aggregates",
        ),
        ("marts/org_mission_outcomes", "org_mission_outcomes_count_every_attempt"),
    } <= {(c.asset, c.name) for c in dbt_checks}


def test_pass_rates_by_difficulty_match_a_recomputation_from_the_landing_files(built_program):
    progress = pl.concat(
        pl.read_ndjson(path, infer_schema_length=None).select(
            "progress_id", "mission_id", "status", "final_status", "attempt_number", "updated_at"
        )
        for path in sorted((built_program.landing / "mission_progress").glob("*.jsonl"))
    )
    current = (
        progress.with_columns(
            rank=pl.col("status").replace_strict(
                {s: i for i, s in enumerate(MISSION_STATUSES)}, return_dtype=pl.Int32
            )
        )
        .sort(["updated_at", "rank"], descending=True)
        .unique("progress_id", keep="first")
    )
    missions = pl.read_csv(built_program.landing / "reference" / "missions.csv")
    expected = (
        current.join(missions.select("mission_id", "track", "tier", "difficulty"), on="mission_id")
        .group_by("track", "tier", "difficulty")
        .agg(
            n_attempts=pl.len(),
            n_decided=pl.col("final_status").is_in(["pass", "fail"]).sum(),
            n_passed=(pl.col("final_status") == "pass").sum(),
        )
        .with_columns(pl.col("difficulty").cast(pl.Int32), pl.col("^n_.*$").cast(pl.Int64))
        .sort("track", "tier", "difficulty")
    )
    mart = _mart(
        built_program.warehouse,
        "select track, tier, difficulty, n_attempts, n_decided, n_passed, pass_rate,"
        " pass_rate_ci_low, pass_rate_ci_high from marts.mission_difficulty_performance",
    ).sort("track", "tier", "difficulty")

    assert mart.select(expected.columns).equals(expected)
    rate = (expected["n_passed"] / expected["n_decided"]).round(6)
    assert (mart["pass_rate"] - rate).abs().max() < 1e-9
    inside = (mart["pass_rate_ci_low"] <= mart["pass_rate"]) & (
        mart["pass_rate"] <= mart["pass_rate_ci_high"]
    )
    assert inside.all()


def test_assessment_passes_match_a_recomputation_from_the_landing_files(built_program):
    attempts = pl.concat(
        pl.read_ndjson(path, infer_schema_length=None).select(
            "attempt_id", "assessment_id", "status", "percentage"
        )
        for path in sorted((built_program.landing / "assessment_attempts").glob("*.jsonl"))
    )
    marks = pl.read_csv(built_program.landing / "reference" / "assessments.csv")
    expected = (
        attempts.join(marks.select("assessment_id", "passing_score"), on="assessment_id")
        .filter(
            (pl.col("status") == "graded") & (pl.col("percentage") >= 100 * pl.col("passing_score"))
        )
        .height
    )
    mart = _mart(
        built_program.warehouse,
        "select count(*) filter (is_passed) as passed, count(*) as n"
        " from marts.fct_assessment_attempts",
    )
    assert mart["passed"][0] == expected
    assert mart["n"][0] == attempts.height


@pytest.mark.slow
def test_an_analysts_plain_dbt_build_passes(built_program, tmp_path):
    warehouse = tmp_path / "copy.duckdb"
    shutil.copy(built_program.warehouse, warehouse)
    env = {**os.environ, "COHORTLENS_WAREHOUSE": str(warehouse)}
    done = subprocess.run(
        [
            DBT_EXECUTABLE,
            "build",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        cwd=DBT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "ERROR=0" in done.stdout


def test_item_analysis_tracks_the_generators_hidden_question_truth(built_program, small_batch):
    truth = pl.read_parquet(small_batch.truth / "questions.parquet")
    items = _mart(
        built_program.warehouse,
        "select question_id, proportion_correct, point_biserial"
        " from marts.question_item_analysis where n_answers >= 30",
    ).join(truth, on="question_id")
    harder_is_rarer = items.select(
        pl.corr("true_difficulty", "proportion_correct", method="spearman")
    ).item()
    assert harder_is_rarer < -0.2
    # On 400 learners the per-item correlation with the true discrimination is noise; the
    # items do discriminate on average.
    assert items["point_biserial"].mean() > 0
