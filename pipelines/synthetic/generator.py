"""Generate a landing batch: reference snapshots, daily event files, and the hidden truth."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from ..contract import DOMAINS, is_mastered
from .catalog import build_catalog
from .dynamics import DEFAULT_DYNAMICS, DYNAMICS
from .population import build_population
from .render import render_attempts, render_progress, render_xapi
from .simulate import ProgramSimulation
from .writer import EVENT_SOURCES, DayWriter, csv_bytes, parquet_bytes, write_if_changed

DEFAULT_START = dt.date(2026, 3, 2)
REFERENCE_COLUMNS = {
    "organizations": ["org_id", "name"],
    "cohorts": ["cohort_id", "org_id", "name", "track", "start_date", "target_mastery_date"],
    "learners": [
        "learner_id",
        "org_id",
        "cohort_id",
        "display_name",
        "email",
        "subscription_tier",
        "enrolled_at",
        "mentor_id",
    ],
    "missions": [
        "mission_id",
        "title",
        "track",
        "tier",
        "mission_type",
        "difficulty",
        "time_constraint_hours",
        "subtask_count",
        "required",
        "weight_knowledge",
        "weight_skills",
        "weight_application",
        "weight_ethics",
    ],
    "modules": ["module_id", "track", "tier", "module_number", "title", "required"],
    "assessments": [
        "assessment_id",
        "module_id",
        "title",
        "assessment_type",
        "passing_score",
        "max_attempts",
    ],
    "questions": [
        "question_id",
        "assessment_id",
        "question_type",
        "competency_domain",
        "difficulty_level",
        "points",
    ],
}
PARQUET_REFERENCES = {"questions"}  # the largest snapshot, to exercise both formats


@dataclass(frozen=True)
class GenerateOptions:
    out: Path
    learners: int = 2000
    seed: int = 7
    start_date: dt.date = DEFAULT_START
    until: dt.date | None = None  # last day written; default start + weeks - 1 day
    weeks: int = 26
    truth: Path | None = None  # default: a truth/ folder beside `out`
    orgs: int = 4
    compress: bool = False
    dynamics: str = DEFAULT_DYNAMICS  # how true competency moves (.dynamics.DYNAMICS)

    @property
    def last_day(self) -> dt.date:
        return self.until or self.start_date + dt.timedelta(weeks=self.weeks, days=-1)

    @property
    def truth_dir(self) -> Path:
        return self.truth or self.out.resolve().parent / "truth"


@dataclass
class GenerateSummary:
    learners: int
    organizations: int
    cohorts: int
    first_day: dt.date
    last_day: dt.date
    files_written: dict[str, int] = field(default_factory=dict)
    files_kept: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    dropped_out: int = 0
    mastered: int = 0


class IncompatibleBatch(ValueError):
    """The output folder holds a batch made with other settings; mixing them would corrupt it."""


def _check_manifest(opts: GenerateOptions) -> None:
    manifest = opts.truth_dir / "generator.json"
    identity = {
        "seed": opts.seed,
        "learners": opts.learners,
        "orgs": opts.orgs,
        "start_date": opts.start_date.isoformat(),
        "compress": opts.compress,
        "dynamics": opts.dynamics,
    }
    if manifest.exists():
        previous = json.loads(manifest.read_text())
        previous.setdefault("dynamics", "seed004")  # batches made before there was a choice
        if previous != identity:
            changed = sorted(k for k in identity if previous.get(k) != identity[k])
            raise IncompatibleBatch(
                f"{opts.out} already holds a batch generated with other {', '.join(changed)} "
                f"({manifest}); use an empty --out or the same settings"
            )
    elif opts.out.exists() and any(opts.out.rglob("*_*.jsonl*")):
        raise IncompatibleBatch(f"{opts.out} already holds event files of unknown origin")
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(identity, indent=2) + "\n")


def generate(
    opts: GenerateOptions,
    on_week: Callable[[int, int], None] | None = None,
    pace: Callable[[dt.date], None] | None = None,
    follow: bool = False,
) -> GenerateSummary:
    """Write the batch. ``on_week(done, total)`` reports progress; in follow mode the simulation
    goes on past the last day, calling ``pace(day)`` before landing each further day."""
    if opts.learners < 1:
        raise ValueError("--learners must be at least 1")
    if opts.last_day < opts.start_date:
        raise ValueError("--until is before --start-date")
    if opts.dynamics not in DYNAMICS:
        raise ValueError(f"--dynamics must be one of {', '.join(DYNAMICS)}, not {opts.dynamics}")
    _check_manifest(opts)
    catalog = build_catalog(opts.seed)
    pop = build_population(opts.seed, opts.learners, opts.orgs, opts.start_date)

    reference = {
        "organizations": pop.organizations,
        "cohorts": pop.cohorts,
        "learners": pop.learners,
        "missions": catalog.missions,
        "modules": catalog.modules,
        "assessments": catalog.assessments,
        "questions": catalog.questions,
    }
    for name, frame in reference.items():
        frame = frame.select(REFERENCE_COLUMNS[name])
        if name in PARQUET_REFERENCES:
            write_if_changed(opts.out / "reference" / f"{name}.parquet", parquet_bytes(frame))
        else:
            write_if_changed(opts.out / "reference" / f"{name}.csv", csv_bytes(frame))

    sim = ProgramSimulation(opts.seed, opts.start_date, catalog, pop, opts.dynamics)
    writer = DayWriter(opts.out, opts.compress)
    learner_ids = pop.learners["learner_id"]
    registrations = pop.registration
    mission_ids = catalog.missions["mission_id"]
    capstones = catalog.missions["mission_type"] == "capstone"
    truth_weeks: list[pl.DataFrame] = []
    n_weeks = math.ceil(((opts.last_day - opts.start_date).days + 1) / 7)
    week = 0
    while follow or week < n_weeks:
        events, truth = sim.run_week(week)
        render_rng = np.random.default_rng([opts.seed, 0x1D, week])
        writer.add("xapi", render_xapi(events.xapi, learner_ids, registrations, render_rng))
        writer.add(
            "mission_progress",
            render_progress(events.assigned, events.missions, learner_ids, mission_ids, capstones),
        )
        writer.add(
            "assessment_attempts",
            render_attempts(
                events.attempts,
                events.answers,
                learner_ids,
                catalog.assessments["assessment_id"],
                catalog.questions["question_id"],
            ),
        )
        truth_weeks.append(_truth_frame(week, opts.start_date, truth, learner_ids))
        week_end = opts.start_date + dt.timedelta(weeks=week, days=6)
        if not follow:
            writer.flush_through(min(week_end, opts.last_day))
        else:  # land day by day, pacing the days past the requested horizon
            for d in range(7):
                day = opts.start_date + dt.timedelta(weeks=week, days=d)
                if day > opts.last_day and pace:
                    pace(day)
                writer.flush_through(day)
        week += 1
        if on_week:
            on_week(week, n_weeks)
        if follow:  # an interrupted follow keeps the truth of every landed week
            _write_truth(opts, catalog, pop, sim, truth_weeks)
    summary = _write_truth(opts, catalog, pop, sim, truth_weeks)
    summary.files_written = {s: writer.files_written.get(s, 0) for s in EVENT_SOURCES}
    summary.files_kept = {s: writer.files_kept.get(s, 0) for s in EVENT_SOURCES}
    summary.records = {s: writer.records.get(s, 0) for s in EVENT_SOURCES}
    return summary


def _truth_frame(
    week: int, start: dt.date, truth: dict[str, np.ndarray], learner_ids: pl.Series
) -> pl.DataFrame:
    c = truth["competency"]
    return pl.DataFrame(
        {
            "learner_id": learner_ids.gather(truth["learner"]),
            "week": np.full(len(truth["learner"]), week, np.int32),
            "week_start": pl.Series(
                [start + dt.timedelta(weeks=week)] * len(truth["learner"]), dtype=pl.Date
            ),
            "study_hours": truth["hours"],
            "stimulus": truth["stimulus"],
            "active": truth["active"],
            **{d: c[:, i] for i, d in enumerate(DOMAINS)},
            "mean": c.mean(axis=1),
            "variance": c.var(axis=1),
            "mastered": is_mastered(c),
            "engagement": pl.Series(truth["engagement"], nan_to_null=True),
            "dropout_hazard": pl.Series(truth["dropout_hazard"], nan_to_null=True),
        }
    )


def _write_truth(opts, catalog, pop, sim, truth_weeks) -> GenerateSummary:
    """Ground truth for validation, apart from the landing zone: latent parameters, weekly true
    competency (after each week's step), true difficulties."""
    truth_dir = opts.truth_dir
    truth_dir.mkdir(parents=True, exist_ok=True)
    learners = pop.latent.with_columns(
        dropout_week=pl.Series(sim.dropout_week).replace(-1, None),
        # Does each tier's 2nd and 3rd missions the other way round (planted for the path mart).
        out_of_order=pl.Series(sim.out_of_order),
    )
    weekly = pl.concat(truth_weeks) if truth_weeks else pl.DataFrame()
    for name, frame in {
        "learners": learners,
        "competency_weekly": weekly,
        "missions": catalog.mission_truth,
        "questions": catalog.question_truth,
    }.items():
        frame.write_parquet(truth_dir / f"{name}.parquet")
    (truth_dir / "README.md").write_text(
        "Hidden ground truth of the synthetic cohort (see docs/generator.md). Never ingested.\n"
        f"Options: {json.dumps({k: str(v) for k, v in asdict(opts).items()})}\n"
    )
    mastered = 0
    if weekly.height:
        mastered = weekly.filter(pl.col("week") == weekly["week"].max())["mastered"].sum()
    return GenerateSummary(
        learners=opts.learners,
        organizations=pop.organizations.height,
        cohorts=pop.cohorts.height,
        first_day=opts.start_date,
        last_day=opts.last_day,
        dropped_out=int((sim.dropout_week >= 0).sum()),
        mastered=int(mastered),
    )
