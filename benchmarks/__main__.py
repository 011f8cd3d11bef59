"""Run every benchmark: `python -m benchmarks [--learners N] [--weeks W]`."""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from pathlib import Path

from benchmarks import (
    bench_backtest,
    bench_dashboards,
    bench_dask,
    bench_dbt,
    bench_engine,
    bench_generate,
    bench_ingest,
    bench_lrs,
    bench_triage,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--learners",
        type=int,
        default=20_000,
        help="learners in the generated program (default 20,000)",
    )
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument(
        "--dbt-learners",
        type=int,
        default=100_000,
        help="learners in the dbt full-vs-incremental benchmark (default 100,000; about 40 min)",
    )
    parser.add_argument(
        "--only",
        choices=["engine", "dask", "dbt", "dashboards", "triage", "lrs", "backtest"],
        help="run one benchmark only (dbt: then the dashboards on its warehouse)",
    )
    parser.add_argument(
        "--warehouse", type=Path, help="with --only dashboards: an existing warehouse to serve"
    )
    parser.add_argument(
        "--dask-learners",
        type=int,
        default=200_000,
        help="learners in the forecast on Dask clusters of 1 and 2 workers (default 200,000)",
    )
    parser.add_argument("--workdir", type=Path, help="keep the generated files and warehouses here")
    args = parser.parse_args()
    if args.only == "engine":
        bench_engine.run()
        return
    if args.only == "dask":
        bench_dask.run(args.dask_learners)
        return
    if args.only == "lrs":
        bench_lrs.run(args.workdir)
        return
    if args.only == "backtest":
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cohortlens-backtest-"))
        bench_backtest.run(workdir)
        return
    if args.only == "triage":
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cohortlens-triage-"))
        bench_triage.run(workdir)
        return
    if args.only == "dashboards":
        warehouse = args.warehouse or Path("data/warehouse.duckdb")
        bench_dashboards.run(warehouse, warehouse.parent / "landing")
        return
    if args.only != "dbt":
        bench_engine.run()
        bench_dask.run(args.dask_learners)
    with contextlib.ExitStack() as stack:
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            workdir = args.workdir
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cohortlens-")))
        if args.only != "dbt":
            landing = bench_generate.run(args.learners, args.weeks, workdir)
            bench_ingest.run(landing, workdir)
            bench_triage.run(workdir)
            bench_lrs.run(workdir / "lrs")
        warehouse, dbt_landing = bench_dbt.run(args.dbt_learners, args.weeks, workdir)
        bench_dashboards.run(warehouse, dbt_landing)


if __name__ == "__main__":
    main()
