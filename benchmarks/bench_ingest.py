"""Ingest throughput of xAPI statements, against DuckDB's own read_json of the same files.

Baseline, same run: `create table bare as select * from read_json(...)` into a fresh database
file (parse, infer, store; no checks, no original JSON, no audit). Ours: the loader, every rule
checked, the original JSON kept, each file whole inside one transaction (a batch's).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from pipelines.ingest.loader import Loader
from pipelines.ingest.sources import REFERENCE_SOURCES, XAPI
from pipelines.warehouse import open_writer

GOAL_RATIO = 0.5


def _warm_page_cache(files: list[str]) -> None:
    """Read every file once, so neither side is timed reading the disk: the baseline runs
    first, and files evicted from the page cache made it 2.5 times slower (26.0 s against
    10.5 s on 4.1 M statements), a ratio of 0.99 instead of 0.40."""
    for name in files:
        with open(name, "rb") as f:
            while f.read(1 << 24):
                pass


def run(landing: Path, workdir: Path) -> None:
    files = sorted(str(p) for p in (landing / "xapi").glob("xapi_*.jsonl*"))
    _warm_page_cache(files)

    bare_db = workdir / "bare.duckdb"
    con = duckdb.connect(str(bare_db))
    started = time.perf_counter()
    con.execute("create table bare as select * from read_json(?, format = 'newline_delimited')",
                [files])  # fmt: skip
    con.execute("checkpoint")
    bare_seconds = time.perf_counter() - started
    statements = con.execute("select count(*) from bare").fetchone()[0]
    con.close()
    bare_db.unlink()

    warehouse = workdir / "warehouse.duckdb"
    for stale in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        stale.unlink(missing_ok=True)  # a kept --workdir would otherwise find nothing new
    with open_writer(warehouse) as con:
        loader = Loader(con, landing)
        loader.load(list(REFERENCE_SOURCES))  # not timed: the ids statements are checked against
        started = time.perf_counter()
        outcomes = loader.load([XAPI])
        con.execute("checkpoint")
        ours_seconds = time.perf_counter() - started
    loaded = sum(o.rows_loaded for o in outcomes)

    bare_rate, ours_rate = statements / bare_seconds, loaded / ours_seconds
    ratio = ours_rate / bare_rate
    print(f"ingest: {len(files)} xAPI files, {statements:,} statements")
    print(
        f"  DuckDB read_json, bare table   {bare_seconds:6.1f} s  {bare_rate:10,.0f} statements/s"
    )
    print(
        f"  cohortlens ingest (checked)    {ours_seconds:6.1f} s  {ours_rate:10,.0f} statements/s"
    )
    print(f"  ratio ours / bare              {ratio:.2f}  (goal at least {GOAL_RATIO})")
