"""The serving snapshot: what it holds, and readers that never see a half-published one."""

from __future__ import annotations

import shutil
import threading

import duckdb
import pytest

from dashboards import data
from dashboards.auth import Principal
from pipelines.defs.resources import ForecastSettings
from pipelines.runner import run_all
from pipelines.serving import current, publish


def test_the_snapshot_holds_what_dashboards_read_and_no_payloads(built_program, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_program.warehouse, warehouse)
    assert current(tmp_path / "serving") is None
    snap = publish(warehouse)
    assert current(tmp_path / "serving") == snap
    with duckdb.connect(str(snap.path), read_only=True) as con:
        schemas = {
            r[0] for r in con.sql("select table_schema from information_schema.tables").fetchall()
        }
        columns = {
            r[0]
            for r in con.sql(
                "select column_name from information_schema.columns where table_schema = 'audit'"
            ).fetchall()
        }
    assert schemas == {"marts", "forecasts", "audit", "meta"}
    assert "payload" not in columns


@pytest.mark.slow
def test_readers_see_no_error_while_a_run_publishes(built_program, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(built_program.landing, landing)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_program.warehouse, warehouse)
    serving = tmp_path / "serving"
    publish(warehouse)
    admin = Principal("admin", "admin")
    errors, reads, seen = [], 0, set()
    done = threading.Event()

    def pipeline():
        try:
            run_all(
                landing, warehouse, forecast_only=True, forecast_settings=ForecastSettings(draws=20)
            )
            for _ in range(5):
                publish(warehouse)
        finally:
            done.set()

    def reader():
        nonlocal reads
        # Two readers at once, like two dashboard sessions sharing the open snapshot.
        while not done.is_set() or reads < 20:
            try:
                seen.add(data.snapshot(serving).path.name)
                assert not data.learners(serving, admin).is_empty()
                assert not data.cohorts(serving, admin).is_empty()
            except Exception as exc:  # every kind counts
                errors.append(repr(exc))
            reads += 1

    threads = [threading.Thread(target=f) for f in (pipeline, reader, reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and reads >= 20
    assert len(seen) >= 3, "the readers went through several published snapshots"
