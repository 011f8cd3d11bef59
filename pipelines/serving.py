"""The dashboards' read-only snapshot, published beside the warehouse and swapped in atomically.

Dashboards never open the pipeline's file (PRODUCT.md section 5). After a run, the tables they
read — the marts, the forecasts, and the audit trail without record payloads — are copied
into a new DuckDB file under ``serving/``; ``serving/current.json`` is then replaced (one
rename) to point at it. A reader resolves the pointer and opens that file read-only, so a run
in progress never shows it an error or a half-built table. Older snapshots are kept for a
grace period so that connections opened just before a swap can finish.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .warehouse import open_writer

SERVED_SCHEMAS = ("marts", "forecasts")
POINTER = "current.json"
SCOPE_COLUMNS = ("learner_id", "org_id", "cohort_id")  # the first one a table has orders it
GRACE_SECONDS = 600.0  # an older snapshot lives this long after being replaced

# The audit trail as served: files and quarantine counts by reason, never the payloads.
AUDIT_TABLES = {
    "ingested_files": """
        select file_name, source, sha256, status, reason, rows_read, rows_loaded,
            rows_quarantined, rows_duplicate, ingested_at
        from audit.ingested_files
    """,
    "quarantine_by_reason": """
        select source, reason, count(*) as n_records, max(quarantined_at) as last_seen
        from audit.quarantine group by source, reason
    """,
}


@dataclass(frozen=True)
class Snapshot:
    path: Path
    published_at: dt.datetime


def publish(warehouse: Path, serving: Path | None = None) -> Snapshot:
    """Copy the served tables into a new snapshot and point ``current.json`` at it."""
    serving = serving or warehouse.parent / "serving"
    serving.mkdir(parents=True, exist_ok=True)
    published_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    name = f"snapshot-{published_at:%Y%m%dT%H%M%S%f}.duckdb"
    partial = serving / f".{name}.partial"
    partial.unlink(missing_ok=True)
    with open_writer(warehouse) as con:
        con.execute("set enable_progress_bar = false")  # sorting a large table would draw one
        con.execute(f"attach '{partial}' as snap")  # a path we made: no user input
        try:
            tables = con.sql(
                "select table_schema, table_name from information_schema.tables"
                " where table_catalog = current_database() and table_type = 'BASE TABLE'"
                f" and table_schema in {SERVED_SCHEMAS}"
            ).fetchall()
            for schema in {*SERVED_SCHEMAS, "audit", "meta"}:
                con.execute(f"create schema snap.{schema}")
            for schema, table in tables:
                order = _serving_order(con, schema, table)
                con.execute(
                    f'create table snap.{schema}."{table}" as'
                    f' select * from {schema}."{table}" {order}'
                )
            for table, query in AUDIT_TABLES.items():
                con.execute(f"create table snap.audit.{table} as {query}")
            con.execute(
                "create table snap.meta.snapshot as select ?::timestamp as published_at,"
                " ?::varchar as warehouse",
                [published_at, str(warehouse)],
            )
        finally:
            con.execute("detach snap")
    final = serving / name
    os.replace(partial, final)
    _write_pointer(serving, name, published_at)
    _prune(serving, keep=final)
    return Snapshot(final, published_at)


def _serving_order(con, schema: str, table: str) -> str:
    """Sort a served table by the column the dashboards scope it by, so each row group holds a
    narrow range of it: a learner's query then skips the rest of the file (DuckDB prunes row
    groups by min/max, also from a join's keys), instead of scanning every learner's rows."""
    columns = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns"
            " where table_catalog = current_database() and table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }
    keys = [c for c in SCOPE_COLUMNS if c in columns][:1]
    return f'order by "{keys[0]}"' if keys else ""


def current(serving: Path) -> Snapshot | None:
    """The snapshot dashboards should read now, or None before the first publication."""
    try:
        pointer = json.loads((serving / POINTER).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    path = serving / pointer["file"]
    if not path.exists():
        return None
    return Snapshot(path, dt.datetime.fromisoformat(pointer["published_at"]))


def _write_pointer(serving: Path, name: str, published_at: dt.datetime) -> None:
    tmp = serving / f".{POINTER}.tmp"
    tmp.write_text(json.dumps({"file": name, "published_at": published_at.isoformat()}))
    os.replace(tmp, serving / POINTER)  # atomic on POSIX: readers see the old or the new


def _prune(serving: Path, keep: Path) -> None:
    """Delete snapshots replaced more than GRACE_SECONDS ago (by file age) and leftovers."""
    now = time.time()
    for old in serving.glob("snapshot-*.duckdb"):
        if old != keep and now - old.stat().st_mtime > GRACE_SECONDS:
            old.unlink(missing_ok=True)
    for leftover in serving.glob(".snapshot-*.partial"):
        if now - leftover.stat().st_mtime > GRACE_SECONDS:
            leftover.unlink(missing_ok=True)
