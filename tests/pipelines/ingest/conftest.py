"""Landing folders for ingestion tests: the small generated program's reference data, a few of its
days, and records made bad on purpose, one rule at a time."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.loader import FileOutcome, Loader
from pipelines.ingest.sources import SOURCES
from pipelines.warehouse import open_writer

ALL_SOURCES = [*SOURCES.values(), None]


@dataclass
class Landing:
    root: Path
    warehouse: Path
    program: Path  # the generated program this landing borrows from

    def load(self) -> list[FileOutcome]:
        with open_writer(self.warehouse) as con:
            return Loader(con, self.root).load(ALL_SOURCES)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with open_writer(self.warehouse) as con:
            return con.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: list | None = None):
        return self.query(sql, params)[0][0]

    def write_lines(self, name: str, records: list) -> Path:
        """A JSON Lines file of records (dicts are dumped; strings are written as they are)."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def sample(self, source: str, n: int = 1) -> list[dict]:
        """The first n records of a source in the generated program (good records)."""
        folder = self.program / source
        records: list[dict] = []
        for path in sorted(folder.glob("*.jsonl")):
            for line in path.read_text().splitlines():
                records.append(json.loads(line))
                if len(records) == n:
                    return records
        return records


def copy_days(program: Path, landing: Path, days: int) -> None:
    """The reference folder and the first `days` files of each event source."""
    shutil.copytree(program / "reference", landing / "reference")
    for source in ("mission_progress", "assessment_attempts", "xapi"):
        (landing / source).mkdir(parents=True)
        for path in sorted((program / source).glob("*.jsonl"))[:days]:
            shutil.copy2(path, landing / source / path.name)


@pytest.fixture
def reference_only(small_batch, tmp_path: Path) -> Landing:
    root = tmp_path / "landing"
    shutil.copytree(small_batch.landing / "reference", root / "reference")
    landing = Landing(root, tmp_path / "warehouse.duckdb", small_batch.landing)
    landing.load()
    return landing


@pytest.fixture
def few_days(small_batch, tmp_path: Path) -> Landing:
    root = tmp_path / "landing"
    copy_days(small_batch.landing, root, days=10)
    return Landing(root, tmp_path / "warehouse.duckdb", small_batch.landing)


# When a load happened, not what it loaded: these differ between two runs of the same files.
LOAD_TIMES = ("ingested_at", "duration_ms", "quarantined_at", "rechecked_at", "loaded_at")


def table_snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every raw and audit row, sorted, without the times a load happened at. dbt's own
    bookkeeping (audit.dbt_*) is left out: a full run may start dbt's models that read only
    reference data while event files are still loading."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = con.execute(
            "select t.schema_name || '.' || t.table_name,"
            " list(c.column_name order by c.column_index)"
            " from duckdb_tables() t join duckdb_columns() c using (table_oid)"
            " where t.schema_name in ('raw', 'audit')"
            " and not starts_with(t.table_name, 'dbt_') group by 1 order by 1"
        ).fetchall()
        snapshot = {}
        for table, names in columns:
            kept = ", ".join(f'"{name}"' for name in names if name not in LOAD_TIMES)
            rows = con.execute(f"select {kept} from {table}").fetchall()
            snapshot[table] = sorted(rows, key=repr)
        return snapshot
    finally:
        con.close()


@pytest.fixture
def snapshot():
    """`snapshot(warehouse)`: every raw and audit row, comparable across runs."""
    return table_snapshot
