"""The dashboards' read-only snapshot, published beside the warehouse and swapped in atomically.

Dashboards never open the pipeline's file (PRODUCT.md section 5). After a run, the tables they
read — the marts, the forecasts, and the audit trail without record payloads — are published
under ``serving/``:

- ``tables/<schema>.<table>.<stamp>.duckdb``: one served table per file, never changed once
  written (written as ``.partial``, then renamed);
- ``snapshot-<stamp>.json``: a publication — when it was made, and which file holds each table;
- ``current.json``: the publication readers use. Replacing it (one rename) is the swap.

A table whose storage in the warehouse is unchanged since the previous publication keeps its
file, so a publication costs the tables a run rebuilt, not the whole history. A replaced
publication stays GRACE_SECONDS after it was replaced, so readers that resolved it just
before the swap can finish; then it goes, with the table files no remaining publication names.

A reader resolves the pointer and opens that publication's files read-only (:func:`connect`).
If the pointer is missing or unreadable (a disk fault, a hand edit), readers fall back to the
newest complete publication and say so; the next publication repairs the pointer. Publications
are serialized by the warehouse's writer lock, so a leftover ``.partial`` or pointer temp file
found at the start of one is from a publication that was killed, and is removed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import itertools
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .warehouse import open_writer, private_dir

SERVED_SCHEMAS = ("marts", "forecasts")
# Tables of those schemas no page reads: the engine's answers question by question (the
# largest mart, about three rows per learner, week and domain) stay in the warehouse.
NOT_SERVED = frozenset({"marts.learner_question_weekly"})
POINTER = "current.json"
TABLES = "tables"
SCOPE_COLUMNS = ("learner_id", "org_id", "cohort_id")  # the first one a table has orders it
GRACE_SECONDS = 600.0  # a replaced publication lives this long after its replacement
# Room kept free beyond what a publication writes: DuckDB's own temporary files, the pointer.
SPACE_MARGIN_BYTES = 64 * 1024 * 1024
BLOCK_BYTES = 256 * 1024  # DuckDB's block size: what a table's storage takes on disk, per block
# Bumped when what a served file holds changes shape: older files are then copied anew.
SERVED_FORMAT = "tables-2"
# Event-grain marts that grow with history are served in parts, one per month of this key:
# a refresh rewrites the parts its new day touched, not the whole history.
PARTS = {
    "marts.fct_mission_attempts": "date_trunc('month', started_at)",
    "marts.fct_assessment_attempts": "date_trunc('month', started_at)",
    "marts.learner_domain_weekly": "date_trunc('month', week_start)",
    "marts.cohort_engagement_daily": "date_trunc('month', activity_date)",
}

# The audit trail as served: files and quarantine counts by reason, never the payloads. Each
# is republished only when the audit table it reads changed.
AUDIT_TABLES = {
    "ingested_files": (
        "audit.ingested_files",
        """
        select file_name, source, sha256, status, reason, rows_read, rows_loaded,
            rows_quarantined, rows_duplicate, ingested_at
        from audit.ingested_files
        """,
    ),
    "quarantine_by_reason": (
        "audit.quarantine",
        """
        select source, reason, count(*) as n_records, max(quarantined_at) as last_seen
        from audit.quarantine group by source, reason
        """,
    ),
    "xapi_voidings_by_status": (
        "audit.xapi_voidings",
        """
        select status, coalesce(reason, '') as reason, count(*) as n_voidings,
            max(coalesce(decided_at, recorded_at)) as last_seen
        from audit.xapi_voidings group by all
        """,
    ),
    "lrs_pulls": (
        "audit.lrs_cursors",
        """
        select c.endpoint, c.cursor_at, c.pulled_at, count(s.statement_id) as n_statements,
            count(distinct s.file_name) as n_files
        from audit.lrs_cursors c left join audit.lrs_statements s using (endpoint)
        group by all
        """,
    ),
}


class NotEnoughSpace(OSError):
    """The serving folder's file system lacks the room a publication needs."""


@dataclass(frozen=True)
class Snapshot:
    """One publication: its manifest, when it was made, and the file holding each table."""

    path: Path  # the manifest, snapshot-<stamp>.json
    published_at: dt.datetime
    tables: dict[str, Path]  # "marts.learner_readiness" -> its file
    warehouse: str = ""
    # Set when readers use this publication without the pointer naming it: why.
    fallback: str | None = None

    @property
    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.tables.values() if p.exists())


@dataclass(frozen=True)
class Publication:
    snapshot: Snapshot
    copied: list[str] = field(default_factory=list)  # tables written anew
    carried: list[str] = field(default_factory=list)  # tables whose file was kept
    bytes_written: int = 0
    seconds: float = 0.0


def publish(warehouse: Path, serving: Path | None = None) -> Publication:
    """Publish the served tables and point ``current.json`` at them.

    Raises NotEnoughSpace, before writing anything, when the tables to copy would not fit.
    """
    started = time.perf_counter()
    serving = serving or warehouse.parent / "serving"
    tables_dir = private_dir(serving / TABLES)
    # Two writers of one serving folder (two warehouses beside each other) take turns too.
    with _serving_lock(serving), open_writer(warehouse) as con:
        stamp = _next_stamp(serving)  # under both locks: stamps only grow
        _remove_leftovers(serving)
        previous = current(serving)
        _prune(serving, keep=previous.path if previous else None)
        same_source = previous is not None and previous.warehouse == str(warehouse)
        previous_fingerprints = _fingerprints_of(previous) if same_source else {}
        con.execute("set enable_progress_bar = false")  # sorting a large table would draw one
        sources = _served_tables(con)
        fingerprints = {name: unit.fingerprint for name, unit in sources.items()}
        unchanged = {
            name
            for name, fp in fingerprints.items()
            if previous_fingerprints.get(name) == fp and previous.tables.get(name) is not None
        }
        to_copy = [name for name in sources if name not in unchanged]
        needed = _bytes_to_copy(con, [sources[name] for name in to_copy])
        free = shutil.disk_usage(serving).free
        if needed + SPACE_MARGIN_BYTES > free:
            raise NotEnoughSpace(
                f"publishing needs about {_mb(needed + SPACE_MARGIN_BYTES)} in {serving}, and"
                f" only {_mb(free)} is free: the current snapshot stays as it is"
            )
        files = {name: previous.tables[name] for name in unchanged}
        written = 0
        try:
            for name in to_copy:
                unit = sources[name]
                files[name] = _copy_table(con, name, unit.copy, tables_dir, stamp, unit.params)
                written += files[name].stat().st_size
        except BaseException:  # a full disk after all, say: give back what this one wrote
            for name in to_copy:
                if name in files:
                    files[name].unlink(missing_ok=True)
            _remove_leftovers(serving)
            raise
        # The swap's own time: a replaced publication's grace counts from it.
        published_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        manifest = serving / f"snapshot-{stamp}.json"
        _write_atomically(
            manifest,
            {
                "published_at": published_at.isoformat(),
                "warehouse": str(warehouse),
                "tables": {name: path.name for name, path in sorted(files.items())},
                "fingerprints": fingerprints,
            },
        )
        _write_atomically(serving / POINTER, {"file": manifest.name})
        snapshot = Snapshot(manifest, published_at, files, str(warehouse))
        _prune(serving, keep=manifest)
    seconds = time.perf_counter() - started
    return Publication(snapshot, sorted(to_copy), sorted(unchanged), written, seconds)


@contextlib.contextmanager
def _serving_lock(serving: Path) -> Iterator[None]:
    with (serving / ".publishing.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _next_stamp(serving: Path) -> str:
    """A name for the next publication, later than every one there is even if the clock
    stepped back (names order publications)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    stamps = [t for t in map(_stamp_time, _manifests(serving)) if t is not None]
    newest = max(stamps, default=None)
    if newest is not None and now <= newest:
        now = newest + dt.timedelta(microseconds=1)
    return f"{now:%Y%m%dT%H%M%S%f}"


def current(serving: Path) -> Snapshot | None:
    """The publication dashboards should read now, or None before the first one.

    The pointer's, read again if its publication vanished in between (a prune after a swap);
    else the newest complete publication, with ``fallback`` saying why.
    """
    for _ in range(3):
        try:
            name = json.loads((serving / POINTER).read_text())["file"]
        except FileNotFoundError:
            reason = f"{POINTER} is missing"
            break
        except (OSError, ValueError, KeyError, TypeError) as exc:
            reason = f"{POINTER} is unreadable ({type(exc).__name__})"
            break
        snapshot = _load(serving / name)
        if snapshot is not None:
            return snapshot
        reason = f"{POINTER} names {name}, which is incomplete"
    newest = _newest_complete(serving)
    if newest is None:
        return None
    return Snapshot(
        newest.path,
        newest.published_at,
        newest.tables,
        newest.warehouse,
        fallback=f"{reason}: showing the newest complete publication,"
        f" of {newest.published_at:%Y-%m-%d %H:%M} UTC, until the next run repairs it",
    )


def connect(snapshot: Snapshot) -> duckdb.DuckDBPyConnection:
    """An in-memory database that shows the publication's tables under their own names
    (views over each table file, attached read-only), and ``meta.snapshot``.

    Raises duckdb.IOException when one of its files has gone meanwhile.
    """
    con = duckdb.connect(":memory:")
    try:
        aliases = {}
        for i, path in enumerate(sorted(snapshot.tables.values())):
            con.execute(f"attach '{path}' as t{i} (read_only)")  # a path we made
            aliases[path.name] = f"t{i}"
        for statement in view_statements(snapshot, aliases):
            con.execute(statement)
        con.execute("create schema meta")
        con.execute(
            "create table meta.snapshot as"
            " select ?::timestamp as published_at, ?::varchar as warehouse",
            [snapshot.published_at, snapshot.warehouse],
        )
    except BaseException:
        con.close()
        raise
    return con


def view_statements(snapshot: Snapshot, aliases: dict[str, str], catalog: str = "") -> list[str]:
    """The SQL that shows each served table under its own name, in ``catalog`` (default: the
    current one): a view over its file, or the union of its parts' files. ``aliases`` names
    the attached database of each file."""
    prefix = f"{catalog}." if catalog else ""
    files: dict[str, list[str]] = {}
    for unit, path in sorted(snapshot.tables.items()):
        files.setdefault(unit.split("~")[0], []).append(aliases[path.name])
    statements = [
        f'create schema {prefix}"{schema}"' for schema in sorted({t.split(".")[0] for t in files})
    ]
    for table, parts in files.items():
        schema, name = table.split(".")
        union = " union all ".join(f"select * from {alias}.main.data" for alias in parts)
        statements.append(f'create view {prefix}"{schema}"."{name}" as {union}')
    return statements


@dataclass(frozen=True)
class _Served:
    """One served file's worth: a whole table, or one part of a table served in parts."""

    table: str  # the served name, e.g. "marts.learner_readiness"
    copy: str  # the query that fills the file, ordered for the dashboards' reads
    params: list
    fingerprint: str  # a digest of what the file holds
    source: str | None  # the warehouse table it is sized by (None: a block or so)
    share: float = 1.0  # its share of the source's rows


def _served_tables(con: duckdb.DuckDBPyConnection) -> dict[str, _Served]:
    """Each served file's name — the table's, e.g. "marts.learner_readiness", or for a table
    served in parts, "marts.fct_mission_attempts~2026-06-01" — with what makes it."""
    rows = con.execute(
        "select t.schema_name, t.table_name, list(c.column_name order by c.column_index)"
        " from duckdb_tables() as t join duckdb_columns() as c using (table_oid)"
        " where t.database_name = current_database() and list_contains(?, t.schema_name)"
        " group by all order by 1, 2",
        [list(SERVED_SCHEMAS)],
    ).fetchall()
    served: dict[str, _Served] = {}
    for schema, table, columns in rows:
        name, source = f"{schema}.{table}", f'{schema}."{table}"'
        if name in NOT_SERVED:
            continue
        # Sorted by the column the dashboards scope it by, each row group holds a narrow range
        # of it: a learner's query skips the rest of the file (DuckDB's zone maps).
        keys = [c for c in SCOPE_COLUMNS if c in columns][:1]
        order = f'order by "{keys[0]}"' if keys else ""
        if name in PARTS:
            served.update(_parts(con, name, source, PARTS[name], order))
            continue
        content = f"select * from {source}"
        fingerprint = _fingerprint(con, content)
        served[name] = _Served(name, f"{content} {order}", [], fingerprint, source)
    for table, (source, query) in AUDIT_TABLES.items():
        # Sized by its source, except the quarantine's counts: its payloads stay behind.
        sized_by = source if table == "ingested_files" else None
        name = f"audit.{table}"
        served[name] = _Served(name, query, [], _fingerprint(con, query), sized_by)
    return served


def _parts(
    con: duckdb.DuckDBPyConnection, name: str, source: str, key: str, order: str
) -> dict[str, _Served]:
    """A table served in parts, one per value of ``key`` (a month): each part's fingerprint
    from one grouped scan. An empty table is one empty part, so that its view exists."""
    columns = repr(con.execute(f"describe {source}").fetchall())
    rows = con.execute(
        f"select ({key})::date as part, count(*), sum(hash(t)) from {source} as t group by 1"
    ).fetchall()
    total = sum(n for _, n, _ in rows) or 1
    if not rows:
        rows = [(None, 0, None)]
    parts = {}
    for part, n, hashed in rows:
        digest = hashlib.sha256(f"{SERVED_FORMAT}{columns}{part}{n}{hashed}".encode())
        label = part.isoformat() if part is not None else "none"
        query = f"select * from {source} as t where ({key})::date is not distinct from ? {order}"
        parts[f"{name}~{label}"] = _Served(
            name, query, [part], digest.hexdigest()[:32], source, n / total
        )
    return parts


def _fingerprint(con: duckdb.DuckDBPyConnection, query: str) -> str:
    """A digest of what a served table holds: its columns, its row count and the sum of its
    rows' hashes (any order). A table rewritten into the very blocks it had can hold other
    rows, so storage metadata alone would not do."""
    digest = hashlib.sha256(SERVED_FORMAT.encode())
    digest.update(repr(con.execute(f"describe {query}").fetchall()).encode())
    digest.update(
        repr(con.execute(f"select count(*), sum(hash(t)) from ({query}) as t").fetchall()).encode()
    )
    return digest.hexdigest()[:32]


def _bytes_to_copy(con: duckdb.DuckDBPyConnection, units: list[_Served]) -> int:
    """About what copying ``units`` writes: each source table's blocks read once, shared out
    by rows among its parts; at least a block a file."""
    stored: dict[str, int] = {}
    total = 0
    for unit in units:
        if unit.source is None:
            total += BLOCK_BYTES
            continue
        if unit.source not in stored:
            stored[unit.source] = _stored_bytes(con, unit.source)
        total += max(BLOCK_BYTES, int(stored[unit.source] * unit.share))
    return total


def _stored_bytes(con: duckdb.DuckDBPyConnection, source: str) -> int:
    """About what a table takes on disk: its distinct blocks, at least one."""
    (blocks,) = con.execute(
        "select count(distinct block_id) filter (where block_id >= 0) from pragma_storage_info(?)",
        [source],
    ).fetchone()
    return max(int(blocks), 1) * BLOCK_BYTES


def _copy_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    query: str,
    tables_dir: Path,
    stamp: str,
    params: list | None = None,
) -> Path:
    final = tables_dir / f"{name}.{stamp}.duckdb"
    partial = final.with_name(f".{final.name}.partial")
    partial.unlink(missing_ok=True)
    con.execute(f"attach '{partial}' as snap")  # a path we made: no user input
    try:
        con.execute(f"create table snap.main.data as {query}", params or [])
    finally:
        con.execute("detach snap")
    os.replace(partial, final)
    return final


def _fingerprints_of(snapshot: Snapshot | None) -> dict[str, str]:
    if snapshot is None:
        return {}
    try:
        return json.loads(snapshot.path.read_text()).get("fingerprints", {})
    except (OSError, ValueError):
        return {}


def _load(manifest: Path) -> Snapshot | None:
    """The publication a manifest describes, or None if it or one of its files is gone."""
    try:
        content = json.loads(manifest.read_text())
        tables = {name: manifest.parent / TABLES / file for name, file in content["tables"].items()}
        published_at = dt.datetime.fromisoformat(content["published_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(path.exists() for path in tables.values()):
        return None
    return Snapshot(manifest, published_at, tables, content.get("warehouse", ""))


def _manifests(serving: Path) -> list[Path]:
    """Every publication's manifest, oldest first (the stamp in the name orders them)."""
    return sorted(serving.glob("snapshot-*.json"))


def _newest_complete(serving: Path) -> Snapshot | None:
    for manifest in reversed(_manifests(serving)):
        snapshot = _load(manifest)
        if snapshot is not None:
            return snapshot
    return None


def _write_atomically(path: Path, content: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w") as handle:
        json.dump(content, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)  # atomic on POSIX: readers see the old file or the new one


def _remove_leftovers(serving: Path) -> None:
    """What a killed publication left: partial table files and pointer or manifest temps."""
    for leftover in [*serving.glob(".*.tmp"), *(serving / TABLES).glob(".*.partial*")]:
        leftover.unlink(missing_ok=True)


def _prune(serving: Path, keep: Path | None) -> None:
    """Remove publications replaced more than GRACE_SECONDS ago, manifests newer than ``keep``
    (a killed publication's: never swapped in), then every table file no remaining publication
    names. Without ``keep`` (no readable publication), only unnamed files older than the grace
    period go.

    A publication's replacement time is when the one after it was swapped in.
    """
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if keep is not None:
        for orphan in _manifests(serving):
            if orphan.name > keep.name:
                orphan.unlink(missing_ok=True)
        manifests = _manifests(serving)
        for older, newer in itertools.pairwise(manifests):
            replaced_at = _published_at(newer)
            if older == keep or replaced_at is None:
                continue
            if (now - replaced_at).total_seconds() > GRACE_SECONDS:
                older.unlink(missing_ok=True)
    named: set[str] = set()
    for manifest in _manifests(serving):
        try:
            named.update(json.loads(manifest.read_text())["tables"].values())
        except (OSError, ValueError, KeyError, TypeError):
            if keep is None:
                return  # an unreadable manifest may name any file: delete nothing
    for table_file in (serving / TABLES).glob("*.duckdb"):
        if table_file.name in named:
            continue
        if keep is None and time.time() - table_file.stat().st_mtime <= GRACE_SECONDS:
            continue
        table_file.unlink(missing_ok=True)


def _published_at(manifest: Path) -> dt.datetime | None:
    """When a publication was swapped in: its own record, else the stamp in its name."""
    try:
        return dt.datetime.fromisoformat(json.loads(manifest.read_text())["published_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return _stamp_time(manifest)


def _stamp_time(manifest: Path) -> dt.datetime | None:
    stamp = manifest.stem.removeprefix("snapshot-")
    try:
        return dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S%f")
    except ValueError:
        return None


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.0f} MB"
