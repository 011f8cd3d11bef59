"""The statement id test checks the statements loaded since it last passed, against them all."""

from __future__ import annotations

import shutil
import subprocess

import duckdb
import pytest

from pipelines.defs.transform.project import run_dbt

pytestmark = pytest.mark.slow  # each test builds with dbt or Dagster

KEY = "stg_xapi__statements.statement_id"
TEST = "unique_since_last_pass_stg_xapi__statements_statement_id__loaded_at"


def _sql(warehouse, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _dbt_test(warehouse, tmp_path, *extra: str) -> subprocess.CompletedProcess:
    return run_dbt(["test", "--select", TEST, *extra], warehouse, tmp_path, timeout_s=300)


def _watermarks(warehouse) -> list[tuple]:
    return _sql(
        warehouse,
        "select tested_through from audit.dbt_test_watermarks"
        f" where test_key = '{KEY}' order by recorded_at",
    )


def _add_copy_of_a_statement(warehouse, loaded_at: str) -> None:
    """A second row for an old statement id, as a loader that forgot an id would write it."""
    _sql(
        warehouse,
        f"insert into raw.xapi_statements select * replace ({loaded_at} as loaded_at)"
        " from raw.xapi_statements order by loaded_at, file_id, record_number limit 1",
    )


def test_a_new_copy_of_an_old_statement_fails_and_holds_the_watermark(built_program, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_program.warehouse, warehouse)
    # The build through Dagster passed the test and recorded what it had checked.
    (latest_loaded,) = _sql(warehouse, "select max(loaded_at) from raw.xapi_statements")
    assert _watermarks(warehouse)[-1] == latest_loaded
    marks_before = _watermarks(warehouse)

    _add_copy_of_a_statement(warehouse, "get_current_timestamp() at time zone 'UTC'")
    failed = _dbt_test(warehouse, tmp_path)
    assert failed.returncode == 1, failed.stdout[-2000:]
    assert "Got 1 result, configured to fail if != 0" in failed.stdout, failed.stdout[-2000:]
    assert _watermarks(warehouse) == marks_before, "a failed test moves no watermark"

    _sql(
        warehouse,
        "delete from raw.xapi_statements where loaded_at > (select max(tested_through)"
        " from audit.dbt_test_watermarks)",
    )
    passed = _dbt_test(warehouse, tmp_path)
    assert passed.returncode == 0, passed.stdout[-2000:]
    assert len(_watermarks(warehouse)) == len(marks_before) + 1


def test_rows_loaded_before_the_watermark_are_checked_with_every_row_on_request(
    built_program, tmp_path
):
    """A statement and its copy both stamped before the watermark (no loader writes that) are
    outside the scoped check; test_every_row, like --full-refresh, checks every row again."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_program.warehouse, warehouse)
    _add_copy_of_a_statement(warehouse, "timestamp '2000-01-01'")
    _sql(
        warehouse,
        "update raw.xapi_statements set loaded_at = timestamp '2000-01-01'"
        " where statement_id in (select statement_id from raw.xapi_statements"
        " where loaded_at = timestamp '2000-01-01')",
    )
    assert _dbt_test(warehouse, tmp_path).returncode == 0
    every_row = _dbt_test(warehouse, tmp_path, "--vars", "{test_every_row: true}")
    assert every_row.returncode == 1, every_row.stdout[-2000:]
