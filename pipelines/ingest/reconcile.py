"""Does the warehouse account for every record of every landed file? Queries behind the checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from .sources import ASSESSMENT_ATTEMPTS, MISSION_PROGRESS, XAPI, Source

# Raw tables that only ever grow: each loaded row still carries the file it came from.
APPEND_ONLY = {MISSION_PROGRESS.name, XAPI.name}
EVENT_TIME = {
    XAPI.name: '"timestamp"',
    MISSION_PROGRESS.name: "updated_at",
    ASSESSMENT_ATTEMPTS.name: "coalesce(graded_at, submitted_at, started_at)",
}
# A voiding statement corrects the record (often an administrator's, made months later): no
# learner did anything then, and the statement it voided never happened; neither moves
# freshness or the as-of day.
LEARNER_EVENTS = {XAPI.name: "where voided_statement_id is null and voided_by is null"}


@dataclass(frozen=True)
class Mismatch:
    file_name: str
    problem: str


def mismatches(con: duckdb.DuckDBPyConnection, source: Source) -> list[Mismatch]:
    """Files of `source` whose counts do not add up, or whose rows are not where counted."""
    found = [
        Mismatch(name, f"rows_read {read} != loaded {loaded} + quarantined {bad} + duplicate {dup}")
        for name, read, loaded, bad, dup in con.execute(
            "select file_name, rows_read, rows_loaded, rows_quarantined, rows_duplicate"
            " from audit.ingested_files where source = ?"
            " and rows_read <> rows_loaded + rows_quarantined + rows_duplicate",
            [source.name],
        ).fetchall()
    ]
    found += [
        Mismatch(name, f"{counted} quarantined but {held} in audit.quarantine")
        for name, counted, held in con.execute(
            "select f.file_name, f.rows_quarantined, count(q.record_number)"
            " from audit.ingested_files f left join audit.quarantine q using (file_id)"
            " where f.source = ? group by all having count(q.record_number) <> f.rows_quarantined",
            [source.name],
        ).fetchall()
    ]
    if source.name in APPEND_ONLY:
        found += [
            Mismatch(name, f"{counted} loaded but {held} rows in {source.qualified_table}")
            for name, counted, held in con.execute(
                f"select f.file_name, f.rows_loaded, coalesce(r.n, 0)"
                f" from audit.ingested_files f left join"
                f" (select file_id, count(*) as n from {source.qualified_table} group by 1) r"
                f" using (file_id) where f.source = ? and f.status = 'loaded'"
                f" and coalesce(r.n, 0) <> f.rows_loaded",
                [source.name],
            ).fetchall()
        ]
    elif source.kind == "reference":
        latest = con.execute(
            "select file_name, rows_loaded from audit.ingested_files"
            " where source = ? and status = 'loaded' order by file_id desc limit 1",
            [source.name],
        ).fetchone()
        held = con.execute(f"select count(*) from {source.qualified_table}").fetchone()[0]
        if latest is not None and latest[1] != held:
            found.append(
                Mismatch(latest[0], f"{latest[1]} loaded but {held} rows in the snapshot table")
            )
    return found


@dataclass(frozen=True)
class Totals:
    files: int
    rows_read: int
    rows_quarantined: int

    @property
    def quarantine_rate(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0


def totals(con: duckdb.DuckDBPyConnection, source: Source) -> Totals:
    files, read, bad = con.execute(
        "select count(*), coalesce(sum(rows_read), 0), coalesce(sum(rows_quarantined), 0)"
        " from audit.ingested_files where source = ?",
        [source.name],
    ).fetchone()
    return Totals(files, int(read), int(bad))


def newest_event(con: duckdb.DuckDBPyConnection, source: Source) -> dt.datetime | None:
    """The latest event time in the source's raw table (UTC), or None when it is empty."""
    return con.execute(
        f"select max({EVENT_TIME[source.name]}) from {source.qualified_table}"
        f" {LEARNER_EVENTS.get(source.name, '')}"
    ).fetchone()[0]
