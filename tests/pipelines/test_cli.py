import shutil
from pathlib import Path

from typer.testing import CliRunner

from pipelines.cli import app

runner = CliRunner()


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


def test_run_loads_through_dagster_and_ends_with_a_reconciled_summary(small_batch, tmp_path):
    import shutil

    landing = tmp_path / "landing"
    shutil.copytree(small_batch.landing / "reference", landing / "reference")
    shutil.copytree(small_batch.landing / "assessment_attempts", landing / "assessment_attempts")
    shutil.copytree(small_batch.landing / "xapi", landing / "xapi")  # study time, for forecasts
    (landing / "stray.txt").write_text("no source")
    warehouse = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    assert "assessment_attempts" in result.output and "unrecognized" in result.output
    assert "checks:" in result.output and "Traceback" not in result.output

    again = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(warehouse)])
    assert again.exit_code == 0 and "(no new files)" in again.output


def test_run_fails_with_one_clear_line(tmp_path):
    missing = runner.invoke(app, ["run", "--landing", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / "learners.csv").write_text("learner_id\nL1\n")
    blocked = tmp_path / "warehouse-is-a-folder"
    blocked.mkdir()
    failed = runner.invoke(app, ["run", "--landing", str(tmp_path / "landing"),
                                 "--warehouse", str(blocked)])  # fmt: skip
    assert failed.exit_code == 1
    assert "error:" in failed.output and "Traceback" not in failed.output


def test_forecast_runs_the_batch_alone_and_prints_the_backtest(built_program, tmp_path):
    shutil.copy(built_program.warehouse, tmp_path / "warehouse.duckdb")
    shutil.copytree(built_program.landing, tmp_path / "landing")
    shutil.copytree(built_program.landing.parent / "truth", tmp_path / "truth")
    result = runner.invoke(
        app,
        ["forecast", "--landing", str(tmp_path / "landing"),
         "--warehouse", str(tmp_path / "warehouse.duckdb"), "--draws", "60"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "mastery forecast as of" in result.output
    assert "engine (Monte Carlo)" in result.output and "seed 004" in result.output


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


def test_users_are_added_listed_and_removed_with_the_password_on_stdin(tmp_path, monkeypatch):
    monkeypatch.setenv("COHORTLENS_HOME", str(tmp_path))
    added = runner.invoke(
        app, ["users", "add", "sup", "--role", "supervisor", "--org", "ORG01", "--password-stdin"],
        input="a good password\n",
    )  # fmt: skip
    assert added.exit_code == 0 and "sees ORG01" in added.output
    listed = runner.invoke(app, ["users", "list"])
    assert "sup" in listed.output and "$argon2" not in listed.output
    again = runner.invoke(app, ["users", "add", "sup", "--role", "admin", "--password-stdin"],
                          input="another password\n")  # fmt: skip
    assert again.exit_code == 2 and "exists already" in again.output
    no_stdin = runner.invoke(app, ["users", "add", "x1", "--role", "admin"])
    assert no_stdin.exit_code == 2 and "--password-stdin" in no_stdin.output
    assert runner.invoke(app, ["users", "remove", "sup"]).exit_code == 0
    assert runner.invoke(app, ["users", "remove", "sup"]).exit_code == 2


def test_a_single_sign_on_account_needs_no_password(tmp_path, monkeypatch):
    monkeypatch.setenv("COHORTLENS_HOME", str(tmp_path))
    added = runner.invoke(
        app, ["users", "add", "ada", "--role", "admin", "--identity", "Ada@Example.org"]
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["users", "list"], env={"COLUMNS": "160"})
    assert "ada@example.org" in listed.output
    taken = runner.invoke(
        app, ["users", "add", "eve", "--role", "admin", "--identity", "ada@example.org"]
    )
    assert taken.exit_code == 2 and "belongs to another account" in taken.output
