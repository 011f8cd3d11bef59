"""The weekly digest: one scoped report per organization, escaped, with what changed."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pypdf
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from dashboards import auth, data, digest
from dashboards.auth import Principal
from pipelines.cli import app as cli
from pipelines.definitions import build_defs
from pipelines.defs.digest.schedules import weekly_digest_schedule
from pipelines.defs.resources import WarehouseResource
from pipelines.serving import publish
from tests.dashboards.conftest import PASSWORD

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py")
HOSTILE = "Eve ![x](http://host/x.png) [help](http://host/phish) <script>alert(1)</script>"
HOSTILE_COHORT = "Red <img src=http://host/c.png> [cohort](http://host/c)"
HOSTILE_REASON = "<b>bold</b> ![r](http://host/r.png) inactive"


@dataclass(frozen=True)
class Digests:
    home: Path
    serving: Path
    written: dict[str, digest.Written]  # by organization
    hostile_org: str  # the organization whose first learner to contact is named HOSTILE
    week: dt.date


@pytest.fixture(scope="module")
def digests(built_program, tmp_path_factory) -> Digests:
    """The small program with hostile text planted in one organization's first learner to
    contact, published, and every organization's digest written once."""
    home = tmp_path_factory.mktemp("digest-home")
    warehouse = home / "warehouse.duckdb"
    shutil.copy(built_program.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        org, learner, cohort = con.sql(
            "select org_id, learner_id, cohort_id from marts.learner_readiness where at_risk"
            " order by risk_priority, org_id limit 1"
        ).fetchall()[0]
        con.execute(
            "update marts.learner_readiness set display_name = ?,"
            " at_risk_reasons = list_prepend(?, at_risk_reasons) where learner_id = ?",
            [HOSTILE, HOSTILE_REASON, learner],
        )
        con.execute(
            "update marts.cohort_summary set cohort_name = ? where cohort_id = ?",
            [HOSTILE_COHORT, cohort],
        )
    serving = publish(warehouse).snapshot.path.parent
    written = {w.report.org_id: w for w in digest.write_digests(serving)}
    as_of = data.as_of_date(serving, Principal("t", "admin"))
    return Digests(home, serving, written, org, digest.week_of(as_of))


def pdf_text(path: Path) -> str:
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    return " ".join(text.split())


def flagged(serving: Path, org: str) -> pl.DataFrame:
    learners = data.learners(serving, Principal("t", "supervisor", org_id=org))
    return learners.filter(pl.col("at_risk")).sort("risk_priority")


def test_every_organization_gets_its_html_pdf_and_numbers(digests):
    orgs = data.organizations(digests.serving, Principal("t", "admin"))["org_id"].to_list()
    assert sorted(digests.written) == sorted(orgs)
    for org, done in digests.written.items():
        folder = digests.serving / "reports" / org
        assert done.report.week == digests.week and digests.week.weekday() == 0
        assert done.report.pdf == folder / f"{digests.week}.pdf"
        assert done.report.pdf.read_bytes()[:5] == b"%PDF-"
        assert done.report.html.read_text().startswith("<!doctype html>")
        numbers = json.loads((folder / f"{digests.week}.json").read_text())
        assert numbers["org_id"] == org
        assert numbers["flagged"] == flagged(digests.serving, org)["learner_id"].to_list()
        assert numbers["kpis"]["to_contact"] == len(numbers["flagged"])
        assert not list(folder.glob(".*")), "no temporary file is left"
        assert done.pdf_bytes == done.report.pdf.stat().st_size
        assert "No previous weekly digest" in done.report.html.read_text()


def test_each_fan_chart_starts_from_the_cohorts_competency_so_far(digests):
    org = max(digests.written, key=lambda o: digests.written[o].report.pdf.stat().st_size)
    who = Principal("t", "supervisor", org_id=org)
    contents = digest._collect(digests.serving, org, None)
    drawn = [(cohort, figure) for cohort, _, _, figure in digest._fans(contents) if figure]
    assert drawn
    for cohort, figure in drawn:
        so_far = next(t for t in figure.data if t.name == "so far: median")
        history = data.competency_history(digests.serving, who, cohort)
        mean = history.filter(pl.col("series") == "mean").sort("week_start")
        assert list(so_far.y) == mean["p50"].to_list() and len(so_far.y) > 1
        assert max(so_far.x) <= contents.as_of  # the history stops where the forecast starts


def test_each_pdf_names_its_first_learners_to_contact_and_no_one_elses(digests):
    everyone = data.learners(digests.serving, Principal("t", "admin"))
    named = 0
    for org, done in digests.written.items():
        text = pdf_text(done.report.pdf)
        first = flagged(digests.serving, org).head(5)["display_name"].to_list()
        for name in first:
            if name != HOSTILE:  # long enough to wrap across lines in the PDF
                assert name in text, (org, name)
                named += 1
        own = set(everyone.filter(pl.col("org_id") == org)["display_name"])
        others = set(everyone.filter(pl.col("org_id") != org)["display_name"]) - own
        # A name of another organization that is part of one of this one's is not evidence.
        others = {n for n in others if not any(n in mine for mine in own)}
        leaked = sorted(n for n in others if n in text)
        assert not leaked, (org, leaked)
    assert named >= 3, "the small program flags learners to contact"


def test_text_from_other_systems_is_escaped_never_markup(digests):
    html = digests.written[digests.hostile_org].report.html.read_text()
    assert "Eve ![x](http://host/x.png) [help](http://host/phish)" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "Red &lt;img src=http://host/c.png&gt;" in html
    lowered = html.lower()
    assert "<script" not in lowered and "<a " not in lowered and "href" not in lowered
    assert "<b>bold" not in lowered
    # Every image is one of the charts, embedded: nothing is fetched from anywhere.
    assert lowered.count("<img ") == lowered.count('src="data:image/svg+xml;base64,')
    assert "img-src data:" in html  # the page's policy forbids fetching anything else
    text = pdf_text(digests.written[digests.hostile_org].report.pdf).replace(" ", "")
    assert "<script>alert(1)</script>" in text  # shown as the text it is


def test_a_later_week_says_what_changed_since_the_last_report(digests, monkeypatch):
    org = digests.hostile_org  # has learners to contact
    folder = digests.serving / "reports" / org
    first = json.loads((folder / f"{digests.week}.json").read_text())
    # The week after: pretend two of today's flagged learners were not flagged then.
    earlier = digests.week + dt.timedelta(days=7)
    pretend = {**first, "week": str(earlier), "flagged": first["flagged"][2:]}
    pretend["kpis"] = {**first["kpis"], "to_contact": first["kpis"]["to_contact"] - 2}
    (folder / f"{earlier}.json").write_text(json.dumps(pretend))
    # `--week` takes any day of the week: a Wednesday two weeks on is that Monday's report.
    wednesday = digests.week + dt.timedelta(days=16)
    monkeypatch.setenv("COHORTLENS_HOME", str(digests.home))
    result = CliRunner().invoke(
        cli, ["digest", "--week", str(wednesday), "--org", org], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    week = digests.week + dt.timedelta(days=14)
    html = (folder / f"{week}.html").read_text()
    assert (folder / f"{week}.pdf").exists() and (folder / f"{week}.json").exists()
    assert f"Compared with the report of the week of {earlier}." in html
    names = flagged(digests.serving, org).head(2)["display_name"].to_list()
    assert f"<li>{names[1]} (" in html  # named among the newly flagged
    text = pdf_text(folder / f"{week}.pdf")
    assert "Newly flagged for contact: 2; no longer flagged: 0." in text
    n = first["kpis"]["to_contact"]
    assert f"To contact {n - 2:,} {n:,} +2" in text  # then, now and the change
    # The command prints counts, never a learner's name.
    assert org in result.output and not any(n in result.output for n in names)


def test_a_week_with_no_report_just_before_says_which_it_compares_with(digests):
    org = min(digests.written)
    week = digests.week + dt.timedelta(days=35)
    before = max(
        r.week
        for r in digest.reports_for(Principal("a", "admin"), digests.serving)
        if r.org_id == org and r.week < week
    )
    (done,) = digest.write_digests(digests.serving, week, [org])
    html = done.report.html.read_text()
    assert f"Compared with the latest earlier report, of the week of {before}" in html
    assert "(there is none for the week just before)" in html
    assert done.newly_flagged == 0
    assert "The published data is the same as then" in html


def test_reports_are_listed_only_for_the_principals_organization(digests):
    org = digests.hostile_org
    mine = digest.reports_for(Principal("s", "supervisor", org_id=org), digests.serving)
    assert mine and {r.org_id for r in mine} == {org}
    assert all(r.pdf.parent == digests.serving / "reports" / org for r in mine)
    admin = digest.reports_for(Principal("a", "admin"), digests.serving)
    assert {r.org_id for r in admin} == set(digests.written)
    for student in (
        Principal("stu", "student", learner_id="L0000001"),
        Principal("stu", "student", org_id=org, learner_id="L0000001"),
        Principal("x", "auditor", org_id=org),
    ):
        assert digest.reports_for(student, digests.serving) == []
    # An organization id is never a path: a forged one lands in a folder of its own.
    for forged in ("../" + org, f"{org}/../{org}", "..", "/etc"):
        assert (
            digest.reports_for(Principal("s", "supervisor", org_id=forged), digests.serving) == []
        )
        assert digest.org_folder(digests.serving, forged).parent == digests.serving / "reports"


def test_the_overview_offers_the_supervisor_their_organizations_pdf(digests, monkeypatch):
    org = digests.hostile_org
    accounts = auth.accounts_path(digests.home)
    auth.add_user(accounts, "dsup", "supervisor", PASSWORD, org_id=org, replace=True)
    auth.add_user(accounts, "dadmin", "admin", PASSWORD, replace=True)
    monkeypatch.setenv("COHORTLENS_HOME", str(digests.home))
    for username, choices in (("dsup", 0), ("dadmin", len(digests.written))):
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        next(t for t in at.text_input if t.label == "Username").input(username)
        next(t for t in at.text_input if t.label == "Password").input(PASSWORD)
        next(b for b in at.button if b.label == "Sign in").click()
        at.run()
        assert not at.exception, at.exception
        labels = [b.proto.label for b in at.get("download_button")]
        assert [x for x in labels if x.startswith("Download the digest of the week of")]
        pickers = [s for s in at.selectbox if s.label == "Organization of the digest"]
        assert len(pickers) == (1 if choices else 0)
        if choices:
            assert len(pickers[0].options) == choices


def test_the_weekly_schedule_is_off_by_default_and_runs_the_digest_job(digests):
    assert weekly_digest_schedule.cron_schedule == "0 6 * * 1"
    assert weekly_digest_schedule.execution_timezone == "UTC"
    assert weekly_digest_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert weekly_digest_schedule.job_name == "weekly_digest"
    org = min(digests.written)
    defs = build_defs(
        WarehouseResource(
            landing=str(digests.home / "landing"), warehouse=str(digests.home / "warehouse.duckdb")
        )
    )
    week = digests.week + dt.timedelta(days=70)
    config = {"ops": {"write_weekly_digests": {"config": {"week": str(week), "orgs": [org]}}}}
    warehouse = digests.home / "warehouse.duckdb"
    before = warehouse.stat().st_mtime_ns
    result = defs.resolve_job_def("weekly_digest").execute_in_process(run_config=config)
    assert result.success
    assert (digests.serving / "reports" / org / f"{week}.pdf").exists()
    # It reads the snapshot only: no run lock taken, no run marked in the warehouse.
    assert warehouse.stat().st_mtime_ns == before
