"""Driving the served dashboards in headless Chromium (the fixtures, `browser` and
`streamlit_server`, are in conftest.py): sign in, go to a page, wait until Streamlit finished
running it and its charts are drawn, look for errors, save a screenshot."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.dashboards.conftest import PASSWORD, REPO

TIMEOUT = 60_000  # ms: a page's first run on a cold publication, on two busy cores


def artifacts(*parts: str) -> Path:
    """A folder for test artifacts: `COHORTLENS_TEST_ARTIFACTS`, else test-artifacts/ in the
    repository (ignored by git)."""
    root = Path(os.environ.get("COHORTLENS_TEST_ARTIFACTS") or REPO / "test-artifacts")
    folder = root.joinpath(*parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page: Page, url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


# Streamlit marks its root with the script's state, and an element of the previous run that
# this run has not redrawn yet as stale; plotly draws into .main-svg once it has loaded.
_SETTLED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.dataset.testScriptState !== 'notRunning') return false;
    if (app.dataset.testConnectionState !== 'CONNECTED') return false;
    if (document.querySelector('[data-stale="true"]')) return false;
    if (document.querySelector('[data-testid="stSkeleton"]')) return false;
    return [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
        .every((chart) => chart.querySelector('.main-svg'));
}"""


def settle(page: Page, timeout: float = TIMEOUT) -> None:
    """Until the app finished its run: not running, nothing stale, every chart drawn."""
    page.wait_for_function(_SETTLED, timeout=timeout, polling=200)


def visit(page: Page, link: str, heading: str | None = None) -> None:
    """Follow the navigation link ``link`` and wait for the page (titled ``heading``)."""
    page.get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", name=heading or link, exact=True)).to_be_visible(
        timeout=TIMEOUT
    )
    settle(page)


def nav_links(page: Page) -> list[str]:
    """The navigation's link names, in order (without their icons)."""
    labels = page.locator('[data-testid="stSidebarNavLink"] span[label]')
    return [label.get_attribute("label") or "" for label in labels.all()]


def errors(page: Page) -> list[str]:
    """What the page shows of an error: exception boxes and tracebacks."""
    found = [box.inner_text() for box in page.locator('[data-testid="stException"]').all()]
    body = page.locator("body").inner_text()
    if "Traceback" in body:
        found.append(body[body.index("Traceback") :][:2000])
    return found


def screenshot(page: Page, path: Path) -> Path:
    """The whole page: Streamlit scrolls inside its main section, not the document, so the
    window is made as tall as that section first (then restored)."""
    size = page.viewport_size or {"width": 1400, "height": 900}
    height = page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid="stMain"]');
            return main ? main.scrollHeight : document.body.scrollHeight;
        }"""
    )
    page.set_viewport_size(
        {"width": size["width"], "height": max(size["height"], min(height, 20_000))}
    )
    settle(page)
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(size)
    return path
