"""End to end in a real headless Chromium (Debian's): sign in as a supervisor and as a
learner on the served app, and check what each is shown."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.dashboards.conftest import PASSWORD

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(served):
    port = free_port()
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
        ],
        env={**os.environ, "COHORTLENS_HOME": str(served.home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.5)
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def sign_in(page, url, username):
    page.goto(url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_supervisor_signs_in_and_sees_their_organization(server, browser, served):
    page = browser.new_page()
    sign_in(page, server, "sup")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Mean readiness")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_be_visible()
    # The organization pages are in the navigation; a chart was drawn.
    expect(page.get_by_role("link", name="Learners")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="Learners").click()
    expect(page.get_by_role("heading", name="Learners")).to_be_visible(timeout=30_000)
    page.close()


def test_a_learner_signs_in_and_sees_only_their_page(server, browser, served):
    page = browser.new_page()
    sign_in(page, server, "free")
    expect(page.get_by_role("heading", name="My progress")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("The forecast is not part of your plan")).to_be_visible()
    expect(page.get_by_role("link", name="Learners")).to_have_count(0)
    page.close()


def test_a_wrong_password_is_refused_in_the_browser(server, browser):
    page = browser.new_page()
    page.goto(server)
    page.get_by_role("textbox", name="Username").fill("sup")
    page.get_by_role("textbox", name="Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Unknown username or wrong password.")).to_be_visible(timeout=30_000)
    page.close()
