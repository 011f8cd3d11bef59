"""Ingest throughput of xAPI statements, against DuckDB's own read_json of the same files.

Baseline, same run: `create table bare as select * from read_json(...)` into a fresh database
file (parse, infer, store; no checks, no original JSON, no audit), timed before and after ours.
Ours: the loader, every rule checked, the original JSON kept, each file whole inside one
transaction (a batch's).

Then the floor under ours, same run: reading the files as the loader does (hash, UTF-8,
lines), and, from those lines in memory with nothing checked, DuckDB storing the original JSON
alone and DuckDB parsing each statement straight into the raw table's typed columns beside its
original JSON. What the rules and the exactly-once bookkeeping may cost is the time left
between that floor and the goal.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.ingest.fields import _path_keys, sql_string
from pipelines.ingest.landing import discover
from pipelines.ingest.loader import READ_THREADS, Loader, _read
from pipelines.ingest.sources import REFERENCE_SOURCES, XAPI, raw_ddl
from pipelines.warehouse import SCHEMA_DDL, open_writer

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

    # The bare read runs before and after ours and counts as their mean: the machine's speed
    # drifts within a run (one bare read alone swung the ratio by 0.1 between runs).
    bare_before, statements = _bare_read(files, workdir)
    ours_seconds, loaded = _ours(landing, workdir)
    bare_after, _ = _bare_read(files, workdir)
    bare_seconds = (bare_before + bare_after) / 2

    bare_rate, ours_rate = statements / bare_seconds, loaded / ours_seconds
    ratio = ours_rate / bare_rate
    print(f"ingest: {len(files)} xAPI files, {statements:,} statements")
    print(
        f"  DuckDB read_json, bare table   {bare_seconds:6.1f} s  {bare_rate:10,.0f} statements/s"
        f"  (before ours {bare_before:.1f} s, after {bare_after:.1f} s)"
    )
    print(
        f"  cohortlens ingest (checked)    {ours_seconds:6.1f} s  {ours_rate:10,.0f} statements/s"
    )
    print(f"  ratio ours / bare              {ratio:.2f}  (goal at least {GOAL_RATIO})")
    _floor(landing, workdir, bare_seconds, ours_seconds)


def _bare_read(files: list[str], workdir: Path) -> tuple[float, int]:
    """Seconds for DuckDB's own read_json of `files` into a fresh table, and its row count."""
    with _fresh_database(workdir / "bare.duckdb") as con:
        started = time.perf_counter()
        con.execute(
            "create table bare as select * from read_json(?, format = 'newline_delimited')", [files]
        )
        con.execute("checkpoint")
        seconds = time.perf_counter() - started
        return seconds, con.execute("select count(*) from bare").fetchone()[0]


def _ours(landing: Path, workdir: Path) -> tuple[float, int]:
    """Seconds for the loader to load every statement into a fresh warehouse, and how many."""
    warehouse = workdir / "warehouse.duckdb"
    for stale in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        stale.unlink(missing_ok=True)  # a kept --workdir would otherwise find nothing new
    with open_writer(warehouse) as con:
        loader = Loader(con, landing)
        loader.load(list(REFERENCE_SOURCES))  # not timed: the ids statements are checked against
        started = time.perf_counter()
        outcomes = loader.load([XAPI])
        con.execute("checkpoint")
        seconds = time.perf_counter() - started
    return seconds, sum(o.rows_loaded for o in outcomes)


def _floor(landing: Path, workdir: Path, bare_seconds: float, ours_seconds: float) -> None:
    """Print the floor under any load that keeps each statement's original JSON."""
    started = time.perf_counter()
    lines = _lines(landing)
    read_seconds = time.perf_counter() - started
    kept_seconds = _timed_insert(
        workdir,
        "create table t (statement varchar not null using compression zstd)",
        "insert into t select line from lines",
        lines,
    )
    parsed_seconds = _timed_insert(
        workdir, f"{SCHEMA_DDL}\n{raw_ddl()}", _unchecked_insert(), lines
    )
    goal_seconds = bare_seconds / GOAL_RATIO
    left = goal_seconds - parsed_seconds - read_seconds
    print(f"  floor under ours ({len(lines):,} lines; nothing checked):")
    for what, seconds in (
        (f"reading (sha256, UTF-8, lines; {READ_THREADS} threads)", read_seconds),
        ("DuckDB storing the original JSON alone", kept_seconds),
        ("DuckDB parsing to the raw columns beside it", parsed_seconds),
    ):
        print(f"    {what:46s} {seconds:6.1f} s  ({seconds / bare_seconds:.2f} x bare)")
    print(
        f"    at the goal ({goal_seconds:.1f} s), every rule and the exactly-once bookkeeping"
        f" would have {left:.1f} s; ours spend {ours_seconds - parsed_seconds - read_seconds:.1f} s"
    )


def _lines(landing: Path) -> pa.Table:
    """Every xAPI line, read as the loader reads it: hashed, checked as UTF-8, split."""
    landed = [f for f in discover(landing) if f.name.startswith("xapi/")]
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        reads = list(pool.map(lambda item: _read(item[0], item[1], XAPI), enumerate(landed)))
    return pa.concat_tables([r.table for r in reads if r.table is not None])


def _unchecked_insert() -> str:
    """Each line parsed once, straight to the raw table's types, with its original JSON."""
    stored = [(f, _path_keys(f.path or f"$.{f.name}")) for f in XAPI.fields if f.stored]
    structure: dict = {}
    values = []
    for field, keys in stored:
        node = structure
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = field.sql_type.upper()  # json_transform parses to the column's type
        expression = "doc"
        for key in keys:
            expression = f"struct_extract({expression}, {sql_string(key)})"
        values.append(expression)
    columns = [f'"{f.name}"' for f, _ in stored] + [f'"{name}"' for name, _, _ in XAPI.computed]
    values += ["null"] * len(XAPI.computed)
    document = f"json_transform(line, {sql_string(json.dumps(structure))})"
    return (
        f'insert into {XAPI.qualified_table} ({", ".join(columns)}, "{XAPI.original}",'
        f" file_id, record_number) select {', '.join(values)}, line, file_seq, record_number"
        f" from (select *, {document} as doc from lines)"
    )


def _timed_insert(workdir: Path, ddl: str, insert: str, lines: pa.Table) -> float:
    """Seconds to run `insert` from `lines` into a fresh database file, checkpoint included."""
    with _fresh_database(workdir / "floor.duckdb") as con:
        con.execute(ddl)
        con.execute("set preserve_insertion_order = false")  # as the loader's insert
        con.register("lines", lines)
        started = time.perf_counter()
        con.execute(insert)
        con.execute("checkpoint")
        return time.perf_counter() - started


@contextlib.contextmanager
def _fresh_database(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a new database file at `path`, removed again afterwards."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        yield con
    finally:
        con.close()
        path.unlink(missing_ok=True)
