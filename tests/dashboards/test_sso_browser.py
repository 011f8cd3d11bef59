"""Single sign-on end to end: a real OpenID Connect provider (oidc-provider-mock) on
127.0.0.1, the dashboards served with `[auth]` secrets pointing at it, and Debian's headless
Chromium going through st.login, the provider's sign-in page and back."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.dashboards.browser import artifacts, screenshot
from tests.dashboards.conftest import SSO_EMAIL, free_port, streamlit_server, wait_for

STRANGER = "stranger@example.org"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """The OpenID Connect provider: any client id and secret, and its authorize page asks
    for the subject, whose `email` claim it becomes."""
    port = free_port()
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    command = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port"]
    with open(log, "wb") as out:
        process = subprocess.Popen([*command, str(port)], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/.well-known/openid-configuration", process)
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def server(served, provider, tmp_path_factory):
    """The dashboards with single sign-on configured through a secrets file of their own."""
    port = free_port()
    folder = tmp_path_factory.mktemp("sso-app")
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a cookie secret for the browser test only"\n'
        'client_id = "cohortlens"\n'
        'client_secret = "a client secret for the browser test only"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    with streamlit_server(
        served.home, "--secrets.files", str(secrets), port=port, log=folder / "streamlit.log"
    ) as url:
        yield url


def sign_on(page, url: str, identity: str) -> None:
    """Through the provider's sign-in page, as ``identity``, and back to the app."""
    page.goto(url)
    page.get_by_role("button", name="Sign in with single sign-on").click()
    subject = page.get_by_placeholder("sub")
    expect(subject).to_be_visible(timeout=30_000)
    subject.fill(identity)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}/**", timeout=30_000)


def audit_events(served, since: int = 0) -> list[tuple]:
    """The audit trail's events in the order written, from the ``since``-th on (the served
    program's accounts are shared with other tests)."""
    with sqlite3.connect(served.accounts) as con:
        rows = con.execute("select username, event, detail from audit_events order by rowid")
        return rows.fetchall()[since:]


def test_a_supervisor_signs_on_at_the_provider_and_sees_their_organization(server, browser, served):
    page = browser.new_page()
    before = len(audit_events(served))
    sign_on(page, server, SSO_EMAIL)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Signed in as sso-sup")
    expect(page.get_by_role("link", name="Learners")).to_be_visible()
    events = audit_events(served, before)
    assert ("sso-sup", "sign_in", f"single sign-on {SSO_EMAIL}") in events
    assert any(e[:2] == ("sso-sup", "view") and e[2].startswith("overview") for e in events)
    page.close()


def test_an_identity_without_an_account_is_refused_and_audited(server, browser, served):
    page = browser.new_page()
    before = len(audit_events(served))
    sign_on(page, server, STRANGER)
    expect(page.get_by_text(f"{STRANGER} has no cohortlens account")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Sign out of single sign-on")).to_be_visible()
    expect(page.get_by_role("heading", name="Overview")).to_have_count(0)
    expect(page.get_by_role("link", name="Learners")).to_have_count(0)
    events = audit_events(served, before)
    assert events == [(None, "sign_in_failed", f"single sign-on {STRANGER}: no account")]
    page.get_by_role("button", name="Sign out of single sign-on").click()
    expect(page.get_by_role("heading", name="End Session")).to_be_visible(timeout=30_000)
    assert not identity_cookies(page)
    page.close()


def test_signing_out_ends_the_session(server, browser, served):
    page = browser.new_page()
    sign_on(page, server, SSO_EMAIL)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=30_000)
    assert identity_cookies(page)
    before = len(audit_events(served))
    page.get_by_role("link", name="Sign out").click()
    # Signed out of the app (its identity cookie is gone), then of the provider.
    expect(page.get_by_role("heading", name="End Session")).to_be_visible(timeout=30_000)
    assert not identity_cookies(page)
    assert audit_events(served, before) == [("sso-sup", "sign_out", "")]
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{server}/**", timeout=30_000)
    for notices in (1, 0):  # back from the provider, then reloaded: the sign-in page
        expect(page.get_by_role("button", name="Sign in with single sign-on")).to_be_visible(
            timeout=30_000
        )
        expect(page.get_by_role("textbox", name="Username")).to_be_visible()
        # st.logout's redirects start a new session: the notice waited for this browser
        expect(page.get_by_text("You are signed out.")).to_have_count(notices)
        if notices:
            screenshot(page, artifacts("screenshots") / "sso-signed-out.png")
        expect(page.get_by_role("heading", name="Overview")).to_have_count(0)
        expect(page.get_by_text("Signed in as")).to_have_count(0)
        page.reload()
    page.close()


def identity_cookies(page) -> list[str]:
    """The names of st.login's identity cookies the browser holds."""
    return [c["name"] for c in page.context.cookies() if c["name"].startswith("_streamlit_user")]
