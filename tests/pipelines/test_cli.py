import datetime as dt
import os
import shutil
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app, backtest_table

runner = CliRunner()


def test_flags_show_bare_in_every_help():
    for command in ([], ["generate"], ["run"], ["forecast"], ["users"], ["users", "add"]):
        result = runner.invoke(app, [*command, "--help"], terminal_width=200)
        assert result.exit_code == 0
        assert "<bool>" not in result.output, command


def test_help_explains_every_generate_option():
    result = runner.invoke(app, ["generate", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for option in (
        "--out",
        "--learners",
        "--seed",
        "--weeks",
        "--start-date",
        "--until",
        "--truth",
        "--orgs",
        "--gzip",
        "--follow",
        "--interval",
    ):
        assert option in result.output


def test_generate_prints_a_summary_of_the_batch(tmp_path: Path):
    out = tmp_path / "landing"
    result = runner.invoke(
        app,
        [
            "generate",
            "--out",
            str(out),
            "--learners",
            "60",
            "--seed",
            "3",
            "--start-date",
            "2026-01-05",
            "--weeks",
            "2",
        ],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert "4 / 4 / 60" in result.output  # organizations / cohorts / learners
    assert "xapi records / files" in result.output
    assert (tmp_path / "truth" / "learners.parquet").exists()
    assert len(list((out / "xapi").glob("xapi_*.jsonl"))) == 14


def test_bad_input_gets_one_clear_line_and_no_traceback(tmp_path: Path):
    result = runner.invoke(app, ["generate", "--out", str(tmp_path), "--until", "someday"])
    assert result.exit_code == 2
    assert "is not a date" in result.output and "Traceback" not in result.output

    args = [
        "generate",
        "--out",
        str(tmp_path / "l"),
        "--learners",
        "20",
        "--weeks",
        "1",
        "--start-date",
        "2026-01-05",
    ]
    assert runner.invoke(app, [*args, "--seed", "1"]).exit_code == 0
    clash = runner.invoke(app, [*args, "--seed", "2"])
    assert clash.exit_code == 2
    assert "other seed" in clash.output and "Traceback" not in clash.output


@pytest.mark.slow
def test_run_loads_through_dagster_and_ends_with_a_reconciled_summary(small_batch, tmp_path):
    import shutil

    landing = tmp_path / "landing"
    shutil.copytree(small_batch.landing / "reference", landing / "reference")
    shutil.copytree(small_batch.landing / "assessment_attempts", landing / "assessment_attempts")
    shutil.copytree(small_batch.landing / "xapi", landing / "xapi")  # study time, for forecasts
    (landing / "stray.txt").write_text("no source")
    home = tmp_path / "home"  # a folder the run makes
    warehouse = home / "w.duckdb"
    usual = os.umask(0o022)  # world-readable, unless the command says otherwise
    try:
        result = runner.invoke(
            app, ["run", "--landing", str(landing), "--warehouse", str(warehouse)]
        )
    finally:
        os.umask(usual)
    assert result.exit_code == 0, result.output
    shared = [
        f"{path.relative_to(home)} {stat.filemode(path.stat().st_mode)}"
        for path in [home, *home.rglob("*")]
        if path.stat().st_mode & 0o077
    ]
    assert shared == [], "the warehouse, snapshots and logs are their owner's only"
    assert "assessment_attempts" in result.output and "unrecognized" in result.output
    assert "checks:" in result.output and "Traceback" not in result.output
    assert "rejected: stray.txt: " in result.output, "a rejected file says why"
    assert "{'" not in result.output, "warnings are sentences, not dicts"

    again = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(warehouse)])
    assert again.exit_code == 0 and "nothing new since the run of" in again.output
    assert "dbt models built" not in again.output
    forced = runner.invoke(
        app, ["run", "--landing", str(landing), "--warehouse", str(warehouse), "--force"]
    )
    assert forced.exit_code == 0 and "(no new files)" in forced.output


def test_run_fails_with_one_clear_line(tmp_path):
    missing = runner.invoke(app, ["run", "--landing", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    (tmp_path / "empty").mkdir()
    empty = runner.invoke(
        app,
        ["run", "--landing", str(tmp_path / "empty"), "--warehouse", str(tmp_path / "w.duckdb")],
    )
    assert empty.exit_code == 2 and "nothing to load" in empty.output
    assert len(empty.output.strip().splitlines()) == 1 and "Traceback" not in empty.output
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / "learners.csv").write_text("learner_id\nL1\n")
    blocked = tmp_path / "warehouse-is-a-folder"
    blocked.mkdir()
    failed = runner.invoke(
        app, ["run", "--landing", str(tmp_path / "landing"), "--warehouse", str(blocked)]
    )
    assert failed.exit_code == 1
    assert "error:" in failed.output and "Traceback" not in failed.output


@pytest.mark.slow
def test_forecast_runs_the_batch_alone_and_prints_the_backtest(built_program, tmp_path):
    shutil.copy(built_program.warehouse, tmp_path / "warehouse.duckdb")
    shutil.copytree(built_program.landing, tmp_path / "landing")
    shutil.copytree(built_program.landing.parent / "truth", tmp_path / "truth")
    result = runner.invoke(
        app,
        [
            "forecast",
            "--landing",
            str(tmp_path / "landing"),
            "--warehouse",
            str(tmp_path / "warehouse.duckdb"),
            "--draws",
            "60",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "mastery forecast as of" in result.output
    assert "engine (Monte Carlo)" in result.output and "linear, ±20 %" in result.output
    assert "truth and held-out answers" in result.output


@pytest.mark.slow
def test_forecast_of_one_organization_replaces_its_rows_then_the_readers(built_program, tmp_path):
    """`--org`: that organization's forecasts are the nightly run's again, every other row is
    left as it was (spoiled here), and the marts that read forecasts are rebuilt."""
    import duckdb

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_program.warehouse, warehouse)
    shutil.copytree(built_program.landing, tmp_path / "landing")
    mine = "select learner_id from raw.learners where org_id = ?"
    with duckdb.connect(str(warehouse)) as con:
        org = con.execute("select org_id from raw.organizations order by 1").fetchall()[1][0]
        nightly = con.execute(
            f"select * from forecasts.mastery_forecast where learner_id in ({mine}) order by all",
            [org],
        ).fetchall()
        con.execute("update forecasts.mastery_forecast set p_mastery_by_target = -1")
        [(learners,)] = con.execute("select count(*) from marts.learner_readiness").fetchall()
        con.execute("drop table marts.learner_readiness")
    arguments = ["forecast", "--landing", str(tmp_path / "landing"), "--warehouse"]
    result = runner.invoke(app, [*arguments, str(warehouse), "--org", org])
    assert result.exit_code == 0, result.output
    assert f"learners of {org}" in result.output and "the program's, from its last" in result.output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        again = con.execute(
            f"select * from forecasts.mastery_forecast where learner_id in ({mine}) order by all",
            [org],
        ).fetchall()
        others = con.execute(
            "select count(*), count(*) filter (where p_mastery_by_target = -1)"
            f" from forecasts.mastery_forecast where learner_id not in ({mine})",
            [org],
        ).fetchall()
        [(rebuilt,)] = con.execute("select count(*) from marts.learner_readiness").fetchall()
    assert again == nightly and len(again) > 20
    assert others[0][0] == others[0][1] > 0, "other organizations' rows were not touched"
    assert rebuilt == learners, "learner_readiness was built again"

    unknown = runner.invoke(app, [*arguments, str(warehouse), "--org", "NO-SUCH-ORG"])
    assert unknown.exit_code == 2 and "Traceback" not in unknown.output
    assert "no organization NO-SUCH-ORG" in unknown.output and org in unknown.output
    # The marts read one day's forecasts and risks: another day than the full forecast's
    # would leave every other organization without either.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        risks = "select max(as_of_date) from forecasts.disengagement_risk"
        [(day,)] = con.execute(risks).fetchall()
    later = (day + dt.timedelta(days=1)).isoformat()
    other_day = runner.invoke(app, [*arguments, str(warehouse), "--org", org, "--as-of", later])
    assert other_day.exit_code == 2 and "Traceback" not in other_day.output
    assert f"the last full forecast is as of {day}" in other_day.output


def test_a_backtest_without_truth_says_it_scored_the_held_out_answers_only():
    from rich.console import Console

    rows = [
        (8, False, "engine (Monte Carlo)", None, None, 0.21, None, 0.331, 0.79),
        (8, False, "linear, ±20 %", None, None, 0.05, None, 0.340, None),
    ]
    console = Console(width=130, record=True)
    console.print(backtest_table(rows))
    text = console.export_text()
    assert "held-out answers only" in text and "no ground truth" in text
    assert "0.331" in text and "0.790" in text and "linear, ±20 %" in text


def test_forecast_without_a_warehouse_says_so_in_one_line(tmp_path):
    result = runner.invoke(app, ["forecast", "--warehouse", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_compact_reports_the_row_groups_it_merged(holed_warehouse, tmp_path):
    result = runner.invoke(app, ["compact", "--warehouse", str(holed_warehouse)])
    assert result.exit_code == 0, result.output
    assert "row groups:" in result.output
    missing = runner.invoke(app, ["compact", "--warehouse", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2
    assert "does not exist" in missing.output and "Traceback" not in missing.output


def test_forecast_of_an_organization_needs_a_full_forecast_first(tmp_path):
    """The organization is known, but no full forecast has run: refused in one line, before
    anything runs."""
    import duckdb

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.organizations as select 'ORG01' as org_id")
    result = runner.invoke(app, ["forecast", "--warehouse", str(warehouse), "--org", "ORG01"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "no full forecast yet" in result.output
