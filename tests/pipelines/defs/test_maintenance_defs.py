"""The nightly compaction: a job Dagster runs on a schedule, after the nightly forecast."""

from __future__ import annotations

import dagster as dg
import duckdb

from pipelines.definitions import build_defs
from pipelines.defs.maintenance.schedules import nightly_compaction_schedule
from pipelines.defs.resources import WarehouseResource
from tests.pipelines.defs.evaluate import evaluate_schedule


def test_the_compaction_runs_nightly_after_the_forecast(tmp_path):
    assert nightly_compaction_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert nightly_compaction_schedule.cron_schedule == "30 4 * * *"
    assert nightly_compaction_schedule.job_name == "compaction"
    context = dict(
        scheduled_execution_time=None,
        resources={"warehouse": WarehouseResource(warehouse=str(tmp_path / "w.duckdb"))},
    )
    (request,) = evaluate_schedule(nightly_compaction_schedule, **context).run_requests
    assert request is not None


def test_the_compaction_job_compacts_the_configured_warehouse(holed_warehouse, tmp_path):
    warehouse = holed_warehouse
    defs = build_defs(
        WarehouseResource(landing=str(tmp_path / "landing"), warehouse=str(warehouse))
    )

    result = defs.resolve_job_def("compaction").execute_in_process()

    assert result.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        [(before, after)] = con.execute(
            "select row_groups_before, row_groups_after from audit.compactions"
        ).fetchall()
        assert con.execute("select count(*) from raw.events").fetchone() == (250000,)
    assert after < before
