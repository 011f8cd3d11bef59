"""End to end in a real headless Chromium (Debian's): sign in as a supervisor and as a
learner on the served app, and check what each is shown."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.dashboards.browser import sign_in
from tests.dashboards.conftest import streamlit_server


@pytest.fixture(scope="module")
def server(served):
    with streamlit_server(served.home) as url:
        yield url


def test_a_supervisor_signs_in_and_sees_their_organization(server, browser, served):
    page = browser.new_page()
    sign_in(page, server, "sup")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Mean readiness").first).to_be_visible(timeout=30_000)
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
