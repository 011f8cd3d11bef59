"""The pipeline's DuckDB warehouse: one writer at a time, and the schemas it holds.

DuckDB lets one process write a database file (PITFALLS.md 2, 3). Sensors, schedules and
`cohortlens run` may all start a run at once, so every writer first takes an advisory lock on a
file beside the warehouse and waits its turn rather than failing on DuckDB's own lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

# Automatic checkpoints rewrite the growing tables after every few small commits; loading a
# file per transaction then spends most of its time checkpointing. Writers checkpoint once at
# the end instead; the write-ahead log keeps every commit durable meanwhile.
#
# Each batch's parallel insert ends in a partly filled row group per thread. A checkpoint's vacuum
# would merge those with their neighbours, rewriting (and compressing again) every batch it
# loaded: at 4 M statements that doubled the load. Without it, the rows stay where the insert
# wrote them and a scan reads a few more small row groups. dbt's profile turns vacuum off too;
# `compact` merges them all once a night.
WRITER_CONFIG = {"checkpoint_threshold": "4GB", "max_vacuum_tasks": 0}
VACUUM_TASKS = 1_000_000  # a compaction's: every merge the checkpoint finds

SCHEMA_DDL = """
create schema if not exists audit;
create schema if not exists raw;

create table if not exists audit.ingested_files (
    file_id bigint primary key,
    file_name varchar not null,          -- path relative to the landing folder
    source varchar,                      -- null when the name matches no source
    sha256 varchar,
    size_bytes bigint not null,
    modified_at timestamp not null,      -- the file's mtime (UTC) when it was read
    mtime_ns bigint not null,            -- the same, exactly: with name and size, a file's identity
    status varchar not null check (status in ('loaded', 'duplicate', 'rejected', 'failed')),
    reason varchar,                      -- why a file was rejected, failed or is a duplicate
    duplicate_of bigint,                 -- the file_id whose content this file repeats
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    rows_duplicate bigint not null,      -- valid records already in the warehouse
    ingested_at timestamp not null,
    duration_ms double
);

create table if not exists audit.compactions (
    compacted_at timestamp not null,
    row_groups_before bigint not null,
    row_groups_after bigint,             -- null until the checkpoint has finished
    seconds double
);

create table if not exists audit.quarantine (
    source varchar not null,
    file_id bigint not null,
    file_name varchar not null,
    record_number bigint not null,       -- line (JSON Lines, CSV) or row (Parquet), from 1
    reason varchar not null,
    payload varchar,
    quarantined_at timestamp not null,
    rechecked_at timestamp               -- checked again after newer reference data: still bad
);
alter table audit.quarantine add column if not exists rechecked_at timestamp;

-- One row per voiding statement loaded (xAPI 1.0.3 section 2.3.2) and what became of it.
create table if not exists audit.xapi_voidings (
    voiding_statement_id uuid primary key,
    target_statement_id uuid not null,
    status varchar not null check (status in ('waiting', 'applied', 'redundant', 'ignored')),
    reason varchar,                      -- why it waits, or why it changed nothing
    recorded_at timestamp not null,
    decided_at timestamp                 -- when it was applied, found redundant or ignored
);

-- Pulls from a Learning Record Store (pipelines/ingest/lrs.py): a cursor per endpoint, and
-- every statement id written to a landing file.
create table if not exists audit.lrs_cursors (
    endpoint varchar primary key,        -- the LRS's xAPI base URL (never with credentials)
    cursor_at timestamp,                 -- asked from this minus the lookback next time
    pulled_at timestamp not null         -- the end of the last complete pull
);
create table if not exists audit.lrs_statements (
    endpoint varchar not null,
    statement_id varchar not null,       -- as the LRS spelled it, lower-cased
    "timestamp" timestamp,               -- the statement's, to bound the ids a pull looks at
    file_name varchar not null,          -- the landing file it was written to
    pulled_at timestamp not null
);

create table if not exists audit.runs (
    started_at timestamp not null,
    finished_at timestamp not null,
    landing_fingerprint varchar not null,  -- the landing folder's listing; '' for a Dagster run
    as_of_date date not null,
    project_fingerprint varchar not null,  -- the dbt project's files and the pipeline's code
    success boolean not null               -- false for a Dagster run: the next CLI run runs
);
"""


OWNER_ONLY_UMASK = 0o077  # files 0600, folders 0700


def keep_private() -> None:
    """Whatever the caller's umask, files this process creates from now on — the warehouse,
    its write-ahead log, snapshots, accounts — are readable by their owner only: they hold
    personal data and password hashes. Called by each entry point (CLI, Dagster, Streamlit)."""
    os.umask(OWNER_ONLY_UMASK)


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner may enter, made if missing."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def make_private(path: Path) -> None:
    """Owner-only permissions on a file this process made, if it exists."""
    with contextlib.suppress(FileNotFoundError):
        path.chmod(0o600)


class WarehouseBusy(RuntimeError):
    """Another writer held the warehouse for longer than we were willing to wait."""


@contextlib.contextmanager
def writer_lock(warehouse: Path, timeout_s: float = 600.0) -> Iterator[None]:
    """Hold the advisory writer lock of `warehouse` (a `.lock` file beside it)."""
    if not warehouse.parent.exists():
        private_dir(warehouse.parent)
    lock_path = warehouse.with_name(warehouse.name + ".lock")
    deadline = time.monotonic() + timeout_s
    with lock_path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WarehouseBusy(
                        f"{warehouse} is being written by another run; waited {timeout_s:.0f} s"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclasses.dataclass(frozen=True)
class RunHolder:
    """Who holds a warehouse's run lock."""

    pid: int
    started_at: str  # ISO 8601, UTC
    command: str

    def describe(self) -> str:
        return (
            f"another run is in progress since {self.started_at.replace('T', ' ')[:19]} UTC,"
            f" under pid {self.pid} ({self.command})"
        )


class RunInProgress(RuntimeError):
    def __init__(self, holder: RunHolder | None):
        self.holder = holder
        super().__init__(holder.describe() if holder else "another run is in progress")


_held_runs: dict[tuple[Path, int], int] = {}  # (lock file, thread) -> depth
# A probe (run_holder) holds the lock shared for an instant: a run retries at least this long.
MIN_RUN_WAIT_S = 1.0
_held_runs_lock = threading.Lock()


def _run_lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".run.lock")


def run_holder(warehouse: Path) -> RunHolder | None:
    """The run in progress on ``warehouse``, or None.

    The one rule the CLI, the sensor and the schedules share. The lock is the kernel's (flock),
    so a run killed with -9 holds nothing: its lock file, with its pid, is stale and the next
    run takes it over.
    """
    path = _run_lock_path(warehouse)
    with _held_runs_lock:
        if any(held == path for held, _ in _held_runs):
            return _read_holder(path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_holder(path) or RunHolder(0, "?", "unknown")
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@contextlib.contextmanager
def run_lock(warehouse: Path, wait_s: float = 0.0, command: str = "cohortlens run"):
    """Hold ``warehouse``'s run lock for a whole run; re-entrant within one thread (the CLI
    takes it, then the Dagster run it starts in the same thread takes it again).

    Waits up to ``wait_s`` for a run in progress, then raises RunInProgress saying whose.
    """
    path = _run_lock_path(warehouse)
    key = (path, threading.get_ident())
    with _held_runs_lock:
        reentered = key in _held_runs
        if reentered:
            _held_runs[key] += 1
    if reentered:
        try:
            yield
        finally:
            with _held_runs_lock:
                _held_runs[key] -= 1
        return
    if not path.parent.exists():
        private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + max(wait_s, MIN_RUN_WAIT_S)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunInProgress(_read_holder(path)) from None
                time.sleep(0.2)
        started = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            json.dumps({"pid": os.getpid(), "started_at": started, "command": command}).encode(),
            0,
        )
        with _held_runs_lock:
            _held_runs[key] = 1
        try:
            yield
        finally:
            with _held_runs_lock:
                del _held_runs[key]
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def holds_run_lock(warehouse: Path) -> bool:
    """Whether this thread already holds ``warehouse``'s run lock."""
    with _held_runs_lock:
        return (_run_lock_path(warehouse), threading.get_ident()) in _held_runs


def record_run(
    con: duckdb.DuckDBPyConnection,
    started_at: dt.datetime,
    landing: str,
    as_of: dt.date,
    project: str,
    success: bool,
) -> None:
    """A row of audit.runs, finished now."""
    con.execute(
        "insert into audit.runs values (?, get_current_timestamp() at time zone 'UTC', ?, ?, ?, ?)",
        [started_at, landing, as_of, project, success],
    )


def note_dagster_run(warehouse: Path) -> None:
    """A run Dagster started (a sensor, a schedule, the UI) changed the warehouse: the next
    `cohortlens run` must not take its own last run's results as current."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with open_writer(warehouse) as con:
        record_run(con, now, "", now.date(), "", success=False)


def _read_holder(path: Path) -> RunHolder | None:
    try:
        content = json.loads(path.read_text() or "null")
        return RunHolder(int(content["pid"]), str(content["started_at"]), str(content["command"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def open_writer(
    warehouse: Path, timeout_s: float = 600.0, vacuum: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the warehouse, with the schemas in place; checkpoints on exit.

    `vacuum`: its checkpoints merge row groups (the compaction's); otherwise they do not.
    """
    config = {**WRITER_CONFIG, "max_vacuum_tasks": VACUUM_TASKS} if vacuum else WRITER_CONFIG
    with writer_lock(warehouse, timeout_s):
        con = duckdb.connect(str(warehouse), config=config)
        make_private(warehouse)
        try:
            con.execute(SCHEMA_DDL)
            yield con
            con.execute("checkpoint")
        finally:
            con.close()


@dataclasses.dataclass(frozen=True)
class Compaction:
    row_groups_before: int
    row_groups_after: int
    seconds: float


def _row_groups(con: duckdb.DuckDBPyConnection) -> int:
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables()"
        " where database_name = current_database()"
    ).fetchall()
    return sum(
        con.execute(
            "select count(distinct row_group_id) from pragma_storage_info(?)",
            [f'"{schema}"."{table}"'],
        ).fetchone()[0]
        for schema, table in tables
    )


def compact(warehouse: Path, timeout_s: float = 600.0) -> Compaction:
    """Merge the partly filled row groups that loads leave and the rows incremental builds delete.

    Loads and dbt builds checkpoint without vacuum (it would recompress raw JSON on every run).
    DuckDB vacuums only in a checkpoint that has something to write, so the compaction's own
    audit row is that write.
    """
    with open_writer(warehouse, timeout_s, vacuum=True) as con:
        before = _row_groups(con)
        started = time.perf_counter()
        con.execute(
            "insert into audit.compactions values"
            " (get_current_timestamp() at time zone 'UTC', ?, null, null)",
            [before],
        )
        con.execute("checkpoint")
        seconds = time.perf_counter() - started
        after = _row_groups(con)
        con.execute(
            "update audit.compactions set row_groups_after = ?, seconds = ?"
            " where row_groups_after is null",
            [after, seconds],
        )
    return Compaction(before, after, seconds)
