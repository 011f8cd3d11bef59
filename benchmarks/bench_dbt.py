"""dbt: a full build of a large warehouse, then an incremental build after one more day of files.

Baseline, same run: the full `dbt build` (models and tests) of the warehouse with every day but
the last. Then the last day lands, is ingested (not timed), and `dbt build` runs again; its
time over the full build's is the ratio (goal: at most 0.1).

Then dbt's floor: the same two builds on a program too small for its data to cost anything
(FLOOR_LEARNERS x FLOOR_WEEKS). That incremental build is what starting dbt and running the
project's nodes (models, data tests, unit tests) costs whatever the data: no incremental
design can go under it.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from pipelines.defs.transform.project import run_dbt
from pipelines.runner import run_all
from pipelines.synthetic.generator import GenerateOptions, generate

GOAL_RATIO = 0.1
FLOOR_LEARNERS, FLOOR_WEEKS = 300, 3
SHOW_SLOWEST = 6
START = dt.date(2026, 1, 5)


def _dbt_build(warehouse: Path, workdir: Path) -> float:
    started = time.perf_counter()
    run_dbt(
        ["build", "--quiet"],
        warehouse,
        workdir,
        timeout_s=None,
        check=True,
        capture_output=False,
        text=False,
    )
    seconds = time.perf_counter() - started
    run_results = json.loads((workdir / "target" / "run_results.json").read_text())
    results = run_results["results"]
    node_seconds = {"model": 0.0, "test": 0.0}
    for r in results:
        kind = "model" if r["unique_id"].startswith("model.") else "test"
        node_seconds[kind] += r["execution_time"]
    slowest = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:SHOW_SLOWEST]
    named = [f"{r['unique_id'].split('.')[-1]} {r['execution_time']:.1f} s" for r in slowest]
    print(
        f"  dbt build {seconds:.1f} s, {run_results['elapsed_time']:.1f} s of it running nodes"
        f" (node time: models {node_seconds['model']:.1f} s, tests {node_seconds['test']:.1f} s)"
    )
    print("  slowest nodes: " + ", ".join(named))
    return seconds


def _full_then_one_day(learners: int, weeks: int, workdir: Path) -> tuple[float, float]:
    """(full build, incremental build after one more day) of a program built in `workdir`."""
    landing, warehouse = workdir / "dbt-landing", workdir / "dbt-warehouse.duckdb"
    last_day = START + dt.timedelta(weeks=weeks, days=-1)
    options = dict(out=landing, learners=learners, seed=2, start_date=START)
    generate(GenerateOptions(**options, until=last_day - dt.timedelta(days=1)))
    run_all(landing, warehouse, ingestion_only=True)
    full = _dbt_build(warehouse, workdir)

    generate(GenerateOptions(**options, until=last_day))  # adds the last day's files only
    run_all(landing, warehouse, ingestion_only=True)
    return full, _dbt_build(warehouse, workdir)


def run(learners: int, weeks: int, workdir: Path) -> tuple[Path, Path]:
    """Returns the warehouse and landing folder it built, for the dashboards benchmark."""
    full, incremental = _full_then_one_day(learners, weeks, workdir)
    print(f"dbt: {learners:,} learners x {weeks} weeks, then one more day")
    print(f"  full build                     {full:6.1f} s")
    print(f"  incremental build (one day)    {incremental:6.1f} s")
    print(f"  ratio incremental / full       {incremental / full:.2f}  (goal at most {GOAL_RATIO})")

    print(f"dbt's floor: the same on {FLOOR_LEARNERS} learners x {FLOOR_WEEKS} weeks")
    floor_dir = workdir / "dbt-floor"
    floor_dir.mkdir(exist_ok=True)
    _, floor = _full_then_one_day(FLOOR_LEARNERS, FLOOR_WEEKS, floor_dir)
    print(f"  incremental build (one day)    {floor:6.1f} s")
    print(f"  floor / full build above       {floor / full:.2f}")
    return workdir / "dbt-warehouse.duckdb", workdir / "dbt-landing"
