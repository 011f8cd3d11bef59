"""A run killed with SIGKILL at any point, then run again, leaves exactly what one clean run
leaves: each file's load lies whole inside one transaction (a batch of files commits together)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.loader import prepare
from pipelines.ingest.sources import EVENT_SOURCES
from pipelines.paths import REPO_ROOT
from pipelines.runner import run_all
from pipelines.warehouse import open_writer

pytestmark = pytest.mark.slow  # each test runs the pipeline in processes it kills

# Opens the warehouse as a run does, adds what its schema lacks, and kills itself (SIGKILL).
PREPARE_THEN_DIE = """
import os, signal, sys
import duckdb
from pipelines.ingest.loader import prepare
from pipelines.warehouse import WRITER_CONFIG

con = duckdb.connect(sys.argv[1], config=WRITER_CONFIG)
prepare(con)
os.kill(os.getpid(), signal.SIGKILL)
"""

# Loads the landing folder and kills itself (SIGKILL) inside the transaction holding the N-th
# file, after its records were inserted and before the commit.
KILL_INSIDE_TRANSACTION = """
import os, signal, sys
from pathlib import Path
from pipelines.ingest.loader import Loader
from pipelines.ingest.sources import SOURCES
from pipelines.warehouse import open_writer

landing, warehouse, kill_at = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
calls = 0
audit_row = Loader._audit_row

def audit_row_then_die(self, *args, **kwargs):
    global calls
    row = audit_row(self, *args, **kwargs)
    calls += 1
    if calls == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return row

Loader._audit_row = audit_row_then_die
with open_writer(warehouse) as con:
    Loader(con, landing).load([*SOURCES.values(), None])
"""


# `cohortlens run`, killed (SIGKILL) inside the transaction of the xAPI files, the last and
# largest source, after the other sources have committed: at the same point every time.
RUN_KILLED_MID_EVENTS = """
import os, signal, sys
from pipelines.cli import app
from pipelines.ingest.loader import Loader

audit_row = Loader._audit_row

def audit_row_then_die_in_xapi(self, file, *args, **kwargs):
    row = audit_row(self, file, *args, **kwargs)
    if file.name.startswith("xapi/"):
        os.kill(os.getpid(), signal.SIGKILL)
    return row

Loader._audit_row = audit_row_then_die_in_xapi
app(["run", "--landing", sys.argv[1], "--warehouse", sys.argv[2]])
"""


def _clean(few_days, tmp_path: Path, snapshot) -> dict:
    clean = type(few_days)(few_days.root, tmp_path / "clean.duckdb", few_days.program)
    clean.load()
    return snapshot(clean.warehouse)


def test_a_kill_inside_a_files_transaction_then_a_rerun_equals_a_clean_run(
    few_days, tmp_path, snapshot
):
    for kill_at in (3, 8, 5):  # in a snapshot, then in event files further on
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                KILL_INSIDE_TRANSACTION,
                few_days.root,
                few_days.warehouse,
                str(kill_at),
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == -signal.SIGKILL, done.stderr
    few_days.load()
    assert snapshot(few_days.warehouse) == _clean(few_days, tmp_path, snapshot)


def test_cohortlens_run_killed_mid_way_through_the_events_then_rerun_equals_a_clean_run(
    few_days, tmp_path, snapshot
):
    killed = subprocess.run(
        [sys.executable, "-c", RUN_KILLED_MID_EVENTS, str(few_days.root), str(few_days.warehouse)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, "killed before it finished: " + killed.stderr
    # Rerun and compare through the same Dagster job, so files take the same order.
    rerun = run_all(few_days.root, few_days.warehouse, ingestion_only=True)
    assert rerun.success and rerun.sources, "the rerun had files left to load"
    clean = tmp_path / "clean.duckdb"
    assert run_all(few_days.root, clean, ingestion_only=True).success
    assert snapshot(few_days.warehouse) == snapshot(clean)


def test_a_run_killed_just_after_adding_loaded_at_to_an_old_warehouse_leaves_it_openable(
    tmp_path,
):
    """A warehouse from before loaded_at gets the column on the next run's first step; killed
    there, it still opens (offline) and has the column."""
    warehouse = tmp_path / "warehouse.duckdb"
    with open_writer(warehouse) as con:
        prepare(con)
        for source in EVENT_SOURCES:
            con.execute(f"alter table {source.qualified_table} drop column loaded_at")
    killed = subprocess.run(
        [sys.executable, "-c", PREPARE_THEN_DIE, str(warehouse)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for source in EVENT_SOURCES:
            columns = [c[0] for c in con.execute(f"describe {source.qualified_table}").fetchall()]
            assert "loaded_at" in columns, source.table
    finally:
        con.close()
