"""The `cohortlens` command line."""

from __future__ import annotations

import datetime as dt
import enum
import logging
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from dashboards.users import users_app
from engine.forecast import DRAWS, HORIZON_WEEKS, SEED

from .cli_help import Command, Group
from .paths import resolve_paths
from .synthetic.dynamics import DEFAULT_DYNAMICS, DYNAMICS
from .warehouse import RunInProgress, keep_private, run_lock

app = typer.Typer(
    cls=Group,
    help="cohortlens: analytics and telemetry for mission-based professional training.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error stays one line, however long


@app.callback()
def main() -> None:
    """cohortlens: analytics and telemetry for mission-based professional training.

    Paths default to folders under $COHORTLENS_HOME (default: data/ in the repository).
    """
    keep_private()


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc


Dynamics = enum.StrEnum("Dynamics", {name: name for name in DYNAMICS})
DEFAULT_DYNAMICS_CHOICE = Dynamics(DEFAULT_DYNAMICS)


@app.command(cls=Command)
def generate(
    out: Annotated[
        Path | None,
        typer.Option(help="Landing folder to write into. Default: $COHORTLENS_HOME/landing."),
    ] = None,
    learners: Annotated[int, typer.Option(min=1, help="Number of learners in the program.")] = 2000,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives identical files.")
    ] = 7,
    weeks: Annotated[
        int, typer.Option(min=1, help="Horizon in weeks from --start-date (ignored with --until).")
    ] = 26,
    start_date: Annotated[
        str,
        typer.Option(
            help="First day of the program (YYYY-MM-DD); cohorts start in its first weeks."
        ),
    ] = "2026-03-02",
    until: Annotated[
        str | None,
        typer.Option(
            help="Last day to land (YYYY-MM-DD). A later --until on the same folder only "
            "adds the new days' files."
        ),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(help="Folder for the hidden ground truth. Default: truth/ beside --out."),
    ] = None,
    orgs: Annotated[int, typer.Option(min=1, max=6, help="Number of organizations.")] = 4,
    gzip: Annotated[bool, typer.Option("--gzip", help="Write xAPI files as .jsonl.gz.")] = False,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="After the horizon, keep landing one more day every "
            "--interval seconds until interrupted (Ctrl-C).",
        ),
    ] = False,
    interval: Annotated[
        float, typer.Option(min=0.0, help="Seconds between days with --follow.")
    ] = 5.0,
    dynamics: Annotated[
        Dynamics,
        typer.Option(
            help="How true competency moves: per-skill practice with power-law learning and"
            " forgetting, or seed 004's model (the engine's own, for its exactness tests)."
        ),
    ] = DEFAULT_DYNAMICS_CHOICE,
) -> None:
    """Write a realistic synthetic program into a landing folder, in every source format."""
    from .synthetic.generator import GenerateOptions, IncompatibleBatch
    from .synthetic.generator import generate as run_generate

    out = out or resolve_paths().landing
    opts = GenerateOptions(
        out=out,
        learners=learners,
        seed=seed,
        start_date=_parse_date(start_date),
        until=_parse_date(until),
        weeks=weeks,
        truth=truth,
        orgs=orgs,
        compress=gzip,
        dynamics=dynamics.value,
    )
    if opts.last_day < opts.start_date:
        err.print(
            f"[red]error:[/red] --until {opts.last_day} is before --start-date {opts.start_date}"
        )
        raise typer.Exit(2)
    if opts.last_day >= dt.datetime.now(dt.UTC).date():
        err.print(
            f"[yellow]note:[/yellow] the batch reaches {opts.last_day}, today or later; "
            "ingestion rejects events timestamped in the future."
        )

    def pace(day: dt.date) -> None:
        time.sleep(interval)
        console.print(f"landed {day}")

    started = time.perf_counter()
    try:
        with Progress(
            TextColumn("generating weeks"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=follow,
        ) as progress:
            task = progress.add_task("weeks", total=None)

            def on_week(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            summary = run_generate(
                opts, on_week=on_week, pace=pace if follow else None, follow=follow
            )
    except IncompatibleBatch as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        console.print("stopped; every landed day is complete")
        return
    except (OSError, ValueError) as exc:  # a full disk, a bad path: one clear line, no traceback
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    seconds = time.perf_counter() - started

    table = Table(title=f"Sample program in {out}", show_lines=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row(
        "organizations / cohorts / learners",
        f"{summary.organizations} / {summary.cohorts} / {summary.learners:,}",
    )
    table.add_row("days", f"{summary.first_day} .. {summary.last_day}")
    for source, records in summary.records.items():
        files = summary.files_written[source] + summary.files_kept[source]
        kept = (
            f" ({summary.files_kept[source]} already there)" if summary.files_kept[source] else ""
        )
        table.add_row(f"{source} records / files", f"{records:,} / {files}{kept}")
    table.add_row("learners who dropped out", f"{summary.dropped_out:,}")
    table.add_row("learners at mastery on the last day (truth)", f"{summary.mastered:,}")
    table.add_row("xAPI statements per second", f"{summary.records['xapi'] / seconds:,.0f}")
    console.print(table)
    console.print(f"ground truth: {opts.truth_dir}")


MAX_PROBLEMS = 10  # files listed with their reason under a run's summary

DaskScheduler = Annotated[
    str | None,
    typer.Option(
        "--dask-scheduler",
        envvar="COHORTLENS_DASK_SCHEDULER",
        show_envvar=True,
        help="A Dask scheduler's address (e.g. tcp://10.0.0.5:8786): calibration, forecasts,"
        " backtests and the disengagement model run their blocks of learners on its workers,"
        " with the same results. Default: in this process.",
    ),
]


def _check_cluster(address: str | None) -> None:
    """Exit with one line when the scheduler does not answer or has no worker."""
    if not address:
        return
    from engine.cluster import ClusterUnavailable, connect

    with console.status(f"connecting to the Dask scheduler at {address} ..."):
        try:
            connect(address).close()
        except ClusterUnavailable as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None


def _print_ran_on(report) -> None:
    if report.ran_on:
        console.print(f"the engine's blocks ran {_on(report.ran_on)}", soft_wrap=True)


def _on(where: str) -> str:
    return where if where == "in-process" else f"on {where}"


class _ProgressHandler(logging.Handler):
    """Draws a bar per source from the loader's `cohortlens_progress` log records."""

    def __init__(self, progress: Progress):
        super().__init__(logging.INFO)
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def emit(self, record: logging.LogRecord) -> None:
        update = getattr(record, "cohortlens_progress", None)
        if update is None:
            return
        source, done, total = update
        if source not in self.tasks:
            self.tasks[source] = self.progress.add_task(source, total=total)
        self.progress.update(self.tasks[source], completed=done, total=total)


@app.command(cls=Command)
def run(
    landing: Annotated[
        Path | None,
        typer.Option(help="Landing folder to load. Default: $COHORTLENS_HOME/landing."),
    ] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option(help="DuckDB warehouse file. Default: $COHORTLENS_HOME/warehouse.duckdb."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Run even when nothing changed since the last successful run."
        ),
    ] = False,
    wait: Annotated[
        float,
        typer.Option(min=0.0, help="Seconds to wait for a run in progress to finish."),
    ] = 0.0,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="The day every mart and forecast is as of (backfills, replays). Default: today"
            " (UTC), or the newest event's day when that is more than 48 h old.",
        ),
    ] = None,
    dask_scheduler: DaskScheduler = None,
) -> None:
    """Materialize every asset once, in-process, through Dagster, and summarise the load."""
    import warnings

    from .ingest.landing import discover
    from .runner import run_all

    warnings.filterwarnings("ignore")  # Dagster's preview notices are for developers
    paths = resolve_paths(landing=landing, warehouse=warehouse)
    if not paths.landing.is_dir():
        err.print(f"[red]error:[/red] landing folder {paths.landing} does not exist")
        raise typer.Exit(2)
    if not paths.warehouse.exists() and not discover(paths.landing):
        err.print(
            f"[red]error:[/red] nothing to load: the landing folder {paths.landing} is"
            " empty (drop files there, or run `cohortlens generate`)"
        )
        raise typer.Exit(2)
    loader_log = logging.getLogger("pipelines.ingest.loader")
    loader_log.setLevel(logging.INFO)
    with Progress(
        TextColumn("loading {task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files"),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        handler = _ProgressHandler(progress)
        loader_log.addHandler(handler)
        try:
            report = run_all(
                landing=paths.landing,
                warehouse=paths.warehouse,
                force=force,
                wait_s=wait,
                as_of=as_of.date() if as_of else None,
                dask_scheduler=dask_scheduler or "",
            )
        except RunInProgress as exc:
            err.print(f"[red]error:[/red] {exc} (--wait SECONDS waits for it)")
            raise typer.Exit(3) from None
        except Exception as exc:  # anything outside a step: one clear line, no traceback
            err.print(f"[red]error:[/red] {_when_disk_full(f'{type(exc).__name__}: {exc}')}")
            raise typer.Exit(1) from None
        finally:
            loader_log.removeHandler(handler)
    if report.lrs:
        console.print(report.lrs, soft_wrap=True)
    if report.skipped:
        console.print(f"{report.skipped}; nothing rebuilt (--force runs anyway)")
        if not report.success:  # the LRS could not be pulled
            err.print(f"[red]error:[/red] {report.error}")
            raise typer.Exit(1)
        return

    table = Table(title=f"Loaded into {paths.warehouse} in {report.seconds:.1f} s")
    table.add_column("source", no_wrap=True)
    for column in ("files", "failed", "read", "loaded", "quarantined", "duplicates"):
        table.add_column(column, justify="right", no_wrap=True)
    for s in report.sources:
        table.add_row(
            s.source,
            f"{s.files:,}",
            f"{s.failed_files:,}",
            f"{s.rows_read:,}",
            f"{s.rows_loaded:,}",
            f"{s.rows_quarantined:,}",
            f"{s.rows_duplicate:,}",
        )
    if not report.sources:
        table.add_row("(no new files)", *[""] * 6)
    Console(width=max(console.width, 110)).print(table)  # whole numbers, even in a pipe
    for problem in report.problems[:MAX_PROBLEMS]:
        console.print(f"{problem.status}: {problem.file_name}: {problem.reason}", soft_wrap=True)
    if len(report.problems) > MAX_PROBLEMS:
        console.print(f"... and {len(report.problems) - MAX_PROBLEMS} more (audit.ingested_files)")
    for asset, released in report.released.items():
        console.print(
            f"{asset}: {released:,} records of earlier files passed their checks again, now"
            " that the reference data knows their ids, and were loaded"
        )
    passed = sum(c.passed for c in report.checks)
    _print_as_of(report)
    console.print(f"dbt models built: {len(report.models)}")
    console.print(f"checks: {passed} of {len(report.checks)} passed")
    if any(key.startswith("forecasts/") for key in report.materialized):
        _print_forecast_summary(paths.warehouse, None)
        _print_ran_on(report)
    for check in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {check.sentence}", soft_wrap=True)
    if not report.success:
        err.print(f"[red]error:[/red] {_when_disk_full(report.error or '')}")
        raise typer.Exit(1)
    if report.failed_checks:
        for check in report.failed_checks:
            err.print(f"[red]error:[/red] {check.sentence}")
        raise typer.Exit(1)


def _print_as_of(report) -> None:
    if report.as_of is None:
        return
    how = {"requested": "as requested", "today": "today", "newest event": "the newest event's day"}
    console.print(f"as of {report.as_of.date} ({how[report.as_of.how]})")
    if report.as_of.warning:
        console.print(f"[yellow]warning:[/yellow] {report.as_of.warning}", soft_wrap=True)


def _when_disk_full(message: str) -> str:
    """The message, and what to do, when it says a disk is full."""
    if "No space left" not in message and "Errno 28" not in message:
        return message
    return (
        f"{message} -- a disk is full: each batch that did not commit was rolled back, so"
        " nothing is lost; free some space and run again to resume"
    )


@app.command(cls=Command)
def forecast(
    landing: Annotated[
        Path | None,
        typer.Option(
            help="Landing folder (its sibling truth/ folder, if any, scores the "
            "backtest). Default: $COHORTLENS_HOME/landing."
        ),
    ] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option(help="DuckDB warehouse file. Default: $COHORTLENS_HOME/warehouse.duckdb."),
    ] = None,
    draws: Annotated[int, typer.Option(min=10, help="Monte Carlo futures per learner.")] = DRAWS,
    horizon_weeks: Annotated[
        int, typer.Option(min=1, help="Weeks simulated ahead.")
    ] = HORIZON_WEEKS,
    seed: Annotated[int, typer.Option(help="Seed of every random stream.")] = SEED,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="The day the forecast is as of. Default: as `cohortlens run`.",
        ),
    ] = None,
    dask_scheduler: DaskScheduler = None,
    org: Annotated[
        list[str] | None,
        typer.Option(
            help="Only this organization's learners (repeat for more): their forecasts are"
            " replaced, every other one's kept, and the program-wide backtests and"
            " disengagement model are not re-run; as of the last full forecast's day."
            " Default: every organization."
        ),
    ] = None,
) -> None:
    """The batch mastery forecast alone: calibrate, forecast, backtest, then the marts that
    read forecasts (learner_readiness and what depends on it)."""
    import warnings

    from .defs.resources import ForecastSettings
    from .runner import OrganizationForecastRefused, run_all

    warnings.filterwarnings("ignore")
    paths = resolve_paths(landing=landing, warehouse=warehouse)
    if not paths.warehouse.exists():
        err.print(
            f"[red]error:[/red] warehouse {paths.warehouse} does not exist; "
            "run `cohortlens run` first"
        )
        raise typer.Exit(2)
    settings = ForecastSettings(draws=draws, horizon_weeks=horizon_weeks, seed=seed)
    _check_cluster(dask_scheduler)
    with console.status("calibrating, forecasting and backtesting ..."):
        try:
            report = run_all(
                paths.landing,
                paths.warehouse,
                forecast_only=True,
                forecast_settings=settings,
                as_of=as_of.date() if as_of else None,
                dask_scheduler=dask_scheduler or "",
                orgs=org or None,
            )
        except RunInProgress as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(3) from None
        except OrganizationForecastRefused as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        except Exception as exc:  # anything outside a step: one clear line, no traceback
            err.print(f"[red]error:[/red] {type(exc).__name__}: {exc}")
            raise typer.Exit(1) from None
    if not report.success:
        err.print(f"[red]error:[/red] {report.error}")
        raise typer.Exit(1)
    _print_forecast_summary(paths.warehouse, report, org)
    _print_ran_on(report)
    if report.failed_checks:
        for check in report.failed_checks:
            err.print(f"[red]error:[/red] {check.sentence}")
        raise typer.Exit(1)


@app.command(cls=Command)
def compact(
    warehouse: Annotated[
        Path | None,
        typer.Option(help="DuckDB warehouse file. Default: $COHORTLENS_HOME/warehouse.duckdb."),
    ] = None,
) -> None:
    """Merge the row groups loads and incremental builds leave partly filled (Dagster's nightly
    compaction job does the same)."""
    from .warehouse import compact as compact_warehouse

    paths = resolve_paths(warehouse=warehouse)
    if not paths.warehouse.exists():
        err.print(f"[red]error:[/red] warehouse {paths.warehouse} does not exist")
        raise typer.Exit(2)
    with console.status("compacting ..."):
        try:
            with run_lock(paths.warehouse, 0.0, "cohortlens compact"):
                done = compact_warehouse(paths.warehouse)
        except RunInProgress as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(3) from None
        except Exception as exc:  # one clear line, no traceback
            err.print(f"[red]error:[/red] {type(exc).__name__}: {exc}")
            raise typer.Exit(1) from None
    console.print(
        f"row groups: {done.row_groups_before:,} -> {done.row_groups_after:,}"
        f" in {done.seconds:.1f} s"
    )


@app.command(cls=Command)
def digest(
    week: Annotated[
        str | None,
        typer.Option(
            help="Any day of the week to report (YYYY-MM-DD); the report is named by its"
            " Monday. Default: the week of the published data's as-of date."
        ),
    ] = None,
    org: Annotated[
        list[str] | None,
        typer.Option(help="Only this organization (repeat for more). Default: every one."),
    ] = None,
) -> None:
    """Write each organization's weekly digest (HTML and PDF: KPIs, whom to contact, the
    cohorts' forecasts, what changed) under $COHORTLENS_HOME/serving/reports/<org>/."""
    from dashboards.digest import DigestError, write_digests

    day = _parse_date(week)
    with console.status("writing the weekly digests ..."):
        try:
            written = write_digests(resolve_paths().serving, day, org or None)
        except DigestError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
    table = Table(title=f"Weekly digest, week of {written[0].report.week}" if written else None)
    for column in ("organization", "learners", "to contact", "newly flagged", "PDF", "seconds"):
        table.add_column(column, justify="left" if column == "organization" else "right")
    for done in written:  # counts only: no learner's name is printed
        new = "first report" if done.newly_flagged is None else f"{done.newly_flagged:,}"
        table.add_row(
            done.report.org_id,
            f"{done.kpis['learners']:,}",
            f"{done.kpis['to_contact']:,}",
            new,
            f"{done.pdf_bytes / 1e3:,.0f} kB",
            f"{done.seconds:.1f}",
        )
    console.print(table)
    if written:
        console.print(f"reports in {written[0].report.pdf.parent.parent}")


def _print_forecast_summary(warehouse: Path, report=None, orgs: list[str] | None = None) -> None:
    """The latest forecast in one line (of ``orgs``' learners, when given), and its backtest
    beside the seed method's; one line saying why when it cannot be read (another run holds
    the warehouse, say)."""
    try:
        _forecast_summary(warehouse, report, orgs)
    except Exception as exc:
        err.print(f"[yellow]warning:[/yellow] the forecast summary is unavailable: {exc}")


def _forecast_summary(warehouse: Path, report=None, orgs: list[str] | None = None) -> None:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        as_of, learners, mastered, p_mean, at_risk = con.execute(
            """
            select as_of_date, count(*), count(*) filter (where mastered_now),
                avg(p_mastery_by_target), count(*) filter (where p_mastery_by_target < 0.5)
            from forecasts.mastery_forecast
            where as_of_date = (select max(as_of_date) from forecasts.mastery_forecast)
                and ($orgs is null or learner_id in (
                    select learner_id from raw.learners where list_contains($orgs, org_id)
                ))
            group by as_of_date
            """,
            {"orgs": sorted(set(orgs)) if orgs else None},
        ).fetchall()[0]
        scores = con.sql(
            """
            select cut_weeks, truth_available, method, competency_mae, coverage_80,
                interval_width, mastery_brier, answer_log_loss, observed_coverage_80
            from forecasts.backtest_report
            where as_of_date = (select max(as_of_date) from forecasts.backtest_report)
            order by method
            """
        ).fetchall()
    took = f" in {report.seconds:.1f} s" if report is not None else ""
    whose = f" of {', '.join(sorted(set(orgs)))}" if orgs else ""
    summary = (
        f"mastery forecast as of {as_of} for {learners:,} learners{whose}{took}: "
        f"{mastered:,} at mastery now, {at_risk:,} below a 50 % chance by their target date "
        f"(mean {p_mean:.2f})"
    )
    console.print(summary, soft_wrap=True)
    if orgs:
        console.print(
            "backtests: the program's, from its last full forecast (`cohortlens forecast`"
            " without --org re-runs them)",
            soft_wrap=True,
        )
    if scores:
        Console(width=max(console.width, 130)).print(backtest_table(scores))
    _triage_summary(warehouse)


def backtest_table(scores: list[tuple]) -> Table:
    """The backtest's rows (cut_weeks, truth_available, method, MAE, coverage, width, Brier,
    log loss, answer coverage) as a table that says what it was scored against."""
    weeks, truth = scores[0][0], scores[0][1]
    if truth:
        table = Table(title=f"Backtest, cut {weeks} weeks back: truth and held-out answers")
    else:
        table = Table(
            title=f"Backtest, cut {weeks} weeks back: held-out answers only",
            caption="no ground truth: competency MAE, coverage and mastery Brier not measured",
        )
    columns = ("method", "competency MAE", "coverage", "interval width", "mastery Brier")
    for column in (*columns, "answer log loss", "answer coverage"):
        table.add_column(column, justify="left" if column == "method" else "right", no_wrap=True)
    for _, _, method, mae, coverage, width, brier, log_loss, answers in scores:
        table.add_row(
            method,
            *(
                f"{v:.3f}" if v is not None else "n/a"
                for v in (mae, coverage, width, brier, log_loss, answers)
            ),
        )
    return table


def _triage_summary(warehouse: Path) -> None:
    """Who is flagged, and the triage's backtest beside the 7-day-inactivity rule."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        try:
            flagged, active = con.sql(
                "select count(*) filter (where at_risk),"
                " count(*) filter (where engagement_status = 'active')"
                " from marts.learner_readiness"
            ).fetchall()[0]
            rows = con.sql(
                """
                select cut_date, method, n_scored, base_rate, auc, brier, brier_base_rate,
                    flagged_share, flag_precision, lift
                from forecasts.triage_backtest
                where as_of_date = (select max(as_of_date) from forecasts.triage_backtest)
                order by method
                """
            ).fetchall()
        except duckdb.CatalogException:
            return
    share = flagged / active if active else 0.0
    console.print(f"triage: {flagged:,} of {active:,} active learners at risk ({share:.0%})")
    if not rows:
        console.print("triage backtest: the history is too short (12 weeks plus the outcome)")
        return
    table = Table(title=f"Triage backtest (cut {rows[0][0]}, stop = 28 days without activity)")
    for column in ("method", "scored", "stop rate", "AUC", "Brier", "base Brier"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for column in ("flagged", "precision", "lift"):
        table.add_column(column, justify="right")

    def cell(value, form="{:.3f}"):
        return form.format(value) if value is not None else "n/a"

    for _, method, n, base, auc, brier, brier_base, share, precision, lift in rows:
        table.add_row(
            method,
            f"{n:,}",
            cell(base),
            cell(auc),
            cell(brier),
            cell(brier_base),
            cell(share, "{:.0%}"),
            cell(precision),
            cell(lift, "{:.2f}"),
        )
    Console(width=max(console.width, 110)).print(table)


app.add_typer(users_app, name="users")


if __name__ == "__main__":
    app()
