"""Tools, time per stage and the ideal path: the marts agree with a computation straight from
the landing files, and find what the generator planted (truth/missions.parquet, learners)."""

from __future__ import annotations

import json
import math

import duckdb
import numpy as np
import polars as pl

from pipelines.contract import MISSION_STATUSES


def _mart(warehouse, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


def _current_attempts(landing) -> pl.DataFrame:
    """Each mission attempt's latest version, read from the landing files."""
    rows = [
        {
            "progress_id": v["progress_id"],
            "mission_id": v["mission_id"],
            "status": v["status"],
            "final_status": v["final_status"],
            "updated_at": v["updated_at"],
            "drop_off_stage": v.get("drop_off_stage"),
            "tools_used": v.get("tools_used") or [],
            "time_per_stage": json.dumps(v.get("time_per_stage") or {}),
        }
        for path in sorted((landing / "mission_progress").glob("*.jsonl"))
        for v in map(json.loads, path.read_text().splitlines())
    ]
    return (
        pl.DataFrame(rows, infer_schema_length=None)
        .with_columns(
            rank=pl.col("status").replace_strict(
                {s: i for i, s in enumerate(MISSION_STATUSES)}, return_dtype=pl.Int32
            )
        )
        .sort(["updated_at", "rank"], descending=True)
        .unique("progress_id", keep="first")
    )


def test_tool_usage_matches_a_recomputation_from_the_landing_files(built_program):
    decided = _current_attempts(built_program.landing).filter(
        pl.col("final_status").is_in(["pass", "fail"])
    )
    rows = []
    for (mission,), group in decided.group_by("mission_id"):
        passed = (group["final_status"] == "pass").to_numpy()
        tools = [set(t or []) for t in group["tools_used"].to_list()]
        for tool in set().union(*tools):
            uses = np.array([tool in t for t in tools])
            n, n_passed = len(uses), int(passed.sum())
            with_tool = int(uses.sum())
            z = None
            if 0 < n_passed < n:
                pooled = with_tool / n
                se = math.sqrt(pooled * (1 - pooled) * (1 / n_passed + 1 / (n - n_passed)))
                diff = uses[passed].mean() - uses[~passed].mean()
                z = round(diff / se, 3) if se else None
            rows.append((mission, tool, n, with_tool, int((uses & passed).sum()), z))
    expected = pl.DataFrame(
        rows,
        schema=["mission_id", "tool", "n_decided", "n_with_tool", "n_passed_with_tool", "z"],
        orient="row",
    ).sort("mission_id", "tool")
    mart = _mart(
        built_program.warehouse,
        "select mission_id, tool, n_decided, n_with_tool, n_passed_with_tool,"
        " use_difference_z as z, is_flagged from marts.mission_tool_usage",
    ).sort("mission_id", "tool")

    assert mart.select(expected.columns[:5]).equals(
        expected.select(expected.columns[:5]).cast(mart.select(expected.columns[:5]).schema)
    )
    assert np.allclose(
        mart["z"].fill_null(np.nan).to_numpy(),
        expected["z"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        atol=2e-3,
        equal_nan=True,
    )
    assert mart["is_flagged"].to_list() == [
        z is not None and abs(z) >= 3.29 for z in mart["z"].to_list()
    ]


def test_stage_times_match_a_recomputation_from_the_landing_files(built_program):
    attempts = _current_attempts(built_program.landing)
    rows = []
    for drop_off, mission, stages in attempts.select(
        "drop_off_stage", "mission_id", "time_per_stage"
    ).iter_rows():
        for stage, minutes in json.loads(stages or "{}").items():
            rows.append((mission, int(stage), float(minutes), drop_off == int(stage)))
    frame = pl.DataFrame(rows, schema=["mission_id", "stage", "minutes", "dropped"], orient="row")
    expected = (
        frame.group_by("mission_id", "stage")
        .agg(
            n_reached=pl.len(),
            median_minutes=pl.col("minutes").median().round(3),
            p90_minutes=pl.col("minutes").quantile(0.9, interpolation="linear").round(3),
            n_dropped_here=pl.col("dropped").sum(),
        )
        .sort("mission_id", "stage")
    )
    mart = _mart(
        built_program.warehouse,
        "select mission_id, stage, n_reached, median_minutes, p90_minutes, n_dropped_here"
        " from marts.mission_stage_time",
    ).sort("mission_id", "stage")
    assert mart.select("mission_id", "stage", "n_reached", "n_dropped_here").equals(
        expected.select("mission_id", "stage", "n_reached", "n_dropped_here").cast(
            {"stage": pl.Int32, "n_reached": pl.Int64, "n_dropped_here": pl.Int64}
        )
    )
    for column in ("median_minutes", "p90_minutes"):
        assert np.allclose(mart[column].to_numpy(), expected[column].to_numpy(), atol=1e-3)


def test_the_planted_key_tools_and_heavy_stages_are_found(built_program):
    truth = pl.read_parquet(built_program.landing.parent / "truth" / "missions.parquet")
    tools = _mart(
        built_program.warehouse,
        "select mission_id, tool, is_flagged, n_decided - n_passed_with_tool"
        " - (n_without_tool - n_passed_without_tool) as n_failed,"
        " n_passed_with_tool + n_passed_without_tool as n_passed"
        " from marts.mission_tool_usage",
    ).join(truth.select("mission_id", "key_tool", "heavy_stage"), on="mission_id")
    flagged = tools.filter("is_flagged")
    key = flagged["tool"] == flagged["key_tool"]
    assert key.mean() >= 0.9, f"{(~key).sum()} of {len(flagged)} flags are not planted tools"
    testable = tools.filter(
        (pl.col("tool") == pl.col("key_tool"))
        & (pl.col("n_passed") >= 15)
        & (pl.col("n_failed") >= 15)
    )
    assert len(testable) >= 8
    assert testable["is_flagged"].mean() >= 0.8, "the planted tools of well-sampled missions"

    stages = _mart(
        built_program.warehouse,
        "select mission_id, stage, n_dropped_here, is_time_sink_losing_learners as flagged"
        " from marts.mission_stage_time",
    ).join(truth.select("mission_id", "heavy_stage"), on="mission_id")
    found = stages.filter("flagged")
    assert (found["stage"] == found["heavy_stage"]).all(), "every stage found was planted"
    # The planted stages that lost enough learners to tell (5, the flag's minimum) are found.
    telling = stages.filter(
        (pl.col("stage") == pl.col("heavy_stage")) & (pl.col("n_dropped_here") >= 5)
    )
    assert len(telling) >= 5 and telling["flagged"].mean() >= 0.8, telling


def test_learners_who_take_missions_out_of_order_are_found(built_program):
    truth = pl.read_parquet(built_program.landing.parent / "truth" / "learners.parquet")
    path = _mart(
        built_program.warehouse,
        "select learner_id, n_out_of_order, out_of_order_steps from marts.learner_path_comparison",
    ).join(truth.select("learner_id", "out_of_order"), on="learner_id")
    found = path.group_by("out_of_order").agg(share=(pl.col("n_out_of_order") > 0).mean())
    share = dict(found.iter_rows())
    # Others leave the order too (a module before a mission, a retry): twice as rarely.
    assert share[True] >= 0.5 and share[True] >= 2 * share[False], share
    # What they did out of order is a tier's third mission, done before its second.
    steps = path.filter("out_of_order").explode("out_of_order_steps")["out_of_order_steps"]
    assert steps.drop_nulls().str.ends_with("-03").mean() >= 0.5
