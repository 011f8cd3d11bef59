"""Runs that pull from a real LRS (Ralph): the same marts as a file load, and an LRS that
fails stops nothing else."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import random
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.contract import VOIDED_VERB
from pipelines.defs.transform.project import run_dbt
from pipelines.runner import run_all
from pipelines.synthetic.generator import GenerateOptions, generate
from tests.lrs.fixtures import RalphLRS

EVENTS = ("mission_progress", "assessment_attempts")


def _statements(landing: Path) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted((landing / "xapi").glob("xapi_*.jsonl"))
        for line in path.read_text().splitlines()
    ]


def _env(monkeypatch, lrs: RalphLRS, password: str | None = None) -> None:
    monkeypatch.setenv("COHORTLENS_LRS_ENDPOINT", lrs.endpoint)
    monkeypatch.setenv("COHORTLENS_LRS_USERNAME", lrs.username)
    monkeypatch.setenv("COHORTLENS_LRS_PASSWORD", password or lrs.password)


def _comparable(value):
    """Sums of doubles taken in another order differ in their last bits; NaN is NaN."""
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else round(value, 9)
    return value


def _tables(warehouse: Path) -> dict[str, list[tuple]]:
    """Every mart, rows sorted (columns that say when a run wrote them left out)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "select schema_name || '.' || table_name, list(column_name order by column_index)"
            " from duckdb_columns() where schema_name = 'marts'"
            " and not suffix(column_name, 'loaded_at')"
            " group by 1"
        ).fetchall()
        rows = {}
        for name, columns in tables:
            quoted = ", ".join(f'"{c}"' for c in columns)
            fetched = con.execute(f"select {quoted} from {name}").fetchall()
            rows[name] = sorted((tuple(map(_comparable, r)) for r in fetched), key=repr)
        return rows
    finally:
        con.close()


def _texts_holding(warehouse: Path, secret: str) -> list[str]:
    """Every text column of the warehouse with a value containing `secret`."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = con.execute(
            "select schema_name, table_name, column_name from duckdb_columns()"
            " where data_type in ('VARCHAR', 'JSON') and not internal"
        ).fetchall()
        return [
            f"{schema}.{table}.{column}"
            for schema, table, column in columns
            if con.execute(
                f'select count(*) from "{schema}"."{table}" where contains("{column}", ?)',
                [secret],
            ).fetchone()[0]
        ]
    finally:
        con.close()


def _build(warehouse: Path, workdir: Path) -> None:
    done = run_dbt(["build"], warehouse, workdir)
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.mark.slow
def test_statements_pulled_in_two_runs_build_the_marts_of_a_file_load(
    tmp_path, ralph_lrs: RalphLRS, monkeypatch
):
    """A 50-learner program: once as landing files, once POSTed to Ralph in two halves, each
    pulled and loaded by a run, then built by dbt (incrementally, the second time). Five
    statements are voided in both. The marts agree. (Runs ingest only and dbt builds alone:
    the forecasts read the marts, and would triple the test's time.)"""
    program = tmp_path / "program"
    generate(
        GenerateOptions(out=program, learners=50, seed=11, start_date=dt.date(2026, 1, 5), weeks=4)
    )
    statements = _statements(program)
    targets = random.Random(3).sample(statements, 5)
    voidings = [
        {
            "id": f"00000000-0000-4000-8000-{n:012d}",
            "actor": {"mbox": "mailto:lrs-admin@cohortlens.example"},
            "verb": {"id": VOIDED_VERB, "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": target["id"]},
            # Voided today, as an administrator would: LRSs that compare `since` with the
            # timestamp (Ralph) miss a statement dated before their lookback window.
            "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        }
        for n, target in enumerate(targets)
    ]

    files = tmp_path / "files"
    shutil.copytree(program, files)
    (files / "xapi" / "xapi_voidings.jsonl").write_text(
        "\n".join(json.dumps(v) for v in voidings) + "\n"
    )
    assert run_all(files, tmp_path / "files.duckdb", ingestion_only=True).ok
    _build(tmp_path / "files.duckdb", tmp_path)

    pulled = tmp_path / "pulled"
    shutil.copytree(program / "reference", pulled / "reference")
    for source in EVENTS:
        shutil.copytree(program / source, pulled / source)
    half = len(statements) // 2
    _env(monkeypatch, ralph_lrs)
    ralph_lrs.post(statements[:half])
    first = run_all(pulled, tmp_path / "pulled.duckdb", ingestion_only=True)
    assert first.ok, first.error
    assert first.lrs.endswith(f"{half:,} new in 1 file")
    _build(tmp_path / "pulled.duckdb", tmp_path)
    ralph_lrs.post([*statements[half:], *voidings])
    second = run_all(pulled, tmp_path / "pulled.duckdb", ingestion_only=True)
    assert second.ok, second.error
    _build(tmp_path / "pulled.duckdb", tmp_path)

    by_files, by_lrs = _tables(tmp_path / "files.duckdb"), _tables(tmp_path / "pulled.duckdb")
    assert by_files.keys() == by_lrs.keys()
    assert [t for t in by_files if by_files[t] != by_lrs[t]] == []
    con = duckdb.connect(str(tmp_path / "pulled.duckdb"), read_only=True)
    assert con.execute(
        "select count(*) from audit.xapi_voidings where status = 'applied'"
    ).fetchone() == (5,)
    con.close()
    # No secret in what a run leaves behind: any text of the warehouse, the landing files
    # (decompressed), the run's log (the dashboards' snapshot is made from the warehouse).
    assert _texts_holding(tmp_path / "pulled.duckdb", ralph_lrs.password) == []
    secret = ralph_lrs.password.encode()
    for path in [first.log, second.log, *pulled.rglob("*")]:
        if path.is_file():
            data = path.read_bytes()
            if path.name.endswith(".gz"):
                data = gzip.decompress(data)
            assert secret not in data, path


def test_an_lrs_refusing_the_run_fails_it_in_one_line_and_files_still_load(
    tmp_path, small_batch, ralph_lrs: RalphLRS, monkeypatch
):
    landing = tmp_path / "landing"
    shutil.copytree(small_batch.landing / "reference", landing / "reference")
    (landing / "xapi").mkdir()
    day = sorted((small_batch.landing / "xapi").glob("*.jsonl"))[0]
    shutil.copy(day, landing / "xapi" / day.name)
    secret = "wrong-" + ralph_lrs.password
    _env(monkeypatch, ralph_lrs, password=secret)

    report = run_all(landing, tmp_path / "warehouse.duckdb", ingestion_only=True)

    assert not report.success
    assert "refused the username and password (HTTP 401)" in report.error
    assert report.error.count("\n") == 0
    (xapi,) = [s for s in report.sources if s.source == "xapi"]
    assert xapi.rows_loaded == len(day.read_text().splitlines())
    assert secret not in report.log.read_text()
    assert _texts_holding(tmp_path / "warehouse.duckdb", secret) == []
