"""Does the triage predict? A generated program run as of a cut, scored on what came next.

A 2,000-learner program is generated for 34 weeks and run with `--as-of` the end of week 22,
so the marts and the model see 22 weeks. The rest of the landing zone is the future the scores
are checked against:
- **stop**: the spec's disengagement, a 28-day spell without activity starting within the
  8 weeks after the cut (weeks 31 to 34 confirm the late starts);
- **dropout**: the generator's truth, leaving for good in weeks 23 to 30.

Baselines, same run: the 7-day-inactivity rule (Open edX Aspects), and the generator's own true
weekly hazard at the cut (the best any model of the observed data could hope to approach).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import duckdb
import numpy as np
from sklearn.metrics import roc_auc_score

from engine import disengagement
from pipelines.runner import run_all
from pipelines.synthetic.generator import GenerateOptions, generate

START = dt.date(2025, 10, 6)  # a Monday
CUT_WEEK = 22
WEEKS = 34  # 22 observed + 8 of outcome + 4 that confirm a late 28-day stop


def _activity_after(con: duckdb.DuckDBPyConnection, ids: np.ndarray, first_day, last_day):
    """(n, days) any activity per learner and day, from raw: statements and attempts."""
    rows = con.execute(
        """
        select learner_id, datediff('day', ?::date, day) as i
        from (
            select learner_id, cast("timestamp" as date) as day from raw.xapi_statements
            union select learner_id, cast(started_at as date) from raw.assessment_attempts
            union select learner_id, cast(started_at as date) from raw.mission_progress
            union select learner_id, cast(submitted_at as date) from raw.mission_progress
        )
        where day between ?::date and ?::date
        """,
        [str(first_day), str(first_day), str(last_day)],
    ).fetchall()
    index = {learner: k for k, learner in enumerate(ids)}
    days = int((np.datetime64(last_day) - np.datetime64(first_day)).astype(int)) + 1
    active = np.zeros((len(ids), days), bool)
    for learner, i in rows:
        if learner in index:
            active[index[learner], i] = True
    return active


def _only_activity(ids: np.ndarray, first: dt.date, active: np.ndarray):
    """Daily activity with nothing else: all an outcome needs."""
    zeros = np.zeros(active.shape, np.int32)
    return disengagement.DailyActivity(
        learner_ids=ids,
        first_day=np.datetime64(first),
        active=active,
        study_minutes=active * 60.0,
        failed=zeros,
        passed=zeros,
        retries=zeros,
        missions_passed=zeros,
        tier=np.full(active.shape, -1, np.int8),
        score_sum=np.zeros(active.shape),
        score_n=zeros,
        target_day=np.full(len(ids), 10**6),
    )


def _lift(flag: np.ndarray, outcome: np.ndarray) -> float:
    return float(outcome[flag].mean() / outcome.mean()) if flag.any() else float("nan")


def run_seed(seed: int, learners: int, workdir: Path) -> dict:
    folder = workdir / f"triage-{seed}"
    landing = folder / "landing"
    if not landing.exists():
        generate(
            GenerateOptions(
                out=landing, learners=learners, weeks=WEEKS, seed=seed, start_date=START
            )
        )
    cut = START + dt.timedelta(weeks=CUT_WEEK, days=-1)
    started = time.perf_counter()
    report = run_all(landing, folder / "warehouse.duckdb", as_of=cut, force=True)
    seconds = time.perf_counter() - started
    if not report.ok:
        raise RuntimeError(report.error or "the run failed")
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        frame = con.sql(
            """
            select r.learner_id, r.at_risk, r.p_disengage_8w, e.days_since_active
            from marts.learner_readiness as r
            join intermediate.int_learner_risk_evidence as e using (learner_id)
            where r.engagement_status = 'active'
            order by r.learner_id
            """
        ).fetchnumpy()
        ids = np.asarray(frame["learner_id"]).astype(str)
        first = START
        end = START + dt.timedelta(weeks=WEEKS, days=-1)
        active = _activity_after(con, ids, first, end)
    truth = duckdb.sql(
        f"""
        select l.learner_id, l.dropout_week, h.dropout_hazard
        from read_parquet('{folder / "truth" / "learners.parquet"}') as l
        left join read_parquet('{folder / "truth" / "competency_weekly.parquet"}') as h
            on h.learner_id = l.learner_id and h.week = {CUT_WEEK - 1}
        order by l.learner_id
        """
    ).fetchnumpy()
    position = {learner: k for k, learner in enumerate(np.asarray(truth["learner_id"]))}
    rows = np.array([position[i] for i in ids])
    dropout_week = np.asarray(truth["dropout_week"], dtype=float)[rows]
    hazard = np.nan_to_num(np.asarray(truth["dropout_hazard"], dtype=float)[rows], nan=1.0)
    dropout = (dropout_week >= CUT_WEEK) & (dropout_week < CUT_WEEK + 8)
    daily = _only_activity(ids, first, active)
    landmark = (cut - first).days
    stop, complete = disengagement.outcome(daily, landmark)
    assert complete, "the program is too short to confirm every stop"
    p = np.asarray(frame["p_disengage_8w"], dtype=float)
    flag = np.asarray(frame["at_risk"], dtype=bool)
    idle7 = np.asarray(frame["days_since_active"], dtype=float) >= 7
    base = stop.mean()
    return {
        "seed": seed,
        "seconds": seconds,
        "active": len(ids),
        "flagged_share": flag.mean(),
        "stop_rate": base,
        "lift_stop": _lift(flag, stop),
        "lift_dropout": _lift(flag, dropout),
        "rule_share": idle7.mean(),
        "rule_lift_stop": _lift(idle7, stop),
        "auc_stop": roc_auc_score(stop, p),
        "true_auc_stop": roc_auc_score(stop, hazard),
        "auc_dropout": roc_auc_score(dropout, p),
        "true_auc_dropout": roc_auc_score(dropout, hazard),
        "brier": float(np.mean((p - stop) ** 2)),
        "brier_base": float(base * (1 - base)),
    }


def run(workdir: Path, learners: int = 2_000, seeds: tuple[int, ...] = (7, 8, 9)) -> list[dict]:
    results = [run_seed(seed, learners, workdir) for seed in seeds]
    print(f"triage: {learners:,} learners, run as of the end of week {CUT_WEEK}, scored after")
    header = (
        "seed  flagged  lift(stop)  lift(dropout)  7-day rule: share lift  "
        "AUC stop (true hazard)  AUC dropout (true hazard)  Brier (base)"
    )
    print("  " + header)
    for r in results:
        print(
            f"  {r['seed']:>4}  {r['flagged_share']:>7.1%}  {r['lift_stop']:>10.2f}"
            f"  {r['lift_dropout']:>13.2f}  {r['rule_share']:>17.1%} {r['rule_lift_stop']:>4.2f}"
            f"  {r['auc_stop']:>8.3f} ({r['true_auc_stop']:.3f})"
            f"  {r['auc_dropout']:>11.3f} ({r['true_auc_dropout']:.3f})"
            f"  {r['brier']:.3f} ({r['brier_base']:.3f})"
        )
    return results
