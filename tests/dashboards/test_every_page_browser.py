"""Every page, for every role, in headless Chromium (issue 23, item 11): the admin, a
supervisor and a learner on each plan follow every link of their navigation; each page must
finish running with its charts drawn and no error, and is saved as a full-page screenshot
(`COHORTLENS_TEST_ARTIFACTS`/screenshots, by default test-artifacts/screenshots/) for people to
look at."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.dashboards.browser import (
    TIMEOUT,
    artifacts,
    errors,
    nav_links,
    screenshot,
    settle,
    sign_in,
    visit,
)
from tests.dashboards.conftest import streamlit_server

ORGANIZATION_PAGES = [
    "Overview",
    "Learners",
    "Missions",
    "Forecasts",
    "Data health",
    "Definitions",
    "Sign out",
]
LEARNER_PAGES = ["My progress", "Definitions", "Sign out"]
ROLES = {  # account: what it is (the screenshots' names), its navigation
    "admin": ("admin", ORGANIZATION_PAGES),
    "sup": ("supervisor", ORGANIZATION_PAGES),
    "free": ("learner-free", LEARNER_PAGES),
    "stu": ("learner-starter3", LEARNER_PAGES),
    "pro": ("learner-professional7", LEARNER_PAGES),
}


@pytest.fixture(scope="module")
def server(served):
    with streamlit_server(served.home) as url:
        yield url


@pytest.mark.parametrize("account", list(ROLES))
def test_every_page_runs_without_error(server, browser, account):
    role, expected = ROLES[account]
    folder = artifacts("screenshots")
    for old in folder.glob(f"{role}-*.png"):
        old.unlink()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, server, account)
    expect(page.get_by_role("heading", name=expected[0], exact=True)).to_be_visible(timeout=TIMEOUT)
    settle(page)
    links = nav_links(page)
    assert links == expected
    for number, link in enumerate(links[:-1], start=1):
        visit(page, link)
        assert errors(page) == [], f"{role}: {link}"
        slug = re.sub(r"\W+", "-", link.lower())
        screenshot(page, folder / f"{role}-{number:02d}-{slug}.png")
    page.get_by_role("link", name="Sign out", exact=True).click()
    expect(page.get_by_text("You are signed out.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()
    page.close()
