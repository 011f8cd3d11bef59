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
