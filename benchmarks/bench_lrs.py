"""Pulling xAPI from a real LRS (Ralph, on 127.0.0.1), and how long a POST takes to reach a mart.

Throughput. Baseline, same run: Ralph's own `GET statements` of every page, following `more`,
with nothing done to what comes back (timed before and after ours, the mean counts). Ours: a
whole pull, the same pages, then the ids checked against the ledger, the statements written as
a gzip landing file (fsync, rename) and entered in the ledger. Ralph's fs backend reads its whole
file for each page, so its cost per statement grows with the LRS: both sides pay it alike.

Latency. Statements POSTed to Ralph reach the marts through the `refresh` job (pull, load, the
dbt models): the job's duration is what a POST waits once a refresh starts. A 5-minute schedule
adds up to 5 minutes before it does (2.5 on average).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin

import duckdb
import requests

from pipelines.ingest.lrs import LRSConfig, pull
from pipelines.synthetic.generator import GenerateOptions, generate
from pipelines.warehouse import open_writer
from tests.lrs.fixtures import XAPI_VERSION, start_ralph

GOAL_RATIO = 0.8  # ours pulls at least 80 % as fast as a bare GET of the same pages
SCHEDULE_MINUTES = 5
# About 10,000 statements: Ralph's pages cost more as it fills up.
LEARNERS, WEEKS, START = 150, 8, dt.date(2026, 1, 5)
LATE_DAYS = 2  # the days POSTed to the LRS for the latency run


def _statements(landing: Path, days: slice = slice(None)) -> list[dict]:
    files = sorted((landing / "xapi").glob("xapi_*.jsonl"))[days]
    return [json.loads(line) for path in files for line in path.read_text().splitlines()]


def _post(server, statements: list[dict]) -> None:
    with requests.Session() as session:
        session.auth = (server.username, server.password)
        session.headers.update(XAPI_VERSION)
        for start in range(0, len(statements), 500):
            session.post(
                f"{server.endpoint}statements", json=statements[start : start + 500], timeout=120
            ).raise_for_status()


def _bare_get(server) -> tuple[float, int]:
    """Seconds to GET every page as they are, and the statements received."""
    started, received = time.perf_counter(), 0
    with requests.Session() as session:
        session.auth = (server.username, server.password)
        session.headers.update(XAPI_VERSION)
        url, params = f"{server.endpoint}statements", {"limit": "100"}
        while url:
            page = session.get(url, params=params, timeout=120).json()
            received += len(page["statements"])
            more, params = page.get("more"), None
            url = urljoin(server.root, more) if more and page["statements"] else ""
    return time.perf_counter() - started, received


def _config(server) -> LRSConfig:
    return LRSConfig(server.endpoint, username=server.username, password=server.password)


def run(workdir: Path | None = None) -> None:
    workdir = workdir or Path(tempfile.mkdtemp(prefix="cohortlens-lrs-"))
    program = workdir / "program"
    generate(GenerateOptions(out=program, learners=LEARNERS, seed=7, start_date=START, weeks=WEEKS))
    statements = _statements(program)

    with start_ralph(workdir / "ralph-throughput") as server:
        _post(server, statements)
        bare_before, received = _bare_get(server)
        landing = workdir / "pulled"
        (landing / "xapi").mkdir(parents=True)
        with open_writer(workdir / "pulled.duckdb") as con:
            started = time.perf_counter()
            summary = pull(con, landing, _config(server))
            ours = time.perf_counter() - started
        bare_after, _ = _bare_get(server)
    bare = (bare_before + bare_after) / 2
    ratio = (summary.written / ours) / (received / bare)
    print(f"lrs pull: {received:,} statements from Ralph in {summary.pages} pages of 100")
    print(f"  Ralph's own GET, bare:  {received / bare:>8,.0f} statements/s ({bare:.2f} s)")
    print(f"  ours (pull, gzip file, ledger): {summary.written / ours:>8,.0f} statements/s")
    verdict = "meets" if ratio >= GOAL_RATIO else "misses"
    print(f"  ratio {ratio:.2f} ({verdict} the goal of {GOAL_RATIO:.2f})")

    _latency(workdir, program)


def _latency(workdir: Path, program: Path) -> None:
    """A warehouse built from all but the last days' files; those days POSTed to Ralph; then
    one refresh (pull, load, dbt) brings them into the marts."""
    import shutil

    import dagster as dg

    from pipelines.definitions import build_defs
    from pipelines.defs.resources import WarehouseResource
    from pipelines.runner import QUIET, run_all

    landing, warehouse = workdir / "latency", workdir / "latency.duckdb"
    shutil.copytree(program, landing)
    late = sorted((landing / "xapi").glob("xapi_*.jsonl"))[-LATE_DAYS:]
    late_statements = [json.loads(line) for p in late for line in p.read_text().splitlines()]
    for path in late:
        path.unlink()
    assert run_all(landing, warehouse).ok, "the warehouse of the earlier days"
    with start_ralph(workdir / "ralph-latency") as server:
        _post(server, late_statements)
        posted = time.perf_counter()
        os.environ |= {
            "COHORTLENS_LRS_ENDPOINT": server.endpoint,
            "COHORTLENS_LRS_USERNAME": server.username,
            "COHORTLENS_LRS_PASSWORD": server.password,
        }
        try:
            defs = build_defs(WarehouseResource(landing=str(landing), warehouse=str(warehouse)))
            with (
                dg.DagsterInstance.ephemeral() as instance,
                (workdir / "refresh.log").open("w") as log,
                contextlib.redirect_stdout(log),
            ):
                result = defs.resolve_job_def("refresh").execute_in_process(
                    instance=instance, run_config=QUIET
                )
        finally:
            for name in ("ENDPOINT", "USERNAME", "PASSWORD"):
                os.environ.pop(f"COHORTLENS_LRS_{name}", None)
        refresh = time.perf_counter() - posted
    assert result.success
    con = duckdb.connect(str(warehouse), read_only=True)
    counted = con.execute(
        "select sum(n_statements) from intermediate.int_learner_days_aggregated"
        " where activity_date >= (select min(cast(timestamp as date)) from raw.xapi_statements"
        " where file_id = (select max(file_id) from raw.xapi_statements))"
    ).fetchone()[0]
    con.close()
    print(f"POST -> mart: {len(late_statements):,} statements of {LATE_DAYS} days, in the marts")
    print(f"  after one refresh (pull, load, dbt): {refresh:.1f} s ({counted:,} counted)")
    print(
        f"  through the {SCHEDULE_MINUTES}-minute schedule: {SCHEDULE_MINUTES * 30 + refresh:.0f} s"
        f" on average, {SCHEDULE_MINUTES * 60 + refresh:.0f} s at worst"
    )
