"""`cohortlens forecast` on a real Dask cluster (a scheduler and two workers on 127.0.0.1):
the same tables as in-process; one clear line when there is no scheduler. (A worker killed
mid-forecast: tests/engine/test_cluster.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.cli import app

runner = CliRunner()


def forecast_tables(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table of the forecasts schema, every row, in a fixed order."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            name
            for (name,) in con.sql(
                "select table_name from duckdb_tables() where schema_name = 'forecasts' order by 1"
            ).fetchall()
        ]
        return {
            t: [tuple("NaN" if v != v else v for v in row) for row in rows]  # NaN == NaN here
            for t in tables
            for rows in [con.sql(f"select * from forecasts.{t} order by all").fetchall()]
        }


@pytest.fixture()
def program(built_program, tmp_path) -> Path:
    """A copy of the built program (forecast in-process by its full run), truth included."""
    shutil.copytree(built_program.landing, tmp_path / "landing")
    shutil.copytree(built_program.landing.parent / "truth", tmp_path / "truth")
    shutil.copy(built_program.warehouse, tmp_path / "warehouse.duckdb")
    return tmp_path


def paths(program: Path) -> list[str]:
    return ["--landing", str(program / "landing"), "--warehouse", str(program / "warehouse.duckdb")]


@pytest.mark.slow
def test_a_forecast_on_the_cluster_writes_the_tables_of_the_in_process_run(
    program, built_program, dask_cluster
):
    expected = forecast_tables(built_program.warehouse)
    result = runner.invoke(
        app, ["forecast", *paths(program), "--dask-scheduler", dask_cluster.address]
    )
    assert result.exit_code == 0, result.output
    assert f"ran on a Dask cluster of 2 workers (2 threads) at {dask_cluster.address}" in (
        " ".join(result.output.split())
    )
    got = forecast_tables(program / "warehouse.duckdb")
    assert got.keys() == expected.keys() and len(got["mastery_forecast"]) > 200
    for table, rows in expected.items():
        assert got[table] == rows, table


def test_an_unreachable_scheduler_is_one_line_and_changes_nothing(program, monkeypatch):
    before = forecast_tables(program / "warehouse.duckdb")
    monkeypatch.setenv("COHORTLENS_DASK_CONNECT_TIMEOUT", "1")
    nobody = "tcp://127.0.0.1:9"  # the discard port: nothing listens there
    result = runner.invoke(app, ["forecast", *paths(program), "--dask-scheduler", nobody])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no Dask scheduler answered at"), lines
    assert "Traceback" not in result.output
    assert forecast_tables(program / "warehouse.duckdb") == before
