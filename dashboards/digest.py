"""The weekly digest: one report per organization, as HTML and PDF, under ``serving/reports/``.

`cohortlens digest` (and Dagster's Monday schedule) writes, for every organization of the
published snapshot, ``reports/<org>/<week>.html``, ``<week>.pdf`` and ``<week>.json``: the
organization's KPIs, whom to contact this week (``risk_priority`` order, the strongest reason
and the suggested action), the cohorts' forecast fan charts after their competency so far
(the pages' own chart code, as static images) and what changed since the previous report.
``<week>`` is the Monday of the week. The JSON holds the numbers and the flagged learners'
ids, so next week's report can say who is newly flagged.

Data is read only through the data module's scoped queries, as a supervisor of that
organization: the digest sees what its supervisors see on the pages, nothing else. Every
text that comes from other systems (names, cohorts, reasons, actions) is escaped by the
template (Jinja2, autoescape), and the page may fetch nothing (its content security policy
allows inline styles and data: images only). Files are written under temporary names and
renamed, so a crash leaves the previous report, never half of one. Nothing of a learner's
is logged.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import jinja2
import polars as pl

from pipelines.paths import resolve_paths
from pipelines.warehouse import make_private, private_dir

from . import charts, data
from .auth import Principal

REPORTS = "reports"
TRIAGE_ROWS = 25  # learners listed in the triage table
NEWLY_FLAGGED_ROWS = 10  # newly flagged learners named in "what changed"
MAX_FAN_CHARTS = 8  # cohorts drawn (largest first); the others are named
CHART_SIZE = {"width": 900, "height": 340}
PRINT_TIMEOUT_S = 120
_WEEK_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.json$")
_SAFE_FOLDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Who reads the data: a supervisor of each organization; the program's organizations are
# listed as an admin (ids and counts only).
_READER = "weekly-digest"


class DigestError(RuntimeError):
    """The digest cannot be written (no snapshot, no browser to print with), in words."""


@dataclass(frozen=True)
class Report:
    """One organization's digest of one week, as written."""

    org_id: str
    org_name: str
    week: dt.date
    html: Path
    pdf: Path
    summary: Path  # the JSON: numbers and flagged learner ids

    def numbers(self) -> dict:
        return json.loads(self.summary.read_text())


@dataclass(frozen=True)
class Written:
    report: Report
    kpis: dict
    newly_flagged: int | None  # None: no previous report to compare with
    seconds: float
    pdf_bytes: int


def week_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week (the warehouse's weeks are ISO weeks)."""
    return day - dt.timedelta(days=day.weekday())


def reports_root(serving: Path) -> Path:
    return serving / REPORTS


def folder_name(org_id: str) -> str:
    """The folder of an organization's reports: its id when that is a plain name, else a
    digest of it (an id never becomes a path of its own choosing)."""
    if _SAFE_FOLDER.match(org_id):
        return org_id
    return "org-" + hashlib.sha256(org_id.encode()).hexdigest()[:16]


def org_folder(serving: Path, org_id: str) -> Path:
    return reports_root(serving) / folder_name(org_id)


# --- reading: what the pages read, scoped ---------------------------------------------------


@dataclass(frozen=True)
class _Contents:
    org_id: str
    org_name: str
    as_of: dt.date | None
    published_at: dt.datetime
    kpis: dict
    flagged: pl.DataFrame  # every learner to contact, in contact order
    cohorts: pl.DataFrame
    fan: pl.DataFrame
    history: dict[str, pl.DataFrame]  # of the cohorts drawn: their competency so far


def _supervisor(org_id: str) -> Principal:
    return Principal(_READER, "supervisor", org_id=org_id)


def organizations(serving: Path) -> list[tuple[str, str]]:
    """(org_id, name) of every organization with learners in the snapshot, largest first."""
    orgs = data.organizations(serving, Principal(_READER, "admin"))
    names = orgs["org_name"] if "org_name" in orgs.columns else orgs["org_id"]
    return [(o, n or o) for o, n in zip(orgs["org_id"], names, strict=True)]


def _collect(serving: Path, org_id: str, org_name: str | None) -> _Contents:
    who = _supervisor(org_id)
    snap = data.snapshot(serving)
    bins = data.readiness_overview(serving, who)
    cohorts = data.cohorts(serving, who)
    learners = data.learners(serving, who)
    total = int(bins["n_learners"].sum()) if bins.height else 0
    kpis = {
        "learners": total,
        "active_7d": int(cohorts["n_active_7d"].sum()) if cohorts.height else 0,
        "mean_readiness": round(float(bins["sum_readiness"].sum()) / total, 1) if total else None,
        "to_contact": int(bins["n_at_risk"].sum()) if bins.height else 0,
    }
    if not org_name and "org_name" in cohorts.columns and cohorts.height:
        org_name = cohorts["org_name"][0]
    flagged = learners.filter(pl.col("at_risk")).sort("risk_priority")
    cohorts = cohorts.sort("n_learners", descending=True)
    fan = data.cohort_fan(serving, who)
    forecast = set(fan["cohort_id"].to_list()) if fan.height else set()
    drawn = [c for c in cohorts["cohort_id"].to_list() if c in forecast][:MAX_FAN_CHARTS]
    return _Contents(
        org_id=org_id,
        org_name=org_name or org_id,
        as_of=data.as_of_date(serving, who),
        published_at=snap.published_at,
        kpis=kpis,
        flagged=flagged,
        cohorts=cohorts,
        fan=fan,
        history={c: data.competency_history(serving, who, c) for c in drawn},
    )


# --- what changed since the previous report -------------------------------------------------


def _previous(folder: Path, week: dt.date) -> tuple[dt.date, dict] | None:
    """The latest report before ``week`` in ``folder``, with its numbers."""
    weeks = []
    if folder.is_dir():
        for path in folder.iterdir():
            found = _WEEK_FILE.match(path.name)
            if found:
                with_date = dt.date.fromisoformat(found[1])
                if with_date < week:
                    weeks.append(with_date)
    for earlier in sorted(weeks, reverse=True):
        try:
            return earlier, json.loads((folder / f"{earlier}.json").read_text())
        except (OSError, ValueError):
            continue  # unreadable: compare with the one before
    return None


def _changes(contents: _Contents, week: dt.date, previous: tuple[dt.date, dict] | None) -> dict:
    if previous is None:
        return {"previous": None}
    earlier, numbers = previous
    before = numbers.get("kpis", {})
    deltas = []
    for key, label in _KPI_LABELS.items():
        now, then = contents.kpis.get(key), before.get(key)
        if now is None or then is None:
            continue
        change = now - then
        text = (
            f"{change:+.1f}"
            if isinstance(now, float) or isinstance(then, float)
            else f"{change:+,}"
        )
        deltas.append({"label": label, "now": _fmt(now), "then": _fmt(then), "change": text})
    was = set(numbers.get("flagged", []))
    ids = contents.flagged["learner_id"].to_list()
    new = contents.flagged.filter(~pl.col("learner_id").is_in(list(was)))
    return {
        "previous": earlier,
        "consecutive": earlier == week - dt.timedelta(days=7),
        "same_data": numbers.get("as_of")
        == (contents.as_of.isoformat() if contents.as_of else None)
        and numbers.get("published_at") == contents.published_at.isoformat(),
        "deltas": deltas,
        "n_new": new.height,
        "new": _rows(new.head(NEWLY_FLAGGED_ROWS)),
        "n_no_longer": len(was - set(ids)),
    }


# --- rendering ------------------------------------------------------------------------------

_KPI_LABELS = {
    "learners": "Learners",
    "active_7d": "Active in the last 7 days",
    "mean_readiness": "Mean readiness (0-100)",
    "to_contact": "To contact",
}


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.1f}"
    return f"{value:,}"


def _rows(frame: pl.DataFrame) -> list[dict]:
    rows = []
    for row in frame.iter_rows(named=True):
        reasons = row.get("at_risk_reasons") or []
        p = row.get("p_disengage_8w")
        rows.append(
            {
                "priority": row.get("risk_priority"),
                "name": row.get("display_name") or row["learner_id"],
                "cohort": row.get("cohort_name") or row.get("cohort_id") or "",
                "reason": reasons[0] if reasons else "",
                "action": row.get("next_action") or "",
                "p_stop": f"{p:.0%}" if p is not None else "n/a",
            }
        )
    return rows


TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>Weekly digest: {{ org_name }}, week of {{ week }}</title>
<style>
@page { size: A4; margin: 14mm 12mm; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10pt;
  color: #1d2433; margin: 0; font-variant-ligatures: none; }
h1 { font-size: 17pt; margin: 0 0 2pt; }
h2 { font-size: 12.5pt; margin: 16pt 0 6pt; border-bottom: 1px solid #c9d1de;
  padding-bottom: 2pt; }
h3 { font-size: 10.5pt; margin: 10pt 0 2pt; }
.sub, .note { color: #5b6577; font-size: 8.5pt; }
.kpis { display: flex; gap: 8pt; margin-top: 10pt; }
.kpi { flex: 1; border: 1px solid #c9d1de; border-radius: 4pt; padding: 6pt 8pt; }
.kpi .label { color: #5b6577; font-size: 8.5pt; }
.kpi .value { font-size: 16pt; font-weight: bold; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; }
th { text-align: left; background: #eef2f7; font-weight: bold; }
th, td { border-bottom: 1px solid #dde3ec; padding: 3pt 4pt; vertical-align: top;
  overflow-wrap: anywhere; }
tr, figure, .kpis { break-inside: avoid; }
th.num { text-align: right; }
td.num { text-align: right; white-space: nowrap; }
td.name { width: 15%; } td.cohort { width: 14%; } td.reason { width: 34%; }
td.p { width: 9%; }
figure { margin: 4pt 0 10pt; }
figure img { width: 100%; }
ul { margin: 4pt 0; padding-left: 14pt; }
</style>
</head>
<body>
<h1>Weekly digest: {{ org_name }}</h1>
<div class="sub">Week of {{ week }} (Monday) &middot; data as of {{ as_of }},
 published {{ published_at }} UTC &middot; organization {{ org_id }}</div>

<div class="kpis">
{% for kpi in kpis %}<div class="kpi"><div class="label">{{ kpi.label }}</div>
<div class="value">{{ kpi.value }}</div></div>
{% endfor %}</div>

<h2>What changed since last week</h2>
{% if changes.previous is none %}
<p>No previous weekly digest for this organization: this is the first. Next week's report
 will compare with this one.</p>
{% else %}
<p>{% if changes.consecutive %}Compared with the report of the week of {{ changes.previous }}.
{% else %}Compared with the latest earlier report, of the week of {{ changes.previous }}
 (there is none for the week just before).{% endif %}
{% if changes.same_data %} The published data is the same as then (as of {{ as_of }}).
{% endif %}</p>
<table>
<tr><th>Measure</th><th class="num">Then</th><th class="num">Now</th>
<th class="num">Change</th></tr>
{% for d in changes.deltas %}<tr><td>{{ d.label }}</td><td class="num">{{ d.then }}</td>
<td class="num">{{ d.now }}</td><td class="num">{{ d.change }}</td></tr>
{% endfor %}</table>
<p>Newly flagged for contact: <b>{{ changes.n_new }}</b>; no longer flagged:
 <b>{{ changes.n_no_longer }}</b>.</p>
{% if changes.new %}<ul>
{% for r in changes.new %}<li>{{ r.name }} ({{ r.cohort }}): {{ r.reason }}</li>
{% endfor %}</ul>
{% if changes.n_new > changes.new|length %}<p class="note">and {{ changes.n_new
 - changes.new|length }} more, on the Learners page.</p>{% endif %}
{% endif %}
{% endif %}

<h2>To contact this week: {{ n_flagged }} learners</h2>
{% if not triage %}
<p>Nobody is flagged for contact this week.</p>
{% else %}
<table>
<tr><th class="num">#</th><th>Learner</th><th>Cohort</th>
<th>Why (the strongest reason)</th><th>Suggested action</th>
<th class="num">Chance of stopping in 8 weeks</th></tr>
{% for r in triage %}<tr><td class="num">{{ r.priority }}</td><td class="name">{{ r.name }}</td>
<td class="cohort">{{ r.cohort }}</td><td class="reason">{{ r.reason }}</td>
<td>{{ r.action }}</td><td class="num p">{{ r.p_stop }}</td></tr>
{% endfor %}</table>
{% if n_flagged > triage|length %}<p class="note">The other {{ n_flagged - triage|length }}
 are on the Learners page, in the same order.</p>{% endif %}
{% endif %}

<h2>Cohort forecasts</h2>
{% if not fans %}
<p>No forecast published yet: it runs nightly.</p>
{% endif %}
{% for f in fans %}<figure>
<h3>{{ f.name }}{% if f.target %} &middot; target date {{ f.target }}{% endif %}</h3>
<img alt="Forecast competency of {{ f.name }}" src="{{ f.src }}">
</figure>
{% endfor %}
{% if more_cohorts %}<p class="note">Not drawn here (see the Forecasts page):
 {{ more_cohorts|join(", ") }}.</p>{% endif %}
<p class="note">Bands: where 80 % and 50 % of the cohort's simulated futures lie each week.
 Competency mastery means every domain at 0.80 or more; it is not tier 5 completion.
 At risk: likely to stop within 8 weeks, or unlikely to reach mastery by a near target date,
 or a missed mission deadline; sized to a supervisor's week.</p>
<p class="note">cohortlens weekly digest, written {{ generated_at }} UTC.</p>
</body>
</html>
"""

_env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_template = _env.from_string(TEMPLATE)


def _fans(contents: _Contents) -> list[tuple[str, str, dt.date | None, object]]:
    """(cohort id, name, target date, figure) of the cohorts with a forecast, largest first;
    only the first MAX_FAN_CHARTS have a figure (the others are named)."""
    found = []
    fan_cohorts = set(contents.fan["cohort_id"].to_list()) if contents.fan.height else set()
    for row in contents.cohorts.iter_rows(named=True):
        cohort = row["cohort_id"]
        if cohort not in fan_cohorts:
            continue
        target = row.get("target_mastery_date")
        if isinstance(target, dt.datetime):
            target = target.date()
        figure = None
        if cohort in contents.history:  # the first MAX_FAN_CHARTS, chosen in _collect
            rows = contents.fan.filter(pl.col("cohort_id") == cohort)
            figure = charts.fan_chart(
                rows,
                "mean",
                target=target,
                as_of=rows["as_of_date"][0],
                history=contents.history[cohort],
            )
        found.append((cohort, row.get("cohort_name") or cohort, target, figure))
    return found


def render_html(
    contents: _Contents,
    week: dt.date,
    changes: dict,
    images: dict[str, bytes],
    fans: list,
    generated_at: dt.datetime,
) -> str:
    shown = fans[:MAX_FAN_CHARTS]
    return _template.render(
        org_id=contents.org_id,
        org_name=contents.org_name,
        week=week.isoformat(),
        as_of=contents.as_of.isoformat() if contents.as_of else "n/a",
        published_at=f"{contents.published_at:%Y-%m-%d %H:%M}",
        generated_at=f"{generated_at:%Y-%m-%d %H:%M}",
        kpis=[{"label": _KPI_LABELS[k], "value": _fmt(v)} for k, v in contents.kpis.items()],
        changes=changes,
        n_flagged=contents.flagged.height,
        triage=_rows(contents.flagged.head(TRIAGE_ROWS)),
        fans=[
            {
                "name": name,
                "target": target.isoformat() if target else None,
                "src": "data:image/svg+xml;base64,"
                + base64.b64encode(images[f"{contents.org_id}\0{cohort}"]).decode(),
            }
            for cohort, name, target, _ in shown
        ],
        more_cohorts=[name for _, name, _, _ in fans[MAX_FAN_CHARTS:]],
    )


def browser() -> str:
    """The Chromium that renders charts and prints PDFs: $BROWSER_PATH (kaleido's setting),
    else `chromium` on the PATH (Debian's package)."""
    for candidate in (
        os.environ.get("BROWSER_PATH"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise DigestError(
        "the digest needs Chromium to draw its charts and print its PDF: install Debian's"
        " `chromium` package (apt-get install chromium), or set BROWSER_PATH to a Chrome"
    )


def render_images(figures: dict[str, object], path: str) -> dict[str, bytes]:
    """Each plotly figure as SVG, drawn by kaleido in one headless Chromium."""
    if not figures:
        return {}
    import kaleido

    async def draw() -> dict[str, bytes]:
        # No MathJax (it would come from a CDN); plotly.js comes from the plotly package.
        async with kaleido.Kaleido(path=path, mathjax=False) as k:
            return {
                key: await k.calc_fig(figure, opts={"format": "svg", **CHART_SIZE})
                for key, figure in figures.items()
            }

    try:
        return asyncio.run(draw())
    except Exception as exc:  # the charts hold cohort aggregates only, no learner's data
        raise DigestError(
            f"kaleido could not draw the charts: {type(exc).__name__}: {exc}"
        ) from exc


def print_pdf(html: Path, pdf: Path, path: str) -> None:
    """Print ``html`` to ``pdf`` with headless Chromium (no network, its own profile)."""
    with tempfile.TemporaryDirectory(prefix="cohortlens-chromium-") as profile:
        command = [
            path,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # the page fetches nothing; enforce it
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, timeout=PRINT_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise DigestError(f"Chromium did not print within {PRINT_TIMEOUT_S} s") from None
    if done.returncode != 0 or not pdf.exists() or pdf.read_bytes()[:5] != b"%PDF-":
        raise DigestError(f"Chromium could not print the digest (exit {done.returncode})")


def _partial(folder: Path, name: str) -> Path:
    """A temporary name beside ``name``, unique to this writer (its suffix kept)."""
    stem, dot, suffix = name.partition(".")
    return folder / f".{stem}.{os.getpid()}-{secrets.token_hex(4)}.partial{dot}{suffix}"


def _sync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _remove_leftovers(folder: Path, older_than_s: float = 3600.0) -> None:
    """What a killed digest left (temporary files), once no live writer can own them."""
    now = time.time()
    for leftover in folder.glob(".*.partial*"):
        try:
            if now - leftover.stat().st_mtime > older_than_s:
                leftover.unlink()
        except FileNotFoundError:
            pass


def write_digests(
    serving: Path | None = None,
    week: dt.date | None = None,
    org_ids: list[str] | None = None,
) -> list[Written]:
    """Write every organization's digest (or only ``org_ids``'), for ``week`` (any day of
    it; default: the week of the snapshot's as-of date). Returns what was written."""
    serving = serving or resolve_paths().serving
    try:
        data.snapshot(serving)
    except data.NoSnapshot as exc:
        raise DigestError(str(exc)) from None
    path = browser()
    orgs = organizations(serving)
    if org_ids is not None:
        unknown = sorted(set(org_ids) - {o for o, _ in orgs})
        if unknown:
            raise DigestError(f"no learners of {', '.join(unknown)} in the published data")
        orgs = [(o, n) for o, n in orgs if o in set(org_ids)]
    collected = []
    figures: dict[str, object] = {}
    for org_id, name in orgs:
        began = time.perf_counter()
        contents = _collect(serving, org_id, name)
        fans = _fans(contents)
        for cohort, _, _, figure in fans[:MAX_FAN_CHARTS]:
            figures[f"{org_id}\0{cohort}"] = figure
        collected.append((contents, fans, time.perf_counter() - began))
    drew = time.perf_counter()
    images = render_images(figures, path)
    # The charts are drawn together (one browser); each organization bears its share.
    drawing_s = (time.perf_counter() - drew) / max(len(collected), 1)
    if week is None:
        as_of = next((c.as_of for c, _, _ in collected if c.as_of), None)
        week = as_of or dt.datetime.now(dt.UTC).date()
    week = week_of(week)
    return [
        _write_one(serving, contents, fans, images, week, path, read_s + drawing_s)
        for contents, fans, read_s in collected
    ]


def _write_one(
    serving: Path,
    contents: _Contents,
    fans: list,
    images: dict[str, bytes],
    week: dt.date,
    path: str,
    spent_s: float,
) -> Written:
    began = time.perf_counter()
    private_dir(reports_root(serving))
    folder = private_dir(org_folder(serving, contents.org_id))
    _remove_leftovers(folder)
    previous = _previous(folder, week)
    changes = _changes(contents, week, previous)
    generated_at = dt.datetime.now(dt.UTC)
    html = render_html(contents, week, changes, images, fans, generated_at)
    final = {suffix: folder / f"{week}.{suffix}" for suffix in ("html", "pdf", "json")}
    temp = {suffix: _partial(folder, target.name) for suffix, target in final.items()}
    summary = {
        "org_id": contents.org_id,
        "org_name": contents.org_name,
        "week": week.isoformat(),
        "as_of": contents.as_of.isoformat() if contents.as_of else None,
        "published_at": contents.published_at.isoformat(),
        "generated_at": generated_at.isoformat(),
        "kpis": contents.kpis,
        "flagged": contents.flagged["learner_id"].to_list(),  # in contact order
    }
    try:
        temp["html"].write_text(html, encoding="utf-8")
        print_pdf(temp["html"], temp["pdf"], path)
        temp["json"].write_text(json.dumps(summary, indent=1), encoding="utf-8")
        for suffix in ("html", "pdf", "json"):
            make_private(temp[suffix])  # names and reasons: the owner's only, whatever the umask
            _sync(temp[suffix])
        # The numbers last: next week compares with a report only once all of it is there.
        for suffix in ("pdf", "html", "json"):
            os.replace(temp[suffix], final[suffix])
    finally:
        for leftover in temp.values():
            leftover.unlink(missing_ok=True)
    report = Report(
        contents.org_id, contents.org_name, week, final["html"], final["pdf"], final["json"]
    )
    return Written(
        report=report,
        kpis=contents.kpis,
        newly_flagged=changes.get("n_new"),
        seconds=spent_s + time.perf_counter() - began,
        pdf_bytes=final["pdf"].stat().st_size,
    )


# --- who may download which report ----------------------------------------------------------


def _reports_in(folder: Path, org_id: str) -> list[Report]:
    found = []
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        match = _WEEK_FILE.match(path.name)
        if not match:
            continue
        week = dt.date.fromisoformat(match[1])
        pdf, html = folder / f"{week}.pdf", folder / f"{week}.html"
        if not pdf.is_file():
            continue
        try:
            numbers = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if numbers.get("org_id") != org_id:
            continue  # another organization's folder (a digest of its id): never theirs
        found.append(Report(org_id, numbers.get("org_name") or org_id, week, html, pdf, path))
    return sorted(found, key=lambda r: r.week, reverse=True)


def reports_for(principal: Principal, serving: Path | None = None) -> list[Report]:
    """The reports ``principal`` may download, newest first: a supervisor their own
    organization's (the folder comes from the account's organization, never from a request),
    an admin every organization's, anyone else none."""
    serving = serving or resolve_paths().serving
    if principal.role == "supervisor" and principal.org_id:
        return _reports_in(org_folder(serving, principal.org_id), principal.org_id)
    if principal.role != "admin":
        return []
    found: list[Report] = []
    root = reports_root(serving)
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        org_id = _org_of(folder)
        if org_id is not None and org_folder(serving, org_id) == folder:
            found.extend(_reports_in(folder, org_id))
    return sorted(found, key=lambda r: (r.org_id, -r.week.toordinal()))


def _org_of(folder: Path) -> str | None:
    """The organization whose reports ``folder`` holds, from the first report that says."""
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            return str(json.loads(path.read_text())["org_id"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return None
