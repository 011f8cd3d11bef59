"""The Dagster code location: assets materialize for real, checks reconcile, and the sensor and
schedule start the refresh job through their test contexts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import dagster as dg
import duckdb
import pytest

from pipelines.definitions import build_defs
from pipelines.defs.ingest.schedules import refresh_job, refresh_schedule
from pipelines.defs.resources import WarehouseResource
from pipelines.runner import run_all
from tests.pipelines.defs.evaluate import evaluate_schedule, evaluate_sensor


def test_importing_the_code_location_parses_no_dbt_project():
    probe = (
        "import pipelines.definitions\n"
        "from pipelines.defs.transform.assets import dbt_models\n"
        "print(dbt_models.cache_info().currsize)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0", "the dbt assets are built on first use, not at import"


def test_the_code_location_loads_with_every_raw_table_as_an_asset():
    defs = build_defs()
    job = defs.resolve_implicit_global_asset_job_def()
    keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    for table in (
        "organizations",
        "learners",
        "missions",
        "questions",
        "mission_progress",
        "assessment_attempts",
        "assessment_answers",
        "xapi_statements",
    ):
        assert f"raw/{table}" in keys
    assert defs.resolve_job_def("refresh") is not None


def test_materializing_every_asset_loads_the_landing_and_passes_the_checks(
    small_batch, built_program, tmp_path
):
    report = built_program.report

    assert report.ok, report.error
    by_source = {s.source: s for s in report.sources}
    assert by_source["xapi"].rows_loaded == small_batch.summary.records["xapi"]
    assert (
        by_source["mission_progress"].rows_loaded == small_batch.summary.records["mission_progress"]
    )
    names = {(c.asset, c.name) for c in report.checks if c.passed}
    assert ("raw/xapi_statements", "every_record_accounted_for") in names
    assert ("raw/xapi_statements", "quarantine_rate_below_threshold") in names
    # The batch is from early 2026: freshness warns, it does not fail the run.
    stale = {c.asset for c in report.warnings if c.name == "fresh"}
    assert "raw/xapi_statements" in stale

    assert "marts/fct_mission_attempts" in report.materialized, "dbt builds downstream"

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_program.warehouse, warehouse)
    again = run_all(built_program.landing, warehouse, ingestion_only=True)
    assert again.ok and again.sources == [], "a second run finds nothing new"


@pytest.mark.slow
def test_the_reconciliation_check_fails_when_rows_go_missing(small_batch, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(small_batch.landing / "reference", landing / "reference")
    shutil.copytree(small_batch.landing / "xapi", landing / "xapi")
    warehouse = tmp_path / "warehouse.duckdb"
    assert run_all(landing, warehouse, ingestion_only=True).ok
    con = duckdb.connect(str(warehouse))
    con.execute("delete from raw.xapi_statements where record_number = 1")
    con.close()

    report = run_all(landing, warehouse, ingestion_only=True)

    failed = {(c.asset, c.name) for c in report.failed_checks}
    assert ("raw/xapi_statements", "every_record_accounted_for") in failed
    assert not report.ok


def test_the_sensor_requests_a_refresh_only_when_the_landing_changes(small_batch, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(small_batch.landing / "reference", landing / "reference")
    resources = {"warehouse": WarehouseResource(landing=str(landing))}

    first = evaluate_sensor(resources=resources)
    assert isinstance(first, dg.RunRequest)
    cursor = first.run_key
    unchanged = evaluate_sensor(cursor=cursor, resources=resources)
    assert isinstance(unchanged, dg.SkipReason)

    (landing / "xapi").mkdir()
    shutil.copy(sorted((small_batch.landing / "xapi").glob("*"))[0], landing / "xapi")
    changed = evaluate_sensor(cursor=cursor, resources=resources)
    assert isinstance(changed, dg.RunRequest) and changed.run_key != cursor

    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = evaluate_sensor(resources={"warehouse": WarehouseResource(landing=str(empty))})
    assert isinstance(nothing, dg.SkipReason)


def test_the_schedule_refreshes_every_five_minutes_and_is_off_by_default(tmp_path):
    assert refresh_schedule.cron_schedule == "*/5 * * * *"
    assert refresh_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    context = dict(
        scheduled_execution_time=None,
        resources={"warehouse": WarehouseResource(warehouse=str(tmp_path / "w.duckdb"))},
    )
    (request,) = evaluate_schedule(refresh_schedule, **context).run_requests
    assert refresh_schedule.job_name == refresh_job.name == "refresh"
    assert isinstance(request, dg.RunRequest)


@pytest.mark.slow
def test_a_run_reports_the_records_it_released_from_quarantine(small_batch, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(small_batch.landing / "reference", landing / "reference")
    first_file = sorted((small_batch.landing / "xapi").glob("*.jsonl"))[0]
    statement = json.loads(first_file.read_text().splitlines()[0])
    statement["actor"]["account"]["name"] = "L9000004"
    (landing / "xapi").mkdir()
    (landing / "xapi" / "xapi_2026-01-10.jsonl").write_text(json.dumps(statement) + "\n")
    warehouse = tmp_path / "warehouse.duckdb"
    assert run_all(landing, warehouse, ingestion_only=True).released == {}

    learners = (landing / "reference" / "learners.csv").read_text().splitlines()
    joined = learners[1].replace(learners[1].split(",")[0], "L9000004", 1)
    (landing / "reference" / "learners_2026-02-01.csv").write_text(
        "\n".join([*learners, joined]) + "\n"
    )
    report = run_all(landing, warehouse, ingestion_only=True)

    assert report.ok and report.released == {"raw/xapi_statements": 1}
