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
import time
from pathlib import Path

import duckdb

from dashboards import auth, data
from dashboards.auth import Principal
from pipelines.defs.resources import ForecastSettings
from pipelines.runner import run_all
from pipelines.serving import connect, publish

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
    _first_renders(warehouse, snap.path.resolve().parent.parent, org, learner)


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
