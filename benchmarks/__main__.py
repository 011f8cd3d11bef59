"""Run every benchmark: `python -m benchmarks [--learners N] [--weeks W]`."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks import bench_dashboards, bench_dbt, bench_engine, bench_generate, bench_ingest


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
    parser.add_argument("--only", choices=["engine", "dashboards"], help="run one benchmark only")
    parser.add_argument(
        "--warehouse", type=Path, help="with --only dashboards: an existing warehouse to serve"
    )
    args = parser.parse_args()
    if args.only == "engine":
        bench_engine.run()
        return
    if args.only == "dashboards":
        warehouse = args.warehouse or Path("data/warehouse.duckdb")
        bench_dashboards.run(warehouse, warehouse.parent / "landing")
        return
    bench_engine.run()
    with tempfile.TemporaryDirectory(prefix="cohortlens-bench-") as tmp:
        landing = bench_generate.run(args.learners, args.weeks, Path(tmp))
        bench_ingest.run(landing, Path(tmp))
        warehouse, dbt_landing = bench_dbt.run(args.dbt_learners, args.weeks, Path(tmp))
        bench_dashboards.run(warehouse, dbt_landing)


if __name__ == "__main__":
    main()
