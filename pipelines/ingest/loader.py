"""Load landed files into the raw layer exactly once, each file whole inside one transaction.

For each new file: read it, hash it, and either record it as a duplicate of a file already
loaded, as failed (cannot be read) or rejected (no source), or stage its records, check every
rule, insert the good ones (skipping records already present) and the bad ones into
audit.quarantine, and record the file in audit.ingested_files — all committed together with
the other files of its batch. A run killed at any point leaves whole files or nothing; the next
run picks up where it stopped.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from .fields import (
    ESCAPED,
    NOW_UTC,
    TYPED_LEAVES,
    compile_fields,
    json_document,
    leaf_column,
    raw_column,
    table_values,
)
from .landing import (
    LandedFile,
    UnreadableFile,
    decode_bytes,
    discover,
    json_lines,
    sha256,
    table_file,
)
from .sources import (
    ASSESSMENT_ATTEMPTS,
    EVENT_SOURCES,
    MISSION_PROGRESS,
    REFERENCE_SOURCES,
    XAPI,
    Source,
    classify,
    raw_ddl,
)
from .xapi import VoidingSummary, apply_voidings, resolve_group_actors

log = logging.getLogger(__name__)
UNRECOGNIZED = "unrecognized"
_QUARANTINE_COLUMNS = "source, file_id, file_name, record_number, reason, payload, quarantined_at"
# Event sources whose records quarantined for naming an unknown id are checked again once newer
# reference data has landed. Not assessment attempts: whether a version loads depends on the
# versions loaded before it, an order a late release would break.
RECHECKED_SOURCES = (MISSION_PROGRESS, XAPI)
_LOAD_ORDER = {s: i for i, s in enumerate((*REFERENCE_SOURCES, *EVENT_SOURCES, None))}


@dataclass(frozen=True)
class FileOutcome:
    file_name: str
    source: str | None
    status: str  # loaded | duplicate | rejected | failed
    reason: str | None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0


@dataclass(frozen=True)
class SourceSummary:
    source: str
    files: int
    failed_files: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_duplicate: int

    @classmethod
    def of(cls, source: str, outcomes: list[FileOutcome]) -> SourceSummary:
        return cls(
            source=source,
            files=len(outcomes),
            failed_files=sum(o.status in ("failed", "rejected") for o in outcomes),
            rows_read=sum(o.rows_read for o in outcomes),
            rows_loaded=sum(o.rows_loaded for o in outcomes),
            rows_quarantined=sum(o.rows_quarantined for o in outcomes),
            rows_duplicate=sum(o.rows_duplicate for o in outcomes),
        )


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables (the audit tables come with the warehouse connection)."""
    con.execute("set TimeZone = 'UTC'")
    con.execute(raw_ddl())
    # Replaying a logged `add column … default <time>` binds the default, which needs an
    # extension DuckDB would download: a run killed before its final checkpoint would leave a
    # warehouse that cannot be opened offline. Written to the file now, the log never holds it
    # (and a checkpoint with nothing to write costs about a millisecond).
    con.execute("checkpoint")


@functools.cache
def staging_sql(source: Source) -> str:
    """One query that types every field of `incoming` and gives each record its reasons."""
    dialect = "table" if source.kind == "reference" else "json"
    columns, field_reasons = compile_fields(source.fields, dialect)
    raw_columns = ", ".join(raw_column(f) for f in source.fields)
    if dialect == "json":
        raw_columns += "".join(
            f", {leaf_column(f)}" for f in source.fields if f.kind in TYPED_LEAVES
        )
        structure, leaves = json_document(source.fields)
        # try(): a line that is not JSON gives no document; only such lines (rare) are then
        # looked at again by json_valid, instead of validating every line before parsing it.
        parsed = (
            "with doc as (select file_seq, record_number, line as payload,"
            f" contains(line, '\\') as {ESCAPED}, case when"
            f" starts_with(line, '{{') then try(json_transform(line, {structure})) end as doc"
            " from incoming)"
            f" select file_seq, record_number, payload, {ESCAPED},"
            " case when doc is not null then true else json_valid(payload) end as is_json,"
            " doc is not null as is_object,"
            f" {', '.join(leaves)} from doc"
        )
    else:
        parsed = (
            f"select file_seq, record_number, payload, false as {ESCAPED}, true as is_json,"
            " true as is_object,"
            f" {', '.join(table_values(source.fields))} from incoming"
        )
    computed = [f'{expr} as "{name}"' for name, _, expr in source.computed]
    rules = list(source.rules)
    for key in source.key:
        # A snapshot names each entity once; a repeat is quarantined, never silently merged.
        first = f"min(record_number) over (partition by file_seq, {key})"
        rules.append(
            f"case when {key} is not null and record_number > {first} then '{key} ' || {key}"
            f" || ' repeats record ' || {first} || ' of this file' end"
        )
    # What only the checks read stays out of the staged table, which every load step scans.
    scratch = [raw_columns, "field_reasons", "is_object", ESCAPED]
    scratch += [f'"{f.name}"' for f in source.fields if not f.stored]
    scratch += [name for d in source.derived if (name := d.rsplit(" as ", 1)[1]).startswith("_")]
    scratch += source.join_columns
    return f"""
with parsed as ({parsed}),
typed as (
    select file_seq, record_number, payload, {ESCAPED}, is_json, is_object, {raw_columns},
        {", ".join(columns)}
    from parsed
),
checked as (
    select *, {field_reasons} as field_reasons
        {"".join(", " + c for c in (*source.derived, *computed))}
    from typed t {source.joins}
),
reasoned as (
    select *, case
        when not is_json then 'not valid JSON'
        when not is_object then 'not a JSON object'
        else concat_ws('; ', nullif(field_reasons, ''){"".join(", " + r for r in rules)})
        end as reason
    from checked
)
select * exclude ({", ".join(scratch)}) {_novelty(source)} from reasoned
"""


def _novelty(source: Source) -> str:
    """An `is_new` column, true for now on every valid record of a source with an identity.

    `_settle_novelty` then clears it for records already in the warehouse or repeated earlier
    in the batch: as separate statements, their joins build on the batch, not on the warehouse.
    """
    return ", reason = '' as is_new" if source.identity else ""


class Loader:
    """Loads the new files of some sources from one landing folder into one warehouse."""

    def __init__(self, con: duckdb.DuckDBPyConnection, landing: Path):
        self.con = con
        self.landing = landing
        self.released: Counter[str] = Counter()  # records let out of quarantine, by source
        self.groups_resolved = 0  # Group statements given a learner by their members
        self.voidings: VoidingSummary | None = None  # after a load of xAPI statements
        prepare(con)

    # -- bookkeeping -------------------------------------------------------------------------

    def _seen(self) -> set[tuple[str, int, int]]:
        rows = self.con.execute(
            "select file_name, size_bytes, mtime_ns from audit.ingested_files"
        ).fetchall()
        return {(name, size, mtime) for name, size, mtime in rows}

    def _loaded_by_sha(self, digests: list[str]) -> dict[str, tuple[int, str]]:
        """The first loaded file of each of these contents, if any: (file_id, file_name)."""
        rows = self.con.execute(
            "select sha256, arg_min(file_id, file_id), arg_min(file_name, file_id)"
            " from audit.ingested_files where status = 'loaded' and list_contains(?, sha256)"
            " group by sha256",
            [digests],
        ).fetchall()
        return {digest: (file_id, name) for digest, file_id, name in rows}

    def _audit_row(
        self,
        file: LandedFile,
        file_id: int,
        digest: str | None,
        outcome: FileOutcome,
        started: float,
        duplicate_of: int | None = None,
    ) -> tuple:
        """A file's row of audit.ingested_files (written with the batch's, in its transaction)."""
        return (
            file_id,
            file.name,
            outcome.source,
            digest,
            file.size,
            file.modified_at,
            file.mtime_ns,
            outcome.status,
            outcome.reason,
            duplicate_of,
            outcome.rows_read,
            outcome.rows_loaded,
            outcome.rows_quarantined,
            outcome.rows_duplicate,
            (time.perf_counter() - started) * 1000,
        )

    # -- loading -----------------------------------------------------------------------------

    def pending(self, sources: Iterable[Source | None]) -> list[tuple[LandedFile, Source | None]]:
        """New files of the given sources (None: files of no source), in loading order:
        sources in dependency order; snapshots oldest first (the latest wins), events by name."""
        wanted = set(sources)
        seen = self._seen()
        chosen = []
        for file in discover(self.landing):
            if file.signature in seen:
                continue
            source = classify(file.name).source
            if source in wanted:
                chosen.append((file, source))

        def order(item: tuple[LandedFile, Source | None]) -> tuple[int, int, str]:
            file, source = item
            return (_LOAD_ORDER[source], file.mtime_ns if _is_reference(source) else 0, file.name)

        return sorted(chosen, key=order)

    def load(self, sources: Iterable[Source | None]) -> list[FileOutcome]:
        """Load every new file of `sources`; reference sources in dependency order first. Then
        check again what was quarantined for naming an id the reference data lacked."""
        sources = list(sources)
        todo = self.pending(sources)
        totals = Counter(source.name if source else UNRECOGNIZED for _, source in todo)
        done: Counter[str] = Counter()
        outcomes: list[FileOutcome] = []
        # Reading (hash, gunzip, decode, split) releases the GIL: threads read the next batch
        # while DuckDB checks and commits this one.
        with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:

            def read_all(batch):
                return [
                    pool.submit(_read, seq, file, source)
                    for seq, (file, source) in enumerate(batch)
                ]

            batches = list(_batches(todo))
            ahead = read_all(batches[0]) if batches else []
            for i, batch in enumerate(batches):
                reads = [future.result() for future in ahead]
                ahead = read_all(batches[i + 1]) if i + 1 < len(batches) else []
                outcomes += self._load_batch(batch[0][1], reads, totals, done)
        wanted = set(sources)
        for source in RECHECKED_SOURCES:
            if source in wanted:
                self.released[source.name] += self.recheck_quarantined(source)
        if XAPI in wanted:
            self.groups_resolved += resolve_group_actors(self.con)
            self.voidings = apply_voidings(self.con)
            if self.voidings.applied:
                log.info("xapi: %d statements voided", self.voidings.applied)
        return outcomes

    def recheck_quarantined(self, source: Source) -> int:
        """Check again the records of `source` quarantined for naming an id unknown at the time,
        if reference data has been loaded since; load those that pass now. Returns how many.

        A released record stays counted in its own file: it moves from rows_quarantined to
        rows_loaded, or to rows_duplicate when its identity has landed meanwhile. A record that
        still fails keeps its reasons and is marked rechecked. One transaction.
        """
        con = self.con
        candidates = con.sql(
            "select file_id as file_seq, record_number, payload as line from audit.quarantine"
            " where source = ? and payload is not null and contains(reason, 'unknown ')"
            " and coalesce(rechecked_at, quarantined_at) < (select max(ingested_at)"
            " from audit.ingested_files where status = 'loaded' and list_contains(?, source))",
            params=[source.name, [s.name for s in REFERENCE_SOURCES]],
        ).to_arrow_table()
        if not len(candidates):
            return 0
        self._stage(source, candidates)
        target, values = _insert_into(source)
        same_record = (
            " where q.source = ? and q.file_id = s.file_seq and q.record_number = s.record_number"
        )
        try:
            with self._transaction():
                con.execute(
                    f"{target} select {values}, file_seq, record_number from staged"
                    " where reason = '' and is_new"
                )
                con.execute(
                    "update audit.ingested_files f set rows_loaded = f.rows_loaded + c.new,"
                    " rows_quarantined = f.rows_quarantined - c.passed,"
                    " rows_duplicate = f.rows_duplicate + c.passed - c.new"
                    " from (select file_seq, count(*) as passed, count(*) filter (is_new) as new"
                    " from staged where reason = '' group by file_seq) c"
                    " where f.file_id = c.file_seq"
                )
                con.execute(
                    f"delete from audit.quarantine q using staged s{same_record} and s.reason = ''",
                    [source.name],
                )
                con.execute(
                    f"update audit.quarantine q set rechecked_at = {NOW_UTC}"
                    f" from staged s{same_record} and s.reason <> ''",
                    [source.name],
                )
                released = con.execute("select count(*) from staged where reason = ''").fetchone()[
                    0
                ]
        finally:
            con.execute("drop table if exists staged")
        if released:
            log.info("%s: %d quarantined records pass now and are loaded", source.name, released)
        return released

    def _stage(self, source: Source, incoming: pa.Table) -> None:
        """The temp table `staged`: every record of `incoming` typed, with its reasons, and
        (for a source with an identity) whether it is new to the warehouse."""
        self.con.register("incoming", incoming)
        self.con.execute(f"create or replace temp table staged as {staging_sql(source)}")
        self.con.unregister("incoming")
        if source.identity:
            _settle_novelty(self.con, source)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self.con.execute("begin transaction")
        try:
            yield
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise

    def _report(self, outcome: FileOutcome, totals: Counter, done: Counter) -> None:
        name = outcome.source or UNRECOGNIZED
        done[name] += 1
        # `cohortlens_progress` lets a command line draw a bar per source.
        log.info(
            "%s: %s (%d read, %d loaded, %d quarantined, %d duplicate)",
            outcome.file_name,
            outcome.status,
            outcome.rows_read,
            outcome.rows_loaded,
            outcome.rows_quarantined,
            outcome.rows_duplicate,
            extra={"cohortlens_progress": (name, done[name], totals[name])},
        )

    def _load_batch(
        self, source: Source | None, reads: list[_Read], totals: Counter, done: Counter
    ) -> list[FileOutcome]:
        """Check a batch of files of one source together, then commit them together.

        Checking is one query for the whole batch (planning it costs more than running it on a
        day of records), and so is each insert: a large insert is written straight to the
        database file, where a transaction per small file would go through the write-ahead log
        and be written again by the checkpoint. A file lies whole inside one transaction, so a
        kill leaves every file of the batch or none.
        """
        readable = [r for r in reads if r.table is not None]
        if readable and source in CHECKED_AS_INSERTED:
            return self._load_batch_checked_as_inserted(source, reads, totals, done)
        counts: dict[int, tuple[int, int, int, int]] = {}
        if readable:
            assert source is not None
            self._stage(source, pa.concat_tables([r.table for r in readable]))
            for r in readable:
                r.table = None  # the staged table holds the records now
            fresh = "reason = '' and is_new" if source.identity else "reason = ''"
            counts = {
                seq: (n, bad, not_json, new)
                for seq, n, bad, not_json, new in self.con.execute(
                    "select file_seq, count(*), count(*) filter (reason <> ''),"
                    f" count(*) filter (not is_json), count(*) filter ({fresh})"
                    " from staged group by file_seq"
                ).fetchall()
            }
        _warn_retries(reads)
        try:
            with self._transaction():
                outcomes = self._commit(source, [r for r in reads if not r.retry], counts)
        finally:
            if readable:
                self.con.execute("drop table if exists staged")
        outcomes += [r.outcome for r in reads if r.retry]
        for outcome in outcomes:
            self._report(outcome, totals, done)
        return outcomes

    def _load_batch_checked_as_inserted(
        self, source: Source, reads: list[_Read], totals: Counter, done: Counter
    ) -> list[FileOutcome]:
        """`_load_batch` for an event source whose valid records are inserted as they come.

        The checking query feeds the raw insert itself, with no staged copy of the batch in
        between (writing and reading that copy cost a fifth of the load). The few records left
        behind (bad ones) are checked again on their own for their reasons, and the repeats the
        insert took in are deleted, all inside the batch's transaction.
        """
        _warn_retries(reads)
        kept = [r for r in reads if not r.retry]
        try:
            with self._transaction():
                outcomes = self._commit_checked_as_inserted(source, kept)
        finally:
            for table in ("staged", "batch_keys", "repeats", "loading"):
                self.con.execute(f"drop table if exists {table}")
            with contextlib.suppress(duckdb.Error):
                self.con.unregister("incoming")
        outcomes += [r.outcome for r in reads if r.retry]
        for outcome in outcomes:
            self._report(outcome, totals, done)
        return outcomes

    def _commit_checked_as_inserted(self, source: Source, reads: list[_Read]) -> list[FileOutcome]:
        def load(first_id: int, files: list[_Read]) -> dict[int, FileOutcome]:
            rows_read = {r.seq: len(r.table) for r in files}
            results = self._insert_checked(source, first_id, files, rows_read)
            outcomes = {}
            for r in files:
                loaded, bad, not_json = results.get(r.seq, (0, 0, 0))
                n = rows_read[r.seq]
                outcomes[r.seq] = _not_json_lines(r, source, n, not_json) or FileOutcome(
                    r.file.name, source.name, "loaded", None, n, loaded, bad, n - bad - loaded
                )
            return outcomes

        return self._commit_files(source, reads, load)

    def _insert_checked(
        self, source: Source, first_id: int, loading: list[_Read], rows_read: dict[int, int]
    ) -> dict[int, tuple[int, int, int]]:
        """Check the records of `loading` and insert the valid, new ones; quarantine the bad
        ones of files that are JSON at all. Returns (loaded, quarantined, not JSON) by seq."""
        con = self.con
        table, keys = source.qualified_table, ", ".join(source.identity)
        con.register("incoming", pa.concat_tables([r.table for r in loading]))
        for r in loading:
            r.table = None  # DuckDB reads the batch from here on
        target, values = _insert_into(source)
        # Rows carry their file and record number, so their order on disk means nothing; not
        # keeping it lets both threads compress row groups.
        con.execute("set preserve_insertion_order = false")
        try:
            con.execute(
                f"{target} select {values}, ? + file_seq, record_number"
                f" from ({staging_sql(source)}) where reason = ''",
                [first_id],
            )
        finally:
            con.execute("reset preserve_insertion_order")
        con.execute(
            f"create or replace temp table batch_keys as select {keys}, file_id, record_number"
            f" from {table} where file_id >= ?",
            [first_id],
        )
        # Repeats: of a record already in the warehouse, or of one earlier in the batch.
        con.execute(
            "create or replace temp table repeats as"
            f" select distinct b.file_id, b.record_number from batch_keys b join {table} o"
            f" using ({keys}) where o.file_id < ?"
            " union select file_id, record_number from batch_keys"
            f" where ({keys}) in (select ({keys}) from batch_keys group by all having count(*) > 1)"
            f" qualify row_number() over (partition by {keys} order by file_id, record_number) > 1",
            [first_id],
        )
        if con.execute("select count(*) from repeats").fetchall()[0][0]:
            con.execute(
                f"delete from {table} t using repeats r"
                " where t.file_id = r.file_id and t.record_number = r.record_number"
            )
        # Only the records the insert left behind are checked again, for their reasons.
        left_behind = con.sql(
            "select i.file_seq, i.record_number, i.line from incoming i"
            " anti join batch_keys b on b.file_id = ? + i.file_seq"
            " and b.record_number = i.record_number",
            params=[first_id],
        ).to_arrow_table()
        con.unregister("incoming")
        counts: dict[int, list[int]] = {r.seq: [0, 0, 0] for r in loading}
        for seq, loaded in con.execute(
            "select file_id - ?, count(*) from batch_keys b anti join repeats r"
            " using (file_id, record_number) group by 1",
            [first_id],
        ).fetchall():
            counts[seq][0] = loaded
        if not len(left_behind):
            return {seq: tuple(c) for seq, c in counts.items()}
        con.register("incoming", left_behind)
        con.execute(f"create or replace temp table staged as {staging_sql(source)}")
        con.unregister("incoming")
        if con.execute("select count(*) from staged where reason = ''").fetchall()[0][0]:
            # Checking is deterministic inside a transaction; this would be a bug, and the
            # rollback keeps the records for the next run.
            raise RuntimeError(f"{source.name}: a record passed its checks but was not inserted")
        for seq, bad, not_json in con.execute(
            "select file_seq, count(*), count(*) filter (not is_json) from staged group by 1"
        ).fetchall():
            counts[seq][1:] = [bad, not_json]
        # A file none of whose lines is JSON fails whole; its lines are not quarantined.
        quarantined = [r for r in loading if counts[r.seq][2] < rows_read[r.seq]]
        con.execute(
            "create or replace temp table loading as select unnest(?::integer[]) as file_seq,"
            " unnest(?::varchar[]) as file_name",
            [[r.seq for r in quarantined], [r.file.name for r in quarantined]],
        )
        con.execute(
            f"insert into audit.quarantine ({_QUARANTINE_COLUMNS})"
            " select ?, ? + s.file_seq, l.file_name, s.record_number,"
            f" s.reason, s.payload, {NOW_UTC}"
            " from staged s join loading l using (file_seq)",
            [source.name, first_id],
        )
        return {seq: tuple(c) for seq, c in counts.items()}

    def _commit(
        self, source: Source | None, reads: list[_Read], counts: dict[int, tuple[int, ...]]
    ) -> list[FileOutcome]:
        """Inside the batch's transaction: each file's records, quarantine and audit row."""

        def load(first_id: int, files: list[_Read]) -> dict[int, FileOutcome]:
            outcomes = {}
            for r in files:
                n, _, not_json, _ = counts.get(r.seq, (0, 0, 0, 0))
                if failed := _not_json_lines(r, source, n, not_json):
                    outcomes[r.seq] = failed
            loading = [(r, first_id + r.seq) for r in files if r.seq not in outcomes]
            results = self._load_records(source, first_id, loading, counts) if loading else {}
            for r, _ in loading:
                n, rows_bad, _, _ = counts[r.seq]
                loaded, conflicts = results[r.seq]
                bad = rows_bad + conflicts
                outcomes[r.seq] = FileOutcome(
                    r.file.name, source.name, "loaded", None, n, loaded, bad, n - bad - loaded
                )
            return outcomes

        return self._commit_files(source, reads, load)

    def _commit_files(
        self,
        source: Source | None,
        reads: list[_Read],
        load: Callable[[int, list[_Read]], dict[int, FileOutcome]],
    ) -> list[FileOutcome]:
        """What both commit paths share: give each file its id (the batch's first id + its
        seq), make a file whose content was loaded before or comes earlier in the batch a
        duplicate, `load(first_id, files)` the others for their outcomes, write the audit rows.
        """
        first_id = self.con.execute(
            "select coalesce(max(file_id), 0) + 1 from audit.ingested_files"
        ).fetchone()[0]
        loaded_before = self._loaded_by_sha([r.digest for r in reads if r.outcome is None])
        outcome_of = {r.seq: r.outcome for r in reads}
        duplicate_of: dict[int, int] = {}
        copy_of: dict[int, _Read] = {}  # a copy of a file earlier in this batch -> that file
        first_with: dict[str, _Read] = {}

        def duplicate(r: _Read, file_id: int, file_name: str) -> None:
            duplicate_of[r.seq] = file_id
            reason = f"same content as {file_name} (file {file_id}), loaded before"
            outcome_of[r.seq] = FileOutcome(r.file.name, source.name, "duplicate", reason)

        for r in reads:
            if r.outcome is not None:
                continue
            if (earlier := loaded_before.get(r.digest)) is not None:
                duplicate(r, *earlier)
            elif r.digest in first_with:
                copy_of[r.seq] = first_with[r.digest]
            else:
                first_with[r.digest] = r
        loading = [r for r in reads if outcome_of[r.seq] is None and r.seq not in copy_of]
        if loading:
            outcome_of.update(load(first_id, loading))
        # A copy waits for its original's verdict: only a loaded original makes it a duplicate.
        for r in reads:
            if (original := copy_of.get(r.seq)) is None:
                continue
            first = outcome_of[original.seq]
            if first.status == "loaded":
                duplicate(r, first_id + original.seq, original.file.name)
            else:  # the same bytes, so the same verdict
                outcome_of[r.seq] = FileOutcome(
                    r.file.name, source.name, first.status, first.reason
                )
        self._write_audit_rows(
            [(r, first_id + r.seq, outcome_of[r.seq], duplicate_of.get(r.seq)) for r in reads]
        )
        return [outcome_of[r.seq] for r in reads]

    def _write_audit_rows(self, decided: list[tuple[_Read, int, FileOutcome, int | None]]) -> None:
        """The batch's rows of audit.ingested_files: (read, file_id, outcome, duplicate_of)."""
        audit_rows = [
            self._audit_row(r.file, file_id, r.digest, outcome, r.started, duplicate_of)
            for r, file_id, outcome, duplicate_of in decided
        ]
        if audit_rows:
            self.con.executemany(
                "insert into audit.ingested_files (file_id, file_name, source, sha256,"
                " size_bytes, modified_at, mtime_ns, status, reason, duplicate_of, rows_read,"
                " rows_loaded, rows_quarantined, rows_duplicate, duration_ms, ingested_at)"
                f" values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {NOW_UTC})",
                audit_rows,
            )

    def _load_records(
        self,
        source: Source,
        first_id: int,
        loading: list[tuple[_Read, int]],
        counts: dict[int, tuple[int, ...]],
    ) -> dict[int, tuple[int, int]]:
        """Quarantine and load the staged records of the files being loaded (a file's id is
        first_id + its seq).

        Returns (loaded, conflicts quarantined) per file_seq.
        """
        con = self.con
        con.execute(
            "create or replace temp table loading as select unnest(?::integer[]) as file_seq,"
            " unnest(?::bigint[]) as file_id, unnest(?::varchar[]) as file_name",
            [
                [r.seq for r, _ in loading],
                [i for _, i in loading],
                [r.file.name for r, _ in loading],
            ],
        )
        con.execute(
            f"insert into audit.quarantine ({_QUARANTINE_COLUMNS})"
            " select ?, l.file_id, l.file_name, s.record_number,"
            f" s.reason, s.payload, {NOW_UTC}"
            " from staged s join loading l using (file_seq) where s.reason <> ''",
            [source.name],
        )
        if source.kind == "reference":
            return {r.seq: (self._replace_snapshot(source, i, r.seq), 0) for r, i in loading}
        if source is ASSESSMENT_ATTEMPTS:  # in file order: a later version may replace one
            return {r.seq: self._upsert_attempts(i, r.file.name, r.seq) for r, i in loading}
        target, values = _insert_into(source)
        # No join finds a file's id; only when some staged file is not loaded (a duplicate,
        # say) are its records left out.
        every_staged_file_loads = set(counts) <= {r.seq for r, _ in loading}
        only_loading = (
            "" if every_staged_file_loads else " and file_seq in (select file_seq from loading)"
        )
        # Rows carry their file and record number, so their order on disk means nothing; not
        # keeping it lets both threads compress row groups (the insert's wall time -18 %).
        con.execute("set preserve_insertion_order = false")
        try:
            con.execute(
                f"{target} select {values}, ? + file_seq, record_number from staged"
                f" where reason = '' and is_new{only_loading}",
                [first_id],
            )
        finally:
            con.execute("reset preserve_insertion_order")
        return {r.seq: (counts[r.seq][3], 0) for r, _ in loading}

    def _replace_snapshot(self, source: Source, file_id: int, seq: int) -> int:
        self.con.execute(f"delete from {source.qualified_table}")
        target, values = _insert_into(source)
        return self.con.execute(
            f"{target} select {values}, ?, record_number from staged"
            " where file_seq = ? and reason = ''",
            [file_id, seq],
        ).fetchone()[0]

    def _upsert_attempts(self, file_id: int, file_name: str, seq: int) -> tuple[int, int]:
        """An attempt loads once; a later version with a more advanced status replaces it.

        Returns (loaded, quarantined): a different version that would take an attempt back to an
        earlier status is quarantined with the status it would have replaced.
        """
        con = self.con
        con.execute(
            "create or replace temp table winners as"
            " select s.*, prior.record_hash as prior_hash, prior.status as prior_status,"
            " prior.status_rank as prior_rank"
            " from staged s left join raw.assessment_attempts prior using (attempt_id)"
            " where s.file_seq = ? and s.reason = ''"
            " qualify row_number() over"
            " (partition by attempt_id order by s.status_rank desc, s.record_number desc) = 1",
            [seq],
        )
        con.execute("delete from winners where prior_hash = record_hash")
        conflicts = con.execute(
            f"insert into audit.quarantine ({_QUARANTINE_COLUMNS})"
            " select 'assessment_attempts', ?, ?, record_number,"
            " 'attempt_id ' || attempt_id || ' is already loaded with status ' || prior_status"
            " || '; a record with status ' || status || ' cannot replace it', payload,"
            f" {NOW_UTC}"
            " from winners where prior_hash is not null and status_rank <= prior_rank",
            [file_id, file_name],
        ).fetchone()[0]
        con.execute(
            "delete from winners where prior_hash is not null and status_rank <= prior_rank"
        )
        columns = [name for name, _ in ASSESSMENT_ATTEMPTS.stored_columns() if name != "attempt_id"]
        assignments = ", ".join(f'"{c}" = w."{c}"' for c in columns)
        con.execute(
            f"update raw.assessment_attempts a set {assignments}, file_id = ?,"
            f" record_number = w.record_number, loaded_at = {NOW_UTC} from winners w"
            " where a.attempt_id = w.attempt_id and w.prior_hash is not null",
            [file_id],
        )
        con.execute(
            "delete from raw.assessment_answers where attempt_id in"
            " (select attempt_id from winners where prior_hash is not null)"
        )
        all_columns = ", ".join(f'"{n}"' for n, _ in ASSESSMENT_ATTEMPTS.stored_columns())
        con.execute(
            f"insert into raw.assessment_attempts ({all_columns}, file_id, record_number)"
            f" select {all_columns}, ?, record_number from winners where prior_hash is null",
            [file_id],
        )
        con.execute(
            "insert into raw.assessment_answers"
            " select attempt_id, answer.i, answer.a.question_id ->> '$',"
            " answer.a.is_correct::boolean, answer.a.points_earned::double"
            " from (select attempt_id, unnest(list_transform(answer_list,"
            " lambda a, i: {'a': a, 'i': i})) as answer from winners)"
        )
        loaded = con.execute("select count(*) from winners").fetchone()[0]
        con.execute("drop table winners")
        return loaded, conflicts


def _not_json_lines(r: _Read, source: Source, rows_read: int, not_json: int) -> FileOutcome | None:
    """The failed outcome of a file none of whose lines is JSON (an empty file loads), or None."""
    if rows_read and not_json == rows_read:
        reason = f"not JSON Lines: none of its {rows_read} lines is JSON"
        return FileOutcome(r.file.name, source.name, "failed", reason)
    return None


def _insert_into(source: Source) -> tuple[str, str]:
    """(`insert into` the raw table with its columns, the staged values to insert)."""
    columns = ", ".join(f'"{name}"' for name, _ in source.stored_columns())
    return (
        f"insert into {source.qualified_table} ({columns}, file_id, record_number)",
        ", ".join(source.insert_expressions()),
    )


def _settle_novelty(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """A record is new unless its identity is in the warehouse or earlier in the batch (files
    commit in order, so the first copy lands before any repeat is looked at again)."""
    keys = ", ".join(source.identity)
    con.execute(
        f"update staged set is_new = false from (select distinct {keys} from"
        f" {source.qualified_table} join (select {keys} from staged where is_new) using ({keys}))"
        f" known where staged.is_new and "
        + " and ".join(f"staged.{k} = known.{k}" for k in source.identity)
    )
    con.execute(
        f"update staged set is_new = false where (file_seq, record_number) in ("
        f" select (file_seq, record_number) from staged where is_new and ({keys}) in"
        f" (select ({keys}) from staged where is_new group by all having count(*) > 1)"
        f" qualify row_number() over (partition by {keys} order by file_seq, record_number) > 1)"
    )


@dataclass
class _Read:
    """A file read for one batch: its records, or what was decided without staging them."""

    seq: int
    file: LandedFile
    started: float
    digest: str | None = None
    table: pa.Table | None = None
    outcome: FileOutcome | None = None
    retry: bool = False


# Event sources whose valid records go straight from the checking query into the raw table (an
# attempt instead may replace an earlier version of itself).
CHECKED_AS_INSERTED = (MISSION_PROGRESS, XAPI)

# A batch holds at most this much landed data (gzip counted at a typical 8x ratio).
BATCH_BYTES = 256 * 1024 * 1024
BATCH_FILES = 256
READ_THREADS = min(4, os.cpu_count() or 1)


def _warn_retries(reads: list[_Read]) -> None:
    for r in reads:
        if r.retry:
            log.warning(
                "%s could not be read (%s); it will be tried again", r.file.name, r.outcome.reason
            )


def _batches(todo: list[tuple[LandedFile, Source | None]]):
    """Consecutive files of one source; each snapshot alone, as the next may refer to it."""
    batch: list[tuple[LandedFile, Source | None]] = []
    size = 0
    for file, source in todo:
        weight = file.size * (8 if file.name.endswith(".gz") else 1)
        if batch and (
            batch[0][1] is not source
            or _is_reference(source)
            or size + weight > BATCH_BYTES
            or len(batch) >= BATCH_FILES
        ):
            yield batch
            batch, size = [], 0
        batch.append((file, source))
        size += weight
    if batch:
        yield batch


def _read(seq: int, file: LandedFile, source: Source | None) -> _Read:
    started = time.perf_counter()
    read = _Read(seq, file, started)
    try:
        data = file.path.read_bytes()
    except OSError as exc:  # gone or unreadable for now: not recorded, tried again next run
        read.outcome = FileOutcome(file.name, source and source.name, "failed", str(exc))
        read.retry = True
        return read
    read.digest = sha256(data)
    classified = classify(file.name)
    if source is None:
        read.outcome = FileOutcome(file.name, None, "rejected", classified.reason)
        return read
    try:
        if source.kind == "reference":
            table = _reference_incoming(source, data, file.name)
        else:
            table = json_lines(decode_bytes(data, classified.compressed))
    except UnreadableFile as exc:
        read.outcome = FileOutcome(file.name, source.name, "failed", str(exc))
        return read
    read.table = table.add_column(0, "file_seq", pa.repeat(pa.scalar(seq, pa.int32()), len(table)))
    return read


def _is_reference(source: Source | None) -> bool:
    return source is not None and source.kind == "reference"


def _reference_incoming(source: Source, data: bytes, file_name: str) -> pa.Table:
    frame = table_file(data, file_name)
    present = set(frame.columns)
    missing = [f.name for f in source.fields if f.required and f.name not in present]
    if missing:
        raise UnreadableFile(f"missing columns: {', '.join(missing)}")
    absent = [f.name for f in source.fields if f.name not in present]
    if absent:
        frame = frame.with_columns(pl.lit(None, pl.String).alias(n) for n in absent)
    return frame.select("record_number", "payload", *(f.name for f in source.fields)).to_arrow()
