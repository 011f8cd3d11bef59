"""One run at a time: while a run holds the warehouse, the sensor and the refresh skip, the
nightly jobs start runs that wait their turn, and `cohortlens run` says whose run it is, or
waits; a run killed with -9 blocks nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import dagster as dg
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.defs.forecast.schedules import nightly_forecast_schedule
from pipelines.defs.ingest.schedules import refresh_schedule
from pipelines.defs.maintenance.schedules import nightly_compaction_schedule
from pipelines.defs.resources import WarehouseResource
from pipelines.paths import REPO_ROOT
from pipelines.runner import run_all
from pipelines.warehouse import RunInProgress, run_holder
from tests.pipelines.defs.evaluate import evaluate_schedule, evaluate_sensor

# Holds the warehouse's run lock for argv[2] seconds, as a long run would.
HOLD_THE_RUN_LOCK = """
import sys, time
from pathlib import Path
from pipelines.warehouse import run_lock

with run_lock(Path(sys.argv[1]), command="a long test run"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""
SCHEDULES = [refresh_schedule, nightly_forecast_schedule, nightly_compaction_schedule]
NIGHTLY = [nightly_forecast_schedule, nightly_compaction_schedule]  # never lose a night


def hold_run_lock(warehouse, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_RUN_LOCK, str(warehouse), str(seconds)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


@pytest.fixture
def landing(small_batch, tmp_path):
    folder = tmp_path / "landing"
    (folder / "reference").mkdir(parents=True)
    for path in (small_batch.landing / "reference").iterdir():
        (folder / "reference" / path.name).write_bytes(path.read_bytes())
    return folder


def test_the_sensor_and_refresh_skip_while_a_run_holds_the_warehouse(landing, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    resources = {"warehouse": WarehouseResource(landing=str(landing), warehouse=str(warehouse))}
    holder = hold_run_lock(warehouse, 60)
    try:
        skipped = evaluate_sensor(resources=resources)
        assert isinstance(skipped, dg.SkipReason)
        assert f"under pid {holder.pid} (a long test run)" in skipped.skip_message
        context = dict(scheduled_execution_time=None, resources=resources)
        refresh = evaluate_schedule(refresh_schedule, **context)
        assert not refresh.run_requests and f"pid {holder.pid}" in refresh.skip_message
        for schedule in NIGHTLY:  # their runs wait for the lock (WarehouseResource)
            assert evaluate_schedule(schedule, **context).run_requests
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # Killed with -9, it left its lock file (and pid) behind: stale, so taken over.
    assert run_holder(warehouse) is None
    assert isinstance(evaluate_sensor(resources=resources), dg.RunRequest)
    for schedule in SCHEDULES:
        context = dict(scheduled_execution_time=None, resources=resources)
        assert evaluate_schedule(schedule, **context).run_requests


@pytest.mark.slow
def test_a_second_run_says_whose_run_is_in_progress_or_waits_for_it(landing, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    holder = hold_run_lock(warehouse, 3)
    try:
        result = CliRunner().invoke(
            app, ["run", "--landing", str(landing), "--warehouse", str(warehouse)]
        )
        assert result.exit_code == 3
        assert "another run is in progress since" in result.output
        assert f"under pid {holder.pid}" in result.output and "Traceback" not in result.output
        with pytest.raises(RunInProgress):
            run_all(landing, warehouse, ingestion_only=True, wait_s=0.5)
        started = time.monotonic()
        waited = run_all(landing, warehouse, ingestion_only=True, wait_s=60)
        assert waited.ok and time.monotonic() - started < 30, "it ran once the first had ended"
    finally:
        holder.kill()
        holder.wait()
