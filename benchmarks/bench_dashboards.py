"""Dashboards: p95 latency of every data-access query, and each page's first render.

On a warehouse built by the dbt benchmark (100,000 learners by default), after the nightly
forecast and a published snapshot. Each query runs 30 times per principal (an admin, the
largest organization's supervisor, a learner); goal: p95 at most 200 ms (seed 003). Pages
render through Streamlit's AppTest, signed in, from a cold cache.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import duckdb

from dashboards import auth, data, digest
from dashboards.auth import Principal
from pipelines.defs.resources import ForecastSettings
from pipelines.runner import run_all
from pipelines.serving import connect, publish
from pipelines.warehouse import open_writer

GOAL_P95_MS = 200.0
REPEATS = 30
READS = [
    "cohorts",
    "organizations",
    "readiness_overview",
    "learners",
    "learner",
    "difficulty_performance",
    "cohort_fan",
    "competency",
    "leaderboard",
    "mission_statuses",
    "drop_off",
    "mentor_reviews",
    "rubric_categories",
    "rubric_feedback",
    "mentor_feedback",
    "points",
    "weekly_activity",
]
ONE_LEARNER = {"learner", "competency", "rubric_feedback", "mentor_feedback"}  # a drill-down
PAGES = {
    "supervisor": ["overview", "learners", "missions", "forecasts", "data_health"],
    "student": ["my_progress"],
}
APP = Path(__file__).resolve().parents[1] / "dashboards" / "streamlit_app.py"


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def run(warehouse: Path, landing: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        has_forecast = con.sql(
            "select count(*) from information_schema.tables where table_schema = 'forecasts'"
        ).fetchall()[0][0]
    if not has_forecast:
        report = run_all(
            landing, warehouse, forecast_only=True, forecast_settings=ForecastSettings(draws=100)
        )
        assert report.success, report.error
    snap = publish(warehouse).snapshot
    serving = snap.path.parent
    with connect(snap) as con:
        n_learners, org = con.sql(
            "select sum(count(*)) over (), org_id from marts.learner_readiness"
            " group by org_id order by count(*) desc limit 1"
        ).fetchall()[0]
        learner = con.execute(  # one with mentor reviews, in the supervisor's organization
            "select coalesce(min(learner_id) filter (where reviewed), min(learner_id))"
            " from (select learner_id, subscription_tier = 'professional7' and exists ("
            "   select 1 from marts.learner_rubric_scores as s where s.learner_id = r.learner_id"
            " ) as reviewed from marts.learner_readiness as r where org_id = ?)",
            [org],
        ).fetchall()[0][0]  # a small program may have no professional7 learner reviewed yet
    principals = {
        "admin": Principal("admin", "admin"),
        f"supervisor {org}": Principal("sup", "supervisor", org_id=org),
        "learner": Principal("stu", "student", learner_id=learner),
    }
    print(
        f"dashboards: {n_learners:,} learners, snapshot {snap.size_bytes / 1e6:.0f} MB"
        f" (published in the run)"
    )
    print(f"  {'query':<24}" + "".join(f"{name:>22}" for name in principals))
    worst = 0.0
    for read in READS:
        cells = []
        for who in principals.values():
            samples = []
            if read in ONE_LEARNER:
                options = {"learner_id": learner}
            else:  # the admin's learners page shows one organization
                options = {"org_id": org} if read == "learners" and who.role == "admin" else {}
            for _ in range(REPEATS):
                started = time.perf_counter()
                getattr(data, read)(serving, who, **options)
                samples.append((time.perf_counter() - started) * 1000)
            p95 = _p95(samples)
            worst = max(worst, p95)
            cells.append(f"{p95:17.1f} ms")
        print(f"  {read:<24}" + "".join(f"{c:>22}" for c in cells))
    verdict = "met" if worst <= GOAL_P95_MS else "NOT met"
    print(f"  worst p95 {worst:.1f} ms (goal at most {GOAL_P95_MS:.0f} ms: {verdict})")
    _publication_costs(warehouse)
    _latency_while_publishing(warehouse, principals[f"supervisor {org}"])
    _first_renders(warehouse, snap.path.resolve().parent.parent, org, learner)
    _digest(serving, org)


_rebuilds = [0]


def _rebuild_one_mart(warehouse: Path) -> None:
    """What a refresh that changed one mart leaves: its rows differ (one count moves up, then
    back), the rest not."""
    _rebuilds[0] += 1
    step = 1 if _rebuilds[0] % 2 else -1
    with open_writer(warehouse) as con:
        con.execute(
            "create or replace table marts.cohort_summary as"
            " select * replace (n_learners + ? as n_learners) from marts.cohort_summary",
            [step],
        )


def _publication_costs(warehouse: Path) -> None:
    """A publication's time and bytes written against the snapshot's size: the first (every
    table), one after a run that changed nothing, and one after a run that rebuilt one mart."""
    with tempfile.TemporaryDirectory(dir=warehouse.parent) as tmp:
        serving = Path(tmp)
        first = publish(warehouse, serving)
        unchanged = publish(warehouse, serving)
        _rebuild_one_mart(warehouse)
        one_mart = publish(warehouse, serving)
        size = first.snapshot.size_bytes
        print(f"  publication, snapshot {size / 1e6:,.0f} MB in {len(first.copied)} tables:")
        runs = [("every table", first), ("nothing changed", unchanged), ("one mart", one_mart)]
        for label, done in runs:
            share = done.seconds / first.seconds if first.seconds else 0.0
            print(
                f"    {label:<18} {done.seconds * 1000:8.0f} ms  {done.bytes_written / 1e6:8.1f} MB"
                f" written  ({share:.2f} of the first)"
            )


def _latency_while_publishing(warehouse: Path, who: Principal, seconds: float = 20.0) -> None:
    """p99 of the supervisor's learners query alone, then with publications running beside it
    (each after one mart was rebuilt, as a 5-minute refresh does, back to back)."""
    with tempfile.TemporaryDirectory(dir=warehouse.parent) as tmp:
        serving = Path(tmp)
        publish(warehouse, serving)

        def p99_for(duration: float) -> tuple[float, int]:
            samples, deadline = [], time.perf_counter() + duration
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                data.learners(serving, who)
                samples.append((time.perf_counter() - started) * 1000)
            return statistics.quantiles(samples, n=100)[-1], len(samples)

        alone, n_alone = p99_for(seconds)
        done, published = threading.Event(), [0]

        def publisher():
            while not done.is_set():
                _rebuild_one_mart(warehouse)
                publish(warehouse, serving)
                published[0] += 1

        thread = threading.Thread(target=publisher)
        thread.start()
        try:
            beside, n_beside = p99_for(seconds)
        finally:
            done.set()
            thread.join()
        print(
            f"  learners query p99: {alone:.1f} ms alone ({n_alone} queries), {beside:.1f} ms"
            f" with {published[0]} publications beside it ({n_beside} queries):"
            f" {beside / alone:.2f}x"
        )


def _first_renders(warehouse: Path, home: Path, org: str, learner: str) -> None:
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        # Accounts in a scratch home whose serving/ points at the benchmark's snapshot.
        scratch = Path(tmp)
        (scratch / "serving").symlink_to(home / "serving")
        accounts = auth.accounts_path(scratch)
        auth.add_user(accounts, "sup", "supervisor", "benchmark", org_id=org)
        auth.add_user(accounts, "stu", "student", "benchmark", learner_id=learner)
        before = os.environ.get("COHORTLENS_HOME")
        os.environ["COHORTLENS_HOME"] = str(scratch)
        try:
            print("  first render of each page (AppTest, signed in, nothing cached):")
            for role, pages in PAGES.items():
                username = "sup" if role == "supervisor" else "stu"
                for page in pages:
                    at = AppTest.from_file(str(APP), default_timeout=300)
                    at.run()
                    at.text_input[0].input(username)
                    at.text_input[1].input("benchmark")
                    at.button[0].click()
                    at.run()
                    at.switch_page(f"app_pages/{page}.py")
                    # Cached reads are keyed by the snapshot: a new one makes this render cold.
                    publish(warehouse)
                    started = time.perf_counter()
                    at.run()
                    seconds = time.perf_counter() - started
                    shown = f"{len(at.get('plotly_chart'))} charts, {len(at.dataframe)} tables"
                    status = "error" if at.exception else shown
                    if at.info:
                        status += f" ({at.info[0].value})"
                    print(f"    {role:<11} {page:<12} {seconds * 1000:8.0f} ms  {status}")
        finally:
            if before is None:
                os.environ.pop("COHORTLENS_HOME", None)
            else:
                os.environ["COHORTLENS_HOME"] = before


def _digest(serving: Path, org: str) -> None:
    """The weekly digest of the largest organization: its reads, charts (kaleido, one
    Chromium) and PDF (headless Chromium), as `cohortlens digest --org` writes it."""
    started = time.perf_counter()
    try:
        (done,) = digest.write_digests(serving, org_ids=[org])
    except digest.DigestError as exc:
        print(f"  weekly digest: not timed ({exc})")
        return
    seconds = time.perf_counter() - started
    print(
        f"  weekly digest of {org} ({done.kpis['learners']:,} learners,"
        f" {done.kpis['to_contact']:,} to contact): {seconds:.1f} s,"
        f" PDF {done.pdf_bytes / 1e3:,.0f} kB"
    )
    # The next run writes a first report again: comparable times.
    for path in (done.report.html, done.report.pdf, done.report.summary):
        path.unlink(missing_ok=True)
