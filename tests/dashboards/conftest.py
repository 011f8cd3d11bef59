"""A served program: the small built warehouse published as a snapshot, with accounts."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboards import auth
from pipelines.serving import connect, publish

PASSWORD = "correct horse battery"
SSO_EMAIL = "supervisor@example.org"
REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium keeps calling home on a machine with a closed network.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Served:
    home: Path
    serving: Path
    accounts: Path
    org: str  # the supervisor's organization
    other_org: str
    student: str  # the student's learner id (starter3: forecast and leaderboard)
    free_student: str  # a learner on the free plan
    pro_student: str  # a professional7 learner with mentor reviews (mentor and rubric feedback)
    other_learner: str  # a learner of the other organization


@pytest.fixture(scope="session")
def served(built_program, tmp_path_factory) -> Served:
    home = tmp_path_factory.mktemp("home")
    warehouse = home / "warehouse.duckdb"
    shutil.copy(built_program.warehouse, warehouse)
    snapshot = publish(warehouse).snapshot
    with connect(snapshot) as con:
        orgs = [
            r[0]
            for r in con.sql(
                "select org_id from marts.learner_readiness group by 1 order by count(*) desc"
            ).fetchall()
        ]
        pick = "select learner_id from marts.learner_readiness where org_id = ? and subscription_tier = ? order by learner_id limit 1"  # noqa: E501
        student = con.execute(pick, [orgs[0], "starter3"]).fetchall()[0][0]
        free = con.execute(pick, [orgs[0], "free"]).fetchall()[0][0]
        pro = con.execute(
            "select min(learner_id) from marts.learner_readiness join marts.learner_rubric_scores"
            " using (learner_id) where org_id = ? and subscription_tier = 'professional7'",
            [orgs[0]],
        ).fetchall()[0][0]
        other = con.execute(
            "select min(learner_id) from marts.learner_readiness where org_id = ?", [orgs[1]]
        ).fetchall()[0][0]
    accounts = auth.accounts_path(home)
    auth.add_user(accounts, "admin", "admin", PASSWORD)
    auth.add_user(accounts, "sup", "supervisor", PASSWORD, org_id=orgs[0])
    auth.add_user(accounts, "stu", "student", PASSWORD, learner_id=student)
    auth.add_user(accounts, "free", "student", PASSWORD, learner_id=free)
    auth.add_user(accounts, "pro", "student", PASSWORD, learner_id=pro)
    # Single sign-on only: the identity an OIDC provider vouches for, no password.
    auth.add_user(accounts, "sso-sup", "supervisor", None, org_id=orgs[0], identity=SSO_EMAIL)
    return Served(home, home / "serving", accounts, orgs[0], orgs[1], student, free, pro, other)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    """Until ``url`` answers 200; fails early when the process died."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.25)


@contextlib.contextmanager
def streamlit_server(
    home: Path, *options: str, port: int | None = None, log: Path | None = None
) -> Iterator[str]:
    """The dashboards served on 127.0.0.1 (from the repository root, so its
    .streamlit/config.toml applies) for the program in ``home``; yields the URL."""
    port = port or free_port()
    with open(log or os.devnull, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(REPO / "dashboards" / "streamlit_app.py"),
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
                *options,
            ],
            cwd=REPO,
            env={**os.environ, "COHORTLENS_HOME": str(home)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(f"{url}/_stcore/health", process)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven by Playwright (one per test module)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def app(served, monkeypatch):
    """The dashboards app in Streamlit's AppTest, on the served program, before sign-in."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("COHORTLENS_HOME", str(served.home))
    at = AppTest.from_file(
        str(Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"),
        default_timeout=60,
    )
    at.run()
    return at
