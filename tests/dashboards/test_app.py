"""Every page for every role through Streamlit's AppTest, signed in as a real account."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboards.conftest import PASSWORD

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py")


def sign_in(at, username, password=PASSWORD):
    next(t for t in at.text_input if t.label == "Username").input(username)
    next(t for t in at.text_input if t.label == "Password").input(password)
    next(b for b in at.button if b.label == "Sign in").click()
    at.run()
    return at


def texts(at) -> str:
    parts = [
        e.value
        for e in (
            *at.title,
            *at.markdown,
            *at.caption,
            *at.info,
            *at.warning,
            *at.error,
            *at.subheader,
        )
    ]
    return " ".join(str(p) for p in parts)


def test_the_first_page_is_the_sign_in_form(app):
    assert [t.label for t in app.text_input] == ["Username", "Password"]
    assert [b.label for b in app.button] == ["Sign in"]


def test_a_wrong_password_says_so_and_signs_no_one_in(app):
    sign_in(app, "sup", "not the password")
    assert "Unknown username or wrong password." in texts(app)
    assert [t.label for t in app.text_input] == ["Username", "Password"]


@pytest.mark.parametrize(
    ("page", "title"),
    [
        ("app_pages/overview.py", "Overview"),
        ("app_pages/learners.py", "Learners"),
        ("app_pages/missions.py", "Missions"),
        ("app_pages/forecasts.py", "Forecasts"),
        ("app_pages/data_health.py", "Data health"),
        ("app_pages/definitions.py", "Definitions"),
    ],
)
@pytest.mark.parametrize("user", ["sup", "admin"])
def test_supervisor_pages_render_without_errors(app, user, page, title):
    sign_in(app, user)
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert app.title[0].value == title
    assert "Data as of" in texts(app) and "published" in texts(app)


def test_the_supervisor_overview_counts_their_organization(app, served):
    sign_in(app, "sup")
    learners = next(m for m in app.metric if m.label == "Learners")
    from dashboards import data
    from dashboards.auth import Principal

    mine = data.learners(served.serving, Principal("sup", "supervisor", org_id=served.org))
    assert learners.value == f"{mine.height:,}"


@pytest.mark.parametrize(
    ("user", "masked"),
    [("free", {"forecast", "leaderboard", "mentor"}), ("stu", {"mentor"}), ("pro", set())],
)
def test_a_student_sees_their_page_and_what_their_plan_masks(app, user, masked):
    sign_in(app, user)
    assert not app.exception, app.exception
    assert app.title[0].value == "My progress"
    shown = texts(app)
    assert ("The forecast is not part of your plan" in shown) is ("forecast" in masked)
    assert ("The leaderboard is not part of your plan" in shown) is ("leaderboard" in masked)
    assert ("Mentor and rubric feedback are not part of your plan" in shown) is ("mentor" in masked)
    titles = [c.proto.spec for c in app.get("plotly_chart")]
    assert any("Mentor rubric scores by category" in t for t in titles) is ("mentor" not in masked)
    # A masked feature hides all its parts: the rank belongs to the leaderboard, the
    # interval to the forecast.
    labels = [m.label for m in app.metric]
    assert ("Rank in cohort" in labels) is ("leaderboard" not in masked)
    forecast_shown = any(label.startswith("Chance of competency mastery") for label in labels)
    assert forecast_shown is ("forecast" not in masked)
    if "forecast" in masked:
        assert "Weeks to competency mastery" not in shown


def test_editing_the_session_or_the_url_does_not_widen_a_students_scope(app, served):
    sign_in(app, "stu")
    app.session_state["role"] = "admin"
    app.session_state["org_id"] = served.other_org
    app.query_params["learner_id"] = served.other_learner
    app.run()
    assert app.title[0].value == "My progress"
    assert served.other_learner not in texts(app)
    # The organization pages are not even registered for a student.
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("app_pages/learners.py")


def test_signing_out_returns_to_the_form(app):
    sign_in(app, "sup")
    app.switch_page("app_pages/sign_out.py").run()
    assert [t.label for t in app.text_input] == ["Username", "Password"]
    assert "You are signed out." in texts(app)


def test_the_what_if_slider_re_simulates_the_cohort(app):
    sign_in(app, "sup")
    app.switch_page("app_pages/forecasts.py").run()
    assert not app.exception, app.exception
    expected = next(m for m in app.metric if m.label.startswith("Expected learners"))
    assert not expected.delta  # nothing changed yet: no arrow
    app.slider[0].set_value(2.0).run()
    expected = next(m for m in app.metric if m.label.startswith("Expected learners"))
    assert expected.delta.startswith("+") and expected.delta != "+0"


def test_the_drill_down_shows_one_learners_full_picture(app):
    sign_in(app, "sup")
    app.switch_page("app_pages/learners.py").run()
    box = next(s for s in app.selectbox if s.label == "Drill down")
    box.select_index(0).run()
    assert not app.exception, app.exception
    shown = texts(app)
    assert "Tier 4 completion:" in shown and "Tier 5 completion:" in shown
    assert any(m.label == "Readiness (0-100)" for m in app.metric)


def test_the_filter_finds_a_learner_beyond_the_first_fifty_for_the_drill_down(app):
    sign_in(app, "sup")
    app.switch_page("app_pages/learners.py").run()
    box = next(s for s in app.selectbox if s.label == "Drill down")
    assert len(box.options) == 50 and "more: narrow the filter above" in box.placeholder
    last = app.dataframe[0].value["learner_id"].to_list()[-1]  # the last in contact order
    app.text_input[0].input(last).run()
    box = next(s for s in app.selectbox if s.label == "Drill down")
    assert len(box.options) == 1 and last in box.options[0]
    box.select_index(0).run()
    assert not app.exception and last in texts(app)


def test_an_expired_session_asks_to_sign_in_again(app):
    import datetime as dt

    sign_in(app, "sup")
    app.session_state["signed_in_at"] = dt.datetime.now(dt.UTC) - dt.timedelta(hours=9)
    app.run()
    assert [t.label for t in app.text_input] == ["Username", "Password"]
    assert "Your session expired" in texts(app)


def test_the_missions_page_shows_rubric_categories_for_the_organization(app):
    sign_in(app, "sup")
    app.switch_page("app_pages/missions.py").run()
    assert not app.exception, app.exception
    titles = [c.proto.spec for c in app.get("plotly_chart")]
    assert any("Mean mentor rubric score (0-100) by track and category" in t for t in titles)


SSO_SECRETS = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret",
    "client_id": "cohortlens",
    "client_secret": "test-client-secret",
    "server_metadata_url": "https://id.example.org/.well-known/openid-configuration",
}


def audit_events(served) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(served.accounts) as con:
        return con.execute("select username, event, detail from audit_events").fetchall()


def test_single_sign_on_is_offered_only_when_configured(served, monkeypatch):
    monkeypatch.setenv("COHORTLENS_HOME", str(served.home))
    plain = AppTest.from_file(APP, default_timeout=60)
    plain.run()
    assert not [b for b in plain.button if "single sign-on" in b.label]
    configured = AppTest.from_file(APP, default_timeout=60)
    configured.secrets["auth"] = SSO_SECRETS
    configured.user = {"is_logged_in": False}
    configured.run()
    assert [b.label for b in configured.button if "single sign-on" in b.label] == [
        "Sign in with single sign-on"
    ]
    assert [t.label for t in configured.text_input] == ["Username", "Password"]


def test_a_single_sign_on_identity_signs_in_as_its_account_and_out_again(served, monkeypatch):
    from tests.dashboards.conftest import SSO_EMAIL

    monkeypatch.setenv("COHORTLENS_HOME", str(served.home))
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = SSO_SECRETS
    at.user = {"is_logged_in": True, "email": SSO_EMAIL.upper(), "email_verified": True}
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Overview"
    assert "sso-sup" in " ".join(c.value for c in at.sidebar.caption)
    assert ("sso-sup", "sign_in", f"single sign-on {SSO_EMAIL.upper()}") in audit_events(served)
    at.switch_page("app_pages/sign_out.py").run()
    assert at.user == {"is_logged_in": False}, "signing out also signs out of the provider"
    # The run stops there (the browser goes on to /auth/logout); the next is signed out.
    assert not at.title
    at.run()
    assert [t.label for t in at.text_input] == ["Username", "Password"]


def test_a_single_sign_on_session_ends_hours_after_the_provider_signed_in(served, monkeypatch):
    """st.login's cookie lasts 30 days and every new session (a reload, a tab) reads it: the
    session is still counted from when the provider issued the identity (`iat`)."""
    import datetime as dt

    from dashboards.auth import SESSION_HOURS
    from tests.dashboards.conftest import SSO_EMAIL

    monkeypatch.setenv("COHORTLENS_HOME", str(served.home))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    recent = AppTest.from_file(APP, default_timeout=60)
    recent.secrets["auth"] = SSO_SECRETS
    issued = now - dt.timedelta(hours=SESSION_HOURS - 1)
    recent.user = {"is_logged_in": True, "email": SSO_EMAIL, "iat": int(issued.timestamp())}
    recent.run()
    assert recent.title[0].value == "Overview"
    assert recent.session_state["signed_in_at"] == issued
    stale = AppTest.from_file(APP, default_timeout=60)
    stale.secrets["auth"] = SSO_SECRETS
    issued = now - dt.timedelta(hours=SESSION_HOURS + 1)
    stale.user = {"is_logged_in": True, "email": SSO_EMAIL, "iat": int(issued.timestamp())}
    stale.run()
    assert not stale.exception, stale.exception
    assert stale.user == {"is_logged_in": False}, "the old cookie is cleared"
    assert not stale.title, "the run stops: the browser goes on to /auth/logout"
    stale.run()
    assert [t.label for t in stale.text_input] == ["Username", "Password"]
    assert "Your session expired" in texts(stale)


@pytest.mark.parametrize(
    "claims",
    [
        {"email": "stranger@example.org"},
        {"email": "supervisor@example.org", "email_verified": False},
        {"sub": "no-email-claim"},
    ],
)
def test_an_identity_without_an_account_gets_nothing(served, monkeypatch, claims):
    monkeypatch.setenv("COHORTLENS_HOME", str(served.home))
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = SSO_SECRETS
    at.user = {"is_logged_in": True, **claims}
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "cohortlens"
    assert "has no cohortlens account" in texts(at)
    assert [b.label for b in at.button if "single sign-on" in b.label] == [
        "Sign out of single sign-on"
    ]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/overview.py")


@pytest.mark.parametrize(
    "page", ["app_pages/overview.py", "app_pages/learners.py", "app_pages/missions.py"]
)
def test_shares_in_tables_show_as_whole_percents(app, page):
    """Streamlit shows a "percent" column with two decimals ("83.45%") unless its step says
    whole percents: every such column of every table says so. And no table shows "None"."""
    import json

    sign_in(app, "sup")
    app.switch_page(page).run()
    shares = [
        (name, config)
        for table in app.dataframe
        for name, config in json.loads(table.proto.columns or "{}").items()
        if config.get("type_config", {}).get("format") == "percent"
    ]
    assert shares, f"{page} shows no shares"
    assert all(config["type_config"].get("step") == 0.01 for _, config in shares), shares
    # A missing value reads as a dash, not Streamlit's "None".
    assert {table.proto.placeholder for table in app.dataframe} == {"—"}
