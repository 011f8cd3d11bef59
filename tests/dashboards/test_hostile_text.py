"""Text is text (issue 23, item 12), end to end in headless Chromium: learners, a cohort, a
mission and a track with names that are Markdown, HTML and Streamlit's own markup, shown to
their supervisor and to the learner. No image may be fetched, no link shown; the text reads as
typed."""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Page, expect

from dashboards import auth
from pipelines.serving import publish
from tests.dashboards.browser import TIMEOUT, errors, settle, sign_in, visit
from tests.dashboards.conftest import PASSWORD, streamlit_server


class Recorder(ThreadingHTTPServer):
    """Answers every request with an empty 404, and keeps its path."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        self.send_error(404)

    do_POST = do_HEAD = do_GET

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def recorder():
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def hostile(host: str, what: str) -> str:
    """A name that is Markdown (image, link, autolinks), HTML, LaTeX and Streamlit's colour
    and icon directives at once."""
    return (
        f"{what} ![x](http://{host}/{what}.png) [help](http://{host}/phish-{what})"
        f' <img src=http://{host}/{what}-tag.png> <a href="http://{host}/phish-{what}-tag">a</a>'
        f" $x^2$ :red[alert] :material/warning: www.phish.example {what}@phish.example"
        " *em* `code` -> ok"
    )


@dataclass(frozen=True)
class Hostile:
    home: Path
    host: str  # the recorder's host:port, which every hostile link and image points at
    learner: str  # the first learner to contact, named hostile(…, "Eve"), signed in as "eve"
    name: str
    cohort: str
    mission: str


def _update(con: duckdb.DuckDBPyConnection, column: str, value, where: str, *params) -> None:
    """Set ``column`` to ``value`` in every mart table that has it, for the rows ``where``."""
    tables = con.execute(
        "select table_name from information_schema.columns where table_schema = 'marts'"
        " and column_name = ?",
        [column],
    ).fetchall()
    for (table,) in tables:
        con.execute(f'update marts."{table}" set {column} = ? where {where}', [value, *params])


def make_hostile(source: Path, home: Path, host: str) -> Hostile:
    """A copy of the warehouse ``source`` in ``home`` with hostile names in its largest
    organization (its first learners to contact, their cohort and track, what is said about
    the first, a mission that loses attempts), published, with accounts `sup` (that
    organization's supervisor) and `eve` (the first learner to contact)."""
    warehouse = home / "warehouse.duckdb"
    shutil.copy(source, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        org = con.sql(
            "select org_id from marts.learner_readiness group by 1 order by count(*) desc limit 1"
        ).fetchall()[0][0]
        first = (
            "select learner_id from marts.learner_readiness where org_id = ? and {}"
            " order by risk_priority limit 2"
        )
        learners = [r[0] for r in con.execute(first.format("at_risk"), [org]).fetchall()]
        learners += [r[0] for r in con.execute(first.format("true"), [org]).fetchall()]
        eve, name = learners[0], hostile(host, "Eve")
        for n, learner in enumerate(dict.fromkeys(learners)):
            shown = name if n == 0 else hostile(host, f"Learner{n}")
            _update(con, "display_name", shown, "learner_id = ?", learner)
        cohort = con.execute(
            "select cohort_id from marts.learner_readiness where learner_id = ?", [eve]
        ).fetchall()[0][0]
        _update(con, "cohort_name", hostile(host, "Cohort"), "cohort_id = ?", cohort)
        # What is said about the learner: reasons, next actions, what is missing, the path.
        _update(con, "at_risk_reasons", [hostile(host, "Reason")], "learner_id = ?", eve)
        _update(con, "tier4_missing", [hostile(host, "Missing")], "learner_id = ?", eve)
        _update(con, "action", hostile(host, "Action"), "learner_id = ?", eve)
        _update(con, "why", hostile(host, "Why"), "learner_id = ?", eve)
        off_path = "learner_id = ? and off_path_reason is not null"
        step = con.execute(
            f"select min(step_id) from marts.learner_path_steps where {off_path}", [eve]
        ).fetchall()[0][0]
        _update(con, "off_path_reason", hostile(host, "Path"), off_path, eve)
        _update(con, "step_id", hostile(host, "Step"), "learner_id = ? and step_id = ?", eve, step)
        # A mission that takes the most time and loses attempts (the missions page names it).
        mission = con.sql(
            "select mission_id from marts.mission_stage_time"
            " where is_time_sink_losing_learners order by mission_id limit 1"
        ).fetchall()[0][0]
        _update(con, "mission_title", hostile(host, "Mission"), "mission_id = ?", mission)
        track = con.execute(
            "select track from marts.cohort_summary where cohort_id = ?", [cohort]
        ).fetchall()[0][0]
        _update(con, "track", hostile(host, "Track"), "track = ?", track)
    publish(warehouse)
    accounts = auth.accounts_path(home)
    auth.add_user(accounts, "sup", "supervisor", PASSWORD, org_id=org)
    auth.add_user(accounts, "eve", "student", PASSWORD, learner_id=eve)
    return Hostile(home, host, eve, name, cohort, mission)


@pytest.fixture(scope="module")
def hostile_program(built_program, recorder, tmp_path_factory) -> Hostile:
    host = f"127.0.0.1:{recorder.server_address[1]}"
    return make_hostile(built_program.warehouse, tmp_path_factory.mktemp("hostile"), host)


@pytest.fixture(scope="module")
def server(hostile_program):
    with streamlit_server(hostile_program.home) as url:
        yield url


def leaks(page: Page, host: str) -> list[str]:
    """Every element with a link or source that points at the recorder or reads as a phishing
    link (href, xlink:href, src, srcset, style; not a label's text), every KaTeX formula and
    all coloured text (none is drawn from the data)."""
    return page.evaluate(
        """(host) => {
            const found = [];
            const urls = ['href', 'xlink:href', 'src', 'srcset', 'style', 'action', 'poster'];
            for (const el of document.querySelectorAll('*')) {
                for (const attr of el.attributes) {
                    const value = attr.value.toLowerCase();
                    if (!urls.includes(attr.name.toLowerCase())) continue;
                    if (value.startsWith('#')) continue;  // within the page
                    if (value.includes(host) || value.includes('phish')) {
                        found.push(`${el.tagName} ${attr.name}=${attr.value}`);
                    }
                }
            }
            for (const el of document.querySelectorAll('.katex, .stMarkdownColoredText')) {
                found.push(`${el.className}: ${el.textContent}`);
            }
            return found;
        }""",
        host,
    )


def check(page: Page, hostile_program: Hostile, recorder: Recorder, where: str) -> None:
    settle(page)
    assert errors(page) == [], where
    assert leaks(page, hostile_program.host) == [], where
    assert recorder.requests == [], where


def test_a_supervisor_sees_hostile_names_as_text(server, browser, hostile_program, recorder):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, server, "sup")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=TIMEOUT)
    check(page, hostile_program, recorder, "overview")
    # The sidebar's filters offer the hostile cohort and track (as plain options).
    for label, shown in (("Cohort", "Cohort ![x]("), ("Track", "Track ![x](")):
        page.get_by_role("combobox", name=label).click()
        expect(page.get_by_role("option").filter(has_text=shown)).to_have_count(1)
        check(page, hostile_program, recorder, f"{label} filter")
        page.keyboard.press("Escape")
    for link in ("Missions", "Forecasts", "Data health", "Definitions", "Learners"):
        visit(page, link)
        check(page, hostile_program, recorder, link)
    # The drill-down lists the first learners to contact: the hostile one leads.
    page.get_by_role("combobox", name="Drill down").click()
    option = page.get_by_role("option").filter(has_text=hostile_program.learner)
    expect(option).to_contain_text("[help](")
    check(page, hostile_program, recorder, "drill-down options")
    option.click()
    heading = page.get_by_role("heading").filter(has_text=hostile_program.learner)
    expect(heading).to_be_visible(timeout=TIMEOUT)
    check(page, hostile_program, recorder, "drill-down")
    text = heading.inner_text().replace("\u2060", "")
    assert text.startswith(hostile_program.name), text
    main = page.locator('[data-testid="stMain"]')
    for shown in ("Reason ![x](", "Action ![x](", "Why ![x](", "Missing ![x]("):
        expect(main).to_contain_text(shown)
    page.close()


def test_the_learner_sees_their_hostile_texts_as_text(server, browser, hostile_program, recorder):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, server, "eve")
    expect(page.get_by_role("heading", name="My progress")).to_be_visible(timeout=TIMEOUT)
    check(page, hostile_program, recorder, "my progress")
    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text("Action ![x](")
    expect(main).to_contain_text(":red[alert]")
    visit(page, "Definitions")
    check(page, hostile_program, recorder, "definitions")
    page.close()
