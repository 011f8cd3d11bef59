"""Materialize every asset once, in this process, through Dagster; report what happened.

Used by `cohortlens run` and by the tests, so that both go through the same Dagster job that
the sensor and the schedule start.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .as_of import AsOf, resolve_as_of
from .ingest.landing import discover, fingerprint
from .ingest.loader import SourceSummary
from .ingest.sources import SOURCES
from .paths import Paths, resolve_paths
from .serving import current
from .warehouse import open_writer, record_run, run_lock

if TYPE_CHECKING:
    import dagster as dg
    import duckdb


class OrganizationForecastRefused(ValueError):
    """A forecast of some organizations that cannot be run: an organization the warehouse's
    reference data does not have, no full forecast yet, or another day than the last one's."""


# Dagster logs a failed step with its stack trace; the run's log file gets it, not the console.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass(frozen=True)
class CheckOutcome:
    asset: str
    name: str
    passed: bool
    severity: str  # ERROR or WARN
    metadata: dict

    @property
    def sentence(self) -> str:
        """What the check found, in words: its own summary, else its name and figures."""
        if "summary" in self.metadata:
            return f"{self.asset}: {self.metadata['summary']}"
        figures = ", ".join(f"{k} {v}" for k, v in self.metadata.items())
        outcome = "passed" if self.passed else "failed"
        return f"{self.asset}: check {self.name} {outcome} ({figures})"


@dataclass(frozen=True)
class FileProblem:
    file_name: str
    status: str  # failed or rejected
    reason: str


@dataclass(frozen=True)
class RunInputs:
    """What a full run's results depend on: the landing listing, the as-of day, the models."""

    landing: str
    as_of: dt.date
    project: str

    @classmethod
    def now(cls, paths: Paths, as_of: dt.date | None = None) -> RunInputs:
        """`as_of`: the requested as-of date; else today's (same landing files and day: the
        default as-of date is the same too)."""
        from .defs.transform.project import project_fingerprint

        day = as_of or dt.datetime.now(dt.UTC).date()
        return cls(fingerprint(discover(paths.landing)), day, project_fingerprint())


@dataclass
class RunReport:
    paths: Paths
    success: bool
    seconds: float
    log: Path | None = None  # dbt's console output of the run
    error: str | None = None  # one line: which step failed and why
    sources: list[SourceSummary] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)
    materialized: list[str] = field(default_factory=list)  # asset keys, e.g. marts/fct_…
    # Records of older files let out of quarantine this run, by raw asset (e.g. raw/xapi_…).
    released: dict[str, int] = field(default_factory=dict)
    problems: list[FileProblem] = field(default_factory=list)  # files failed or rejected
    # Set when the run did nothing: why (same inputs as the last successful run).
    skipped: str | None = None
    as_of: AsOf | None = None  # the run's as-of date, and a warning when it is not today
    lrs: str | None = None  # what the LRS pull brought, in one line (when there is an LRS)
    ran_on: str | None = None  # where the engine's blocks ran: in-process, or which cluster

    @property
    def models(self) -> list[str]:
        """The dbt models materialized (every asset outside the raw and audit layers)."""
        return [k for k in self.materialized if not k.startswith(("raw/", "audit/", "forecasts/"))]

    @property
    def failed_checks(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed and c.severity == "ERROR"]

    @property
    def warnings(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed and c.severity != "ERROR"]

    @property
    def ok(self) -> bool:
        return self.success and not self.failed_checks


def run_all(
    landing: Path | str | None = None,
    warehouse: Path | str | None = None,
    ingestion_only: bool = False,
    forecast_only: bool = False,
    forecast_settings: object | None = None,
    force: bool = False,
    wait_s: float = 0.0,
    as_of: dt.date | None = None,
    dask_scheduler: str | None = None,
    orgs: list[str] | None = None,
) -> RunReport:
    """Run the implicit job of every asset and check, in process, against these paths.

    `ingestion_only`: just the raw and audit assets and their checks, without dbt.
    `forecast_only`: the nightly forecast job (the engine's assets, then the models reading
    them). `forecast_settings`: a ForecastSettings (draws, horizon, seed, backtest weeks).
    A full run whose inputs are those of the last successful one does nothing, unless `force`.
    `as_of`: the as-of date of every mart and forecast (default: pipelines/as_of.py).
    `dask_scheduler`: the Dask scheduler the engine's blocks run on ("" in-process; default
    COHORTLENS_DASK_SCHEDULER, else in-process).
    `orgs` (with `forecast_only`): only these organizations' per-learner forecasts (their
    partitions), then the models that read forecasts; the program-wide backtests and the
    disengagement model stay as the last full forecast left them, and the run is as of that
    forecast's day (the marts read one day's forecasts and risks). OrganizationForecastRefused
    says why when it cannot run.
    Raises RunInProgress when another run holds the warehouse for longer than `wait_s`.
    """
    if orgs and not forecast_only:
        raise ValueError("organizations are chosen for a forecast run only")
    paths = resolve_paths(landing=landing, warehouse=warehouse)
    with run_lock(paths.warehouse, wait_s, command=_command(ingestion_only, forecast_only)):
        return _run(
            paths,
            ingestion_only,
            forecast_only,
            forecast_settings,
            force,
            as_of,
            dask_scheduler,
            sorted(set(orgs)) if orgs else None,
        )


def _command(ingestion_only: bool, forecast_only: bool) -> str:
    if forecast_only:
        return "cohortlens forecast"
    return "cohortlens run (ingestion only)" if ingestion_only else "cohortlens run"


def _run(
    paths: Paths,
    ingestion_only: bool,
    forecast_only: bool,
    forecast_settings: object | None,
    force: bool,
    as_of: dt.date | None,
    dask_scheduler: str | None = None,
    orgs: list[str] | None = None,
) -> RunReport:
    full = not (ingestion_only or forecast_only)
    if orgs:
        as_of = _organization_run_day(paths, orgs, as_of)
    settings = _Settings(as_of, forecast_settings, dask_scheduler)
    started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    started = time.perf_counter()
    # dbt's own console lines go to a log beside the warehouse, not into the caller's output.
    log_path = paths.warehouse.parent / "logs" / "cohortlens-run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    executions: list[dg.ExecuteInProcessResult] = []
    pulls = not forecast_only and _lrs_configured()
    with log_path.open("w") as log:
        if pulls:
            # The LRS first, on its own: what it sends is then part of the landing listing the
            # run compares with the last one's, and a failed pull stops no other step.
            from .defs.ingest.assets import LRS_KEY

            executions.append(_execute(paths, None, [LRS_KEY], settings, log))
        inputs = RunInputs.now(paths, as_of) if full else None
        if full and not force:
            last = last_successful_run(paths.warehouse)
            published = current(paths.serving)
            # A missing or broken publication is repaired by running, not skipped.
            if last is not None and last[0] == inputs and published and not published.fallback:
                report = RunReport(
                    paths,
                    True,
                    0.0,
                    skipped=f"nothing new since the run of {last[1]:%Y-%m-%d %H:%M}"
                    " UTC: the same landing files, as-of date and models",
                )
                _take_results(report, executions, log_path)
                return report
        if orgs:
            executions += _forecast_organizations(paths, orgs, settings, log)
        else:
            job = "nightly_forecast" if forecast_only else None
            selection = None
            if ingestion_only:
                from .defs.ingest.assets import ASSETS

                selection = [key for asset in ASSETS for key in asset.keys]
            if pulls:
                selection = _without_lrs(selection, paths, settings)
            executions.append(_execute(paths, job, selection, settings, log))
    report = RunReport(
        paths, all(r.success for r in executions), time.perf_counter() - started, log=log_path
    )
    _take_results(report, executions, log_path)
    if paths.warehouse.exists():
        from .defs.resources import WarehouseResource

        stale_after = WarehouseResource().max_staleness_hours
        with open_writer(paths.warehouse) as con:  # one connection for the bookkeeping
            report.sources = summarize(con, since=started_at)
            report.problems = file_problems(con, since=started_at)
            if not ingestion_only:  # what the assets resolved, from the same data and day
                report.as_of = resolve_as_of(con, as_of, started_at, stale_after)
            if full:
                record_run(con, started_at, inputs.landing, inputs.as_of, inputs.project, report.ok)
    return report


def _lrs_configured() -> bool:
    from .defs.resources import LRSResource

    return LRSResource.from_env().endpoint is not None


@dataclass(frozen=True)
class _Settings:
    """A run's settings beside its paths."""

    as_of: dt.date | None
    forecast: object | None  # a ForecastSettings
    dask_scheduler: str | None  # None: COHORTLENS_DASK_SCHEDULER's; "": in-process


def _defs(paths: Paths, settings: _Settings):
    from .definitions import build_defs
    from .defs.resources import DaskResource, WarehouseResource

    resource = WarehouseResource(
        landing=str(paths.landing),
        warehouse=str(paths.warehouse),
        as_of_date=str(settings.as_of) if settings.as_of else None,
    )
    dask = (
        None if settings.dask_scheduler is None else DaskResource(scheduler=settings.dask_scheduler)
    )
    return build_defs(resource, settings.forecast, dask=dask)


def _without_lrs(selection, paths, settings: _Settings) -> list:
    """`selection` (None: every asset of the implicit job) without the LRS pull."""
    from .defs.ingest.assets import LRS_KEY

    if selection is None:
        job = _defs(paths, settings).resolve_implicit_global_asset_job_def()
        selection = list(job.asset_layer.executable_asset_keys)
    return [key for key in selection if key != LRS_KEY]


def _execute(paths, job_name, selection, settings: _Settings, log):
    """One in-process execution of a job (None: the implicit one of every asset)."""
    import dagster as dg

    defs = _defs(paths, settings)
    if job_name:
        job = defs.resolve_job_def(job_name)
    else:
        job = defs.resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as inst, contextlib.redirect_stdout(log):
        return _execute_in(job, inst, selection)


def _organization_run_day(paths: Paths, orgs: list[str], requested: dt.date | None) -> dt.date:
    """The as-of day of a forecast of ``orgs``: the last full forecast's (its disengagement
    risks), which the marts rebuilt after it read beside the new rows."""
    import duckdb

    with open_writer(paths.warehouse) as con:
        organizations = con.execute("select org_id from raw.organizations order by 1")
        known = [org for (org,) in organizations.fetchall()]
        unknown = [org for org in orgs if org not in known]
        if unknown:
            raise OrganizationForecastRefused(
                f"no organization {', '.join(unknown)} in the warehouse;"
                f" it has {', '.join(known) or 'none'}"
            )
        try:
            risks = con.execute("select max(as_of_date) from forecasts.disengagement_risk")
            [(day,)] = risks.fetchall()
        except duckdb.CatalogException:
            day = None
    if day is None:
        raise OrganizationForecastRefused(
            "no full forecast yet: run `cohortlens forecast` without --org first"
        )
    if requested is not None and requested != day:
        raise OrganizationForecastRefused(
            f"the last full forecast is as of {day}: a forecast of some organizations is as of"
            f" that day too (run `cohortlens forecast --as-of {requested}` without --org for"
            " another day)"
        )
    return day


def _forecast_organizations(paths, orgs: list[str], settings: _Settings, log) -> list:
    """The per-learner forecasts of ``orgs``, one partition run each, then (all succeeded)
    the models downstream of them that are not the engine's own assets. A failure leaves the
    organizations done before it with new forecasts and the marts as they were, until the
    next run."""
    import dagster as dg

    from .defs.forecast.assets import GROUP, PER_LEARNER
    from .defs.resources import ORGANIZATIONS

    defs = _defs(paths, settings)
    job = defs.resolve_implicit_global_asset_job_def()
    readers = (
        dg.AssetSelection.assets(*PER_LEARNER).downstream() - dg.AssetSelection.groups(GROUP)
    ).resolve(defs.resolve_asset_graph())
    results = []
    with dg.DagsterInstance.ephemeral() as inst, contextlib.redirect_stdout(log):
        inst.add_dynamic_partitions(ORGANIZATIONS.name, orgs)  # known: _organization_run_day
        for org in orgs:
            results.append(_execute_in(job, inst, list(PER_LEARNER), partition_key=org))
            if not results[-1].success:
                return results
        results.append(_execute_in(job, inst, sorted(readers)))
    return results


def _execute_in(job, instance, selection, **options):
    """One execution of ``job`` on ``instance``, its step failures printed (to the run's log,
    where the caller redirects standard output)."""
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config=QUIET,
        asset_selection=selection,
        **options,
    )
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            print(f"step {event.step_key} failed:\n{event.step_failure_data.error.to_string()}")
    return result


def _take_results(report: RunReport, executions: list, log_path: Path) -> None:
    """What the executions did, into the report: failures, materializations, checks."""
    failures = [_first_failure(r) for r in executions if not r.success]
    if failures:
        report.success = False
        report.error = "; ".join(failures) + f" (details: {log_path})"
    materializations = [e for r in executions for e in r.get_asset_materialization_events()]
    report.materialized = sorted({e.asset_key.to_user_string() for e in materializations})
    for event in materializations:
        metadata = event.materialization.metadata
        released = metadata.get("rows_released_from_quarantine")
        if released is not None and released.value:
            report.released[event.asset_key.to_user_string()] = released.value
        if event.asset_key.to_user_string() == "landing/xapi_lrs":
            report.lrs = metadata["summary"].value
        if "ran_on" in metadata:
            report.ran_on = metadata["ran_on"].value
    report.checks += [
        CheckOutcome(
            asset=evaluation.asset_key.to_user_string(),
            name=evaluation.check_name,
            passed=evaluation.passed,
            severity=evaluation.severity.value,
            metadata={k: getattr(v, "value", v) for k, v in evaluation.metadata.items()},
        )
        for r in executions
        for evaluation in r.get_asset_check_evaluations()
    ]


def last_successful_run(warehouse: Path) -> tuple[RunInputs, dt.datetime] | None:
    """The inputs of the latest full run, and when it started, if it succeeded."""
    if not warehouse.exists():
        return None
    with open_writer(warehouse) as con:
        rows = con.execute(
            "select landing_fingerprint, as_of_date, project_fingerprint, started_at, success"
            " from audit.runs order by finished_at desc limit 1"
        ).fetchall()
    if not rows or not rows[0][4]:
        return None
    landing, as_of, project, started_at, _ = rows[0]
    return RunInputs(landing, as_of, project), started_at


def file_problems(con: duckdb.DuckDBPyConnection, since: dt.datetime) -> list[FileProblem]:
    """Files failed or rejected since `since`, with the reason each was given."""
    rows = con.execute(
        "select file_name, status, coalesce(reason, 'no reason recorded')"
        " from audit.ingested_files where ingested_at >= ?"
        " and status in ('failed', 'rejected') order by file_name",
        [since],
    ).fetchall()
    return [FileProblem(*row) for row in rows]


def _first_failure(result: dg.ExecuteInProcessResult) -> str:
    """One line: the first failed step and the first line of its cause."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            error = event.step_failure_data.error
            # Dagster wraps the user's exception; its cause says what went wrong.
            message = (error.cause or error).message.strip()
            return f"step {event.step_key} failed: {message.splitlines()[0] if message else ''}"
    return "the run failed"


def summarize(con: duckdb.DuckDBPyConnection, since: dt.datetime) -> list[SourceSummary]:
    """Per source: files ingested since `since` and what became of their rows."""
    rows = con.execute(
        "select coalesce(source, 'unrecognized'), count(*),"
        " count(*) filter (status in ('failed', 'rejected')),"
        " sum(rows_read), sum(rows_loaded), sum(rows_quarantined), sum(rows_duplicate)"
        " from audit.ingested_files where ingested_at >= ? group by 1 order by 1",
        [since],
    ).fetchall()
    order = {name: i for i, name in enumerate(SOURCES)}
    summaries = [
        SourceSummary(name, files, failed, int(r), int(ld), int(q), int(d))
        for name, files, failed, r, ld, q, d in rows
    ]
    return sorted(summaries, key=lambda s: order.get(s.source, len(order)))
