"""The forecasts schema: what the engine's batch writes, one as-of date at a time.

Each write replaces the rows of its as-of date in one transaction, so a re-run of the same
night changes nothing and a crash leaves the previous rows in place.
"""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from engine.backtest import BacktestReport
from engine.calibration import N_PARAMS, Calibration
from engine.effort import EffortPlan
from engine.forecast import FAN_QUANTILES, FAN_SERIES, Forecast
from engine.items import ItemParameters
from engine.model import DOMAINS

from .data import Roster

DDL = """
create schema if not exists forecasts;

create table if not exists forecasts.learner_calibration (
    learner_id varchar not null,
    as_of_date date not null,
    cohort_id varchar,
    v_max double, v_max_p10 double, v_max_p90 double,
    decay double, decay_p10 double, decay_p90 double,
    competency_knowledge double, competency_skills double,
    competency_application double, competency_ethics double, competency_mean double,
    n_answers bigint, n_weeks bigint, converged boolean,
    theta double[], covariance double[],
    primary key (learner_id, as_of_date)
);

create table if not exists forecasts.item_parameters (
    question_id varchar not null,
    as_of_date date not null,
    question_kind varchar,
    guess double not null,
    slope double not null,
    difficulty double not null,
    n_answers bigint not null,
    covariance double[],
    primary key (question_id, as_of_date)
);

create table if not exists forecasts.mastery_forecast (
    learner_id varchar not null,
    as_of_date date not null,
    cohort_id varchar,
    target_date date,
    target_week integer,
    mastered_now boolean not null,
    p_mastery_by_target double not null,
    weeks_to_mastery_p10 double,
    weeks_to_mastery_p50 double,
    weeks_to_mastery_p90 double,
    competency_mean_now double,
    competency_at_target_p10 double,
    competency_at_target_p50 double,
    competency_at_target_p90 double,
    horizon_weeks integer not null,
    draws integer not null,
    primary key (learner_id, as_of_date)
);

create table if not exists forecasts.cohort_trajectory (
    cohort_id varchar not null,
    as_of_date date not null,
    week_offset integer not null,
    week_start date not null,
    series varchar not null,
    mean double, p10 double, p25 double, p50 double, p75 double, p90 double,
    primary key (cohort_id, as_of_date, week_offset, series)
);

create table if not exists forecasts.backtest_report (
    as_of_date date not null,
    cut_date date not null,
    cut_weeks integer not null,
    method varchar not null,
    n_learners bigint,
    competency_mae double,
    coverage_80 double,
    interval_width double,
    mastery_brier double,
    answer_log_loss double,
    observed_coverage_80 double,
    domain_coverage_80 double,
    truth_available boolean not null,
    n_scored_truth bigint,
    n_scored_answers bigint,
    primary key (as_of_date, cut_weeks, method)
);
-- Warehouses made before the coverage check counted the learners it scored.
alter table forecasts.backtest_report add column if not exists n_scored_truth bigint;
alter table forecasts.backtest_report add column if not exists n_scored_answers bigint;

create table if not exists forecasts.effort_plan (
    learner_id varchar not null,
    as_of_date date not null,
    recent_hours_per_week double not null,
    p_mastery_now double not null,  -- at the recent effort, in the plan's own futures
    hours_per_week_needed double,  -- null: no effort within the weekly limit reaches the goal
    p_mastery_at_plan double,  -- at hours_per_week_needed, else at the highest effort tried
    best_hours_tried double,
    goal double not null,
    primary key (learner_id, as_of_date)
);
"""


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    as_of: np.datetime64,
    frame,
    scope: tuple[str, list[str]] | None = None,
) -> int:
    """Swap in ``frame``'s rows for this as-of date, atomically. ``scope`` (column, values):
    only the rows whose column holds one of the values are replaced (one organization's
    learners or cohorts); default every row of the as-of date."""
    con.execute("begin transaction")
    try:
        if scope is None:
            con.execute(f"delete from {table} where as_of_date = ?", [str(as_of)])
        else:
            column, values = scope
            con.execute(
                f"delete from {table} where as_of_date = ? and list_contains(?, {column})",
                [str(as_of), [str(v) for v in values]],
            )
        if frame is not None:  # None: the as-of date has no rows (left empty, not stale)
            con.register("_rows", frame)
            con.execute(f"insert into {table} by name select * from _rows")
            con.unregister("_rows")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return 0 if frame is None else len(frame)


def write_calibration(
    con, cal: Calibration, roster: Roster, n_weeks: np.ndarray, as_of, scope=None
) -> int:
    v_lo, v_hi = cal.interval(4)
    d_lo, d_hi = cal.interval(5)
    now = cal.competency_now
    frame = pl.DataFrame(
        {
            "learner_id": cal.learner_ids.astype(str),
            "as_of_date": np.full(len(cal.learner_ids), as_of, dtype="datetime64[D]"),
            "cohort_id": roster.cohort_id,
            "v_max": cal.v_max,
            "v_max_p10": v_lo,
            "v_max_p90": v_hi,
            "decay": cal.decay,
            "decay_p10": d_lo,
            "decay_p90": d_hi,
            **{f"competency_{d}": now[:, i] for i, d in enumerate(DOMAINS)},
            "competency_mean": now.mean(axis=1),
            "n_answers": cal.n_answers.astype(np.int64),
            "n_weeks": n_weeks.astype(np.int64),
            "converged": cal.converged,
            "theta": cal.theta,
            "covariance": cal.covariance.reshape(len(cal.theta), N_PARAMS * N_PARAMS),
        }
    )
    return replace_rows(con, "forecasts.learner_calibration", as_of, frame, scope)


def read_calibration_arrays(con, learner_ids: np.ndarray, as_of) -> tuple[np.ndarray, np.ndarray]:
    """theta (n, 6) and covariance (n, 6, 6) of these learners at this as-of date."""
    con.register("_wanted", {"learner_id": learner_ids, "position": np.arange(len(learner_ids))})
    try:
        rows = con.sql(
            """
            select c.theta, c.covariance
            from _wanted as w
            left join forecasts.learner_calibration as c
                on c.learner_id = w.learner_id and c.as_of_date = ?::date
            order by w.position
            """,
            params=[str(as_of)],
        ).pl()
    finally:
        con.unregister("_wanted")
    if rows["theta"].null_count():
        raise LookupError(f"no calibration for {rows['theta'].null_count()} learners at {as_of}")
    theta = np.stack(rows["theta"].to_numpy()).astype(float)
    cov = np.stack(rows["covariance"].to_numpy()).astype(float).reshape(-1, N_PARAMS, N_PARAMS)
    return theta, cov


def write_item_parameters(con, items: ItemParameters, as_of) -> int:
    """Each question's answer curve of this as-of date (engine/items.py)."""
    frame = pl.DataFrame(
        {
            "question_id": items.item_ids.astype(str),
            "as_of_date": np.full(len(items.item_ids), as_of, dtype="datetime64[D]"),
            "question_kind": items.item_kind.astype(str),
            "guess": items.guess,
            "slope": items.slope,
            "difficulty": items.difficulty,
            "n_answers": items.n_answers.astype(np.int64),
            "covariance": items.covariance.reshape(len(items.item_ids), -1),
        }
    )
    return replace_rows(con, "forecasts.item_parameters", as_of, frame)


def read_item_parameters(con, as_of) -> ItemParameters | None:
    """The question curves a run covering every organization fitted for this as-of date."""
    rows = con.sql(
        """
        select question_id, question_kind, guess, slope, difficulty, n_answers, covariance
        from forecasts.item_parameters
        where as_of_date = ?::date
        order by question_id
        """,
        params=[str(as_of)],
    ).pl()
    if rows.is_empty():
        return None
    return ItemParameters(
        item_ids=rows["question_id"].to_numpy().astype(object),
        item_kind=rows["question_kind"].to_numpy().astype(object),
        guess=rows["guess"].to_numpy(),
        slope=rows["slope"].to_numpy(),
        difficulty=rows["difficulty"].to_numpy(),
        n_answers=rows["n_answers"].to_numpy(),
        covariance=np.stack(rows["covariance"].to_numpy()).astype(float).reshape(-1, 3, 3),
    )


def write_forecast(
    con, fc: Forecast, roster: Roster, competency_now: np.ndarray, as_of, scope=None
) -> int:
    """``as_of``: the run's as-of date, which labels the rows (the engine steps from the
    Monday after the last complete week, ``fc.as_of``)."""
    n = len(fc.learner_ids)
    wtm = np.where(np.isinf(fc.weeks_to_mastery), np.nan, fc.weeks_to_mastery)
    target_date = fc.as_of + fc.target_week.astype("timedelta64[W]").astype("timedelta64[D]")
    frame = pl.DataFrame(
        {
            "learner_id": fc.learner_ids.astype(str),
            "as_of_date": np.full(n, as_of, dtype="datetime64[D]"),
            "cohort_id": roster.cohort_id,
            "target_date": np.where(
                np.isnat(roster.target_date), np.datetime64("NaT"), target_date
            ),
            "target_week": fc.target_week.astype(np.int32),
            "mastered_now": fc.mastered_now,
            "p_mastery_by_target": fc.p_mastery_by_target,
            "weeks_to_mastery_p10": wtm[:, 0],
            "weeks_to_mastery_p50": wtm[:, 1],
            "weeks_to_mastery_p90": wtm[:, 2],
            "competency_mean_now": competency_now.mean(axis=1),
            "competency_at_target_p10": fc.competency_at_target[:, 0, 4],
            "competency_at_target_p50": fc.competency_at_target[:, 1, 4],
            "competency_at_target_p90": fc.competency_at_target[:, 2, 4],
            "horizon_weeks": np.full(n, fc.horizon_weeks, dtype=np.int32),
            "draws": np.full(n, fc.draws, dtype=np.int32),
        },
        nan_to_null=True,
    )
    return replace_rows(con, "forecasts.mastery_forecast", as_of, frame, scope)


def write_trajectories(con, fc: Forecast, cohorts: np.ndarray, as_of, scope=None) -> int:
    g, weeks, k, q = fc.group_fan.shape
    idx = np.indices((g, weeks, k)).reshape(3, -1)
    fan = fc.group_fan.reshape(-1, q)
    frame = pl.DataFrame(
        {
            "cohort_id": cohorts[idx[0]].astype(str),
            "as_of_date": np.full(idx.shape[1], as_of, dtype="datetime64[D]"),
            "week_offset": idx[1].astype(np.int32),
            "week_start": fc.as_of + (idx[1] * 7).astype("timedelta64[D]"),
            "series": np.array(FAN_SERIES)[idx[2]],
            "mean": fc.group_mean.reshape(-1),
            **{f"p{round(qq * 100)}": fan[:, i] for i, qq in enumerate(FAN_QUANTILES)},
        },
        nan_to_null=True,
    )
    frame = frame.filter(pl.col("mean").is_not_null())
    return replace_rows(con, "forecasts.cohort_trajectory", as_of, frame, scope)


def write_effort_plan(con, plan: EffortPlan, as_of, goal: float, scope=None) -> int:
    n = len(plan.learner_ids)
    frame = pl.DataFrame(
        {
            "learner_id": plan.learner_ids.astype(str),
            "as_of_date": np.full(n, as_of, dtype="datetime64[D]"),
            "recent_hours_per_week": plan.recent_hours,
            "p_mastery_now": plan.p_now,
            "hours_per_week_needed": plan.hours_needed,
            "p_mastery_at_plan": plan.p_at_hours,
            "best_hours_tried": plan.best_hours_tried,
            "goal": np.full(n, goal),
        },
        nan_to_null=True,
    )
    return replace_rows(con, "forecasts.effort_plan", as_of, frame if n else None, scope)


def write_backtest(con, report: BacktestReport, as_of) -> int:
    rows = report.rows()
    frame = pl.DataFrame(
        {
            "as_of_date": [np.datetime64(as_of, "D").item()] * len(rows),
            "cut_date": [report.cut_date.astype("datetime64[D]").item()] * len(rows),
            "cut_weeks": [report.cut_weeks] * len(rows),
            **{key: [r[key] for r in rows] for key in rows[0]},
            "domain_coverage_80": [report.domain_coverage_80, None],
            "truth_available": [report.truth_available] * len(rows),
        },
        nan_to_null=True,
    )
    return replace_rows(con, "forecasts.backtest_report", as_of, frame)
