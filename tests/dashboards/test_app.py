"""Every page for every role through Streamlit's AppTest, signed in as a real account."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboards.conftest import PASSWORD

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py")


@pytest.fixture()
def app(served, monkeypatch):
    monkeypatch.setenv("COHORTLENS_HOME", str(served.home))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    return at


def sign_in(at, username, password=PASSWORD):
    next(t for t in at.text_input if t.label == "Username").input(username)
    next(t for t in at.text_input if t.label == "Password").input(password)
    next(b for b in at.button if b.label == "Sign in").click()
    at.run()
    return at


def texts(at) -> str:
    parts = [e.value for e in (*at.title, *at.markdown, *at.caption, *at.info, *at.warning,
                               *at.error, *at.subheader)]  # fmt: skip
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
    ],
)
@pytest.mark.parametrize("user", ["sup", "admin"])
def test_supervisor_pages_render_without_errors(app, user, page, title):
    sign_in(app, user)
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert app.title[0].value == title
    assert "Data as published" in texts(app)


def test_the_supervisor_overview_counts_their_organization(app, served):
    sign_in(app, "sup")
    learners = next(m for m in app.metric if m.label == "Learners")
    from dashboards import data
    from dashboards.auth import Principal

    mine = data.learners(served.serving, Principal("sup", "supervisor", org_id=served.org))
    assert learners.value == f"{mine.height:,}"


@pytest.mark.parametrize(("user", "masked"), [("stu", False), ("free", True)])
def test_a_student_sees_their_page_and_what_their_plan_masks(app, user, masked):
    sign_in(app, user)
    assert not app.exception, app.exception
    assert app.title[0].value == "My progress"
    shown = texts(app)
    assert ("The forecast is not part of your plan" in shown) is masked
    assert ("The leaderboard is not part of your plan" in shown) is masked


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
    assert expected.delta in ("+0", "-0")
    app.slider[0].set_value(2.0).run()
    expected = next(m for m in app.metric if m.label.startswith("Expected learners"))
    assert expected.delta.startswith("+") and expected.delta != "+0"


def test_the_drill_down_shows_one_learners_full_picture(app):
    sign_in(app, "sup")
    app.switch_page("app_pages/learners.py").run()
    box = next(s for s in app.selectbox if s.label == "Drill down")
    box.set_value(box.options[0]).run()
    assert not app.exception, app.exception
    shown = texts(app)
    assert "Tier 4:" in shown and "Tier 5:" in shown
    assert any(m.label == "Readiness" for m in app.metric)


def test_an_expired_session_asks_to_sign_in_again(app):
    import datetime as dt

    sign_in(app, "sup")
    app.session_state["signed_in_at"] = dt.datetime.now(dt.UTC) - dt.timedelta(hours=9)
    app.run()
    assert [t.label for t in app.text_input] == ["Username", "Password"]
    assert "Your session expired" in texts(app)
