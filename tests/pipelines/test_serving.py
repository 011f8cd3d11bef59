"""The serving snapshot: what it holds, what a publication copies, and readers that never see
a gap — across swaps, prunes, killed publications, a corrupt pointer and long uptimes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from dashboards import data
from dashboards.auth import Principal
from pipelines import serving as serving_module
from pipelines.paths import REPO_ROOT
from pipelines.serving import connect, current, publish
from pipelines.warehouse import compact, open_writer

ADMIN = Principal("admin", "admin")


def change_readiness(warehouse, delta: int = 1) -> None:
    """What a run that rebuilt one mart does: every readiness score moves by ``delta``."""
    with open_writer(warehouse) as con:
        con.execute(
            "update marts.learner_readiness set readiness_score = readiness_score + ?", [delta]
        )


def leftovers(serving) -> list[str]:
    """Files no publication accounts for: partial tables, temps, tables no manifest names."""
    named = set()
    for manifest in serving.glob("snapshot-*.json"):
        named.update(json.loads(manifest.read_text())["tables"].values())
    found = [p.name for p in serving.glob(".*") if p.name != ".publishing.lock"]
    found += [p.name for p in (serving / "tables").iterdir() if p.name not in named]
    return sorted(found)


def test_the_snapshot_holds_what_dashboards_read_and_no_payloads(built_program, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_program.warehouse, warehouse)
    assert current(tmp_path / "serving") is None
    snap = publish(warehouse).snapshot
    assert current(tmp_path / "serving") == snap
    with connect(snap) as con:
        schemas = {
            r[0]
            for r in con.sql(
                "select table_schema from information_schema.tables"
                " where table_catalog = current_database()"
            ).fetchall()
        }
        columns = {
            r[0]
            for r in con.sql(
                "select column_name from information_schema.columns where table_schema = 'audit'"
            ).fetchall()
        }
        marts = {
            r[0]
            for r in con.sql(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    assert schemas == {"marts", "forecasts", "audit", "meta"}
    assert "payload" not in columns
    # The engine's input question by question stays in the warehouse; what pages read is there.
    assert "learner_question_weekly" not in marts and "learner_readiness" in marts


def test_a_publication_copies_only_the_tables_that_changed(tiny_warehouse):
    serving = tiny_warehouse.parent / "serving"
    first = publish(tiny_warehouse)
    assert "marts.learner_readiness" in first.copied and first.carried == []
    again = publish(tiny_warehouse)
    assert again.copied == [] and again.bytes_written == 0, "nothing changed, nothing copied"
    change_readiness(tiny_warehouse, 5)
    third = publish(tiny_warehouse)
    assert third.copied == ["marts.learner_readiness"]
    assert "forecasts.mastery_forecast" in third.carried
    with connect(third.snapshot) as con:
        (total,) = con.execute(
            "select sum(readiness_score) from marts.learner_readiness"
        ).fetchone()
    with open_writer(tiny_warehouse) as con:
        (expected,) = con.execute(
            "select sum(readiness_score) from marts.learner_readiness"
        ).fetchone()
    assert total == expected
    assert current(serving).path == third.snapshot.path


@pytest.mark.slow
def test_readers_see_no_gap_while_aged_snapshots_are_replaced(built_program, tmp_path, monkeypatch):
    """Four readers while twenty publications replace snapshots that had been current for an
    hour. With no grace period at all, a replaced publication's files go the moment it is
    replaced: a reader that resolved it just before must look again, and finds the new one."""
    monkeypatch.setattr(serving_module, "GRACE_SECONDS", 0.0)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_program.warehouse, warehouse)
    serving = tmp_path / "serving"
    publish(warehouse)
    errors, reads = [], [0]
    done = threading.Event()

    def reader():
        while not done.is_set():
            try:
                assert not data.learners(serving, ADMIN).is_empty()
                assert not data.cohorts(serving, ADMIN).is_empty()
            except Exception as exc:  # every kind counts
                errors.append(repr(exc))
            reads[0] += 1
            time.sleep(0.002)  # sessions pause between reads; the publisher gets its turn

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for i in range(20):
            hour_ago = time.time() - 3600
            for path in serving.rglob("*"):
                os.utime(path, (hour_ago, hour_ago))
            with open_writer(warehouse) as con:  # one mart rebuilt, as a refresh does
                con.execute("update marts.cohort_summary set n_learners = n_learners + ?", [i])
            publish(warehouse)
    finally:
        done.set()
        for thread in threads:
            thread.join()
    assert errors == [], errors[:3]
    assert reads[0] >= 40
    assert leftovers(serving) == []


KILL_DURING_PUBLISH = """
import os, signal, sys
from pathlib import Path
from pipelines import serving

point = sys.argv[2]
replace = os.replace

def replace_or_die(src, dst):
    name = Path(dst).name
    if point == "before renaming a table" and str(src).endswith(".partial"):
        os.kill(os.getpid(), signal.SIGKILL)
    replace(src, dst)
    if point == "after renaming a table" and name.endswith(".duckdb"):
        os.kill(os.getpid(), signal.SIGKILL)
    if point == "before the pointer" and name.startswith("snapshot-"):
        os.kill(os.getpid(), signal.SIGKILL)

copy = serving._copy_table

def copy_or_die(con, name, query, tables_dir, stamp, params=None):
    if point == "while copying":
        con.execute(f"attach '{tables_dir}/.{name}.{stamp}.duckdb.partial' as snap")
        con.execute(f"create table snap.main.data as {query}", params or [])
        os.kill(os.getpid(), signal.SIGKILL)
    return copy(con, name, query, tables_dir, stamp, params)

serving.os.replace = replace_or_die
serving._copy_table = copy_or_die
serving.publish(Path(sys.argv[1]))
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "point",
    ["while copying", "before renaming a table", "after renaming a table", "before the pointer"],
)
def test_a_publication_killed_at_any_point_leaves_readers_on_the_previous_one(
    tiny_warehouse, point
):
    serving = tiny_warehouse.parent / "serving"
    before = publish(tiny_warehouse).snapshot
    change_readiness(tiny_warehouse)
    killed = subprocess.run(
        [sys.executable, "-c", KILL_DURING_PUBLISH, str(tiny_warehouse), point],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert current(serving).path == before.path and current(serving).fallback is None
    assert not data.query(serving, ADMIN, "select * from scoped").is_empty()
    after = publish(tiny_warehouse)
    assert after.copied == ["marts.learner_readiness"]
    assert leftovers(serving) == [], "the next publication cleans up"


def test_a_corrupt_pointer_falls_back_to_the_newest_complete_snapshot_until_repaired(
    tiny_warehouse,
):
    serving = tiny_warehouse.parent / "serving"
    publish(tiny_warehouse)
    change_readiness(tiny_warehouse)
    newest = publish(tiny_warehouse).snapshot
    (serving / "current.json").write_text('{"file": "snapshot-2026')  # cut short
    fallen_back = current(serving)
    assert fallen_back.path == newest.path
    assert "unreadable" in data.snapshot_warning(serving)
    assert not data.query(serving, ADMIN, "select * from scoped").is_empty()
    (serving / "current.json").unlink()
    assert "missing" in data.snapshot_warning(serving)
    publish(tiny_warehouse)
    assert data.snapshot_warning(serving) is None, "the next publication repairs the pointer"


@pytest.mark.slow
def test_a_long_lived_reader_keeps_its_files_and_memory_bounded(tiny_warehouse, monkeypatch):
    """A dashboard process reading after each of 1,000 publications holds no more open files
    or memory at the end than after the first hundred."""
    # Publications every few minutes outlive a grace of some minutes: a few at a time are kept.
    monkeypatch.setattr(serving_module, "GRACE_SECONDS", 0.0)
    serving = tiny_warehouse.parent / "serving"

    def open_files() -> int:
        return len(os.listdir("/proc/self/fd"))

    def resident_mb() -> float:
        with open("/proc/self/status") as handle:
            status = handle.read()
        return int(status.split("VmRSS:")[1].split()[0]) / 1024

    for i in range(1000):
        if i % 10 == 0:  # a new table file now and then; a new publication every time
            change_readiness(tiny_warehouse, 1 if i % 20 else -1)
        publish(tiny_warehouse)
        assert not data.query(serving, ADMIN, "select * from scoped").is_empty()
        if i == 99:
            files_early, memory_early = open_files(), resident_mb()
    # Two publications kept, each of these tables: shared files count once.
    two_publications = 2 * len(current(serving).tables)
    assert data.open_connections(serving) <= 2
    assert data.attached_files(serving) <= two_publications, "a retired one releases its files"
    assert len(list((serving / "tables").iterdir())) <= two_publications, "replaced are deleted"
    assert open_files() <= files_early + 4
    assert resident_mb() <= memory_early + 64


def test_dashboards_keep_serving_while_the_warehouse_is_written_and_compacted(tiny_warehouse):
    serving = tiny_warehouse.parent / "serving"
    publish(tiny_warehouse)
    errors, reads = [], [0]
    done = threading.Event()

    def reader():
        while not done.is_set():
            try:
                assert not data.query(serving, ADMIN, "select * from scoped").is_empty()
            except Exception as exc:  # every kind counts
                errors.append(repr(exc))
            reads[0] += 1

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for delta in (1, -1, 1):
            change_readiness(tiny_warehouse, delta)
            compact(tiny_warehouse)
    finally:
        done.set()
        thread.join()
    assert errors == [] and reads[0] > 0


def test_a_table_rebuilt_twice_between_publications_is_copied_with_its_new_rows(
    tiny_warehouse,
):
    """The second rebuild may land in the blocks the first freed, with the same row count and
    range of values: the publication still sees that its rows changed."""
    serving = tiny_warehouse.parent / "serving"
    publish(tiny_warehouse)
    for shift in (1, 2):
        with open_writer(tiny_warehouse) as con:
            con.execute(
                "create or replace table marts.learner_readiness as select learner_id, org_id,"
                " cohort_id, (readiness_score + ?) % 100 as readiness_score"
                " from marts.learner_readiness",
                [shift],
            )
    done = publish(tiny_warehouse)
    assert "marts.learner_readiness" in done.copied
    with open_writer(tiny_warehouse) as con:
        expected = con.execute(
            "select learner_id, readiness_score from marts.learner_readiness order by 1"
        ).fetchall()
    served = data.query(
        serving, ADMIN, "select learner_id, readiness_score from marts.learner_readiness order by 1"
    )
    assert served.rows() == expected


def test_a_new_day_rewrites_only_the_months_it_touched_of_a_table_served_in_parts(
    tiny_warehouse,
):
    serving = tiny_warehouse.parent / "serving"
    with open_writer(tiny_warehouse) as con:
        con.execute(
            "create table marts.cohort_engagement_daily as select 'ORG0' as org_id,"
            " 'C0' as cohort_id, date '2026-09-01' + range::int as activity_date,"
            " range % 40 as daily_active_learners from range(90)"
        )
    first = publish(tiny_warehouse)
    months = [n for n in first.copied if n.startswith("marts.cohort_engagement_daily~")]
    assert len(months) == 3, months
    with open_writer(tiny_warehouse) as con:
        con.execute(
            "insert into marts.cohort_engagement_daily values ('ORG0', 'C0', date '2026-11-30', 7)"
        )
    second = publish(tiny_warehouse)
    assert second.copied == ["marts.cohort_engagement_daily~2026-11-01"]
    served = data.query(serving, ADMIN, "select count(*) as n from marts.cohort_engagement_daily")
    assert served["n"][0] == 91, "the view is the union of every month's part"
