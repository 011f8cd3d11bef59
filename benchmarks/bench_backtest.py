"""How well the engine forecasts data it did not make: the backtest on both dynamics.

For each of the generator's dynamics (per-skill practice, the default; and seed 004's model,
the engine's own) a 2,000-learner, 26-week program of seed 7 is generated and run through the
pipeline; then the engine's backtest is cut 4, 8 and 12 weeks before the end and scored
against the generator's truth, beside "linear, ±20 %": competency MAE, 80 % coverage and the
interval's width, mastery Brier and held-out answer log loss. Not timed: these are accuracy
numbers (benchmarks/RESULTS.md, "Backtest").
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import duckdb
import numpy as np

from engine.backtest import backtest, coverage_band
from pipelines.forecast.data import load_observations, load_roster, load_truth
from pipelines.runner import run_all
from pipelines.synthetic.dynamics import DYNAMICS
from pipelines.synthetic.generator import GenerateOptions, generate

START = dt.date(2026, 4, 6)  # a Monday; 26 weeks end before the bench's day
CUTS = (4, 8, 12)


def run(workdir: Path, learners: int = 2000, weeks: int = 26, seed: int = 7) -> list[dict]:
    rows = []
    for dynamics in DYNAMICS:
        folder = workdir / dynamics
        opts = GenerateOptions(
            out=folder / "landing",
            learners=learners,
            seed=seed,
            weeks=weeks,
            start_date=START,
            dynamics=dynamics,
        )
        generate(opts)
        report = run_all(opts.out, folder / "warehouse.duckdb")
        if not report.success:
            raise RuntimeError(report.error)
        with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
            obs = load_observations(con, report.as_of.date)
            roster = load_roster(con, obs.learner_ids)
        for cut in CUTS:
            since = obs.as_of - np.timedelta64(7 * cut, "D")
            competency, mastered = load_truth(opts.truth_dir, obs.learner_ids, obs.as_of, since)
            started = time.perf_counter()
            scored = backtest(
                obs, cut, roster.cohort_index, competency, mastered, strata=roster.org_id
            )
            seconds = time.perf_counter() - started
            low, high = coverage_band(scored.n_coverage_scored)
            for method in (scored.engine, scored.seed_method):
                rows.append(
                    {
                        "dynamics": dynamics,
                        "cut_weeks": cut,
                        "method": method.method,
                        "learners": method.n_scored_truth,
                        "mae": method.competency_mae,
                        "coverage": method.coverage_80,
                        "width": method.interval_width,
                        "brier": method.mastery_brier,
                        "log_loss": method.answer_log_loss,
                        "in_band": bool(low <= method.coverage_80 <= high),
                        "seconds": seconds,
                    }
                )
    print(f"Backtest, {learners:,} learners x {weeks} weeks, seed {seed}, {dt.date.today()}")
    print("| dynamics | cut | method | MAE | coverage | width | Brier | log loss | in band |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['dynamics']} | {r['cut_weeks']} | {r['method']} | {r['mae']:.3f} |"
            f" {r['coverage']:.3f} | {r['width']:.3f} | {r['brier']:.3f} |"
            f" {r['log_loss']:.3f} | {'yes' if r['in_band'] else 'no'} |"
        )
    return rows
