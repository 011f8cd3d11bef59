"""The engine's batch as assets: calibration, mastery forecast with cohort fans, backtest."""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
import functools
import time

import dagster as dg
import numpy as np

from engine import disengagement
from engine.backtest import backtest
from engine.calibration import calibrate, from_parameters
from engine.effort import GOAL, effort_plan
from engine.forecast import forecast

from ...forecast import risk
from ...forecast.data import load_observations, load_roster, load_truth
from ...forecast.tables import (
    DDL,
    read_calibration_arrays,
    write_backtest,
    write_calibration,
    write_effort_plan,
    write_forecast,
    write_trajectories,
)
from ..resources import POOL, ForecastSettings, WarehouseResource
from ..transform.assets import model_key

GROUP = "forecasts"
OBSERVATIONS_MODEL = "learner_domain_weekly"  # the dbt model every forecast reads
CALIBRATION = dg.AssetKey(["forecasts", "learner_calibration"])
MASTERY_FORECAST = dg.AssetKey(["forecasts", "mastery_forecast"])
COHORT_TRAJECTORY = dg.AssetKey(["forecasts", "cohort_trajectory"])
BACKTEST = dg.AssetKey(["forecasts", "backtest_report"])
EFFORT_PLAN = dg.AssetKey(["forecasts", "effort_plan"])
DISENGAGEMENT_MODEL = dg.AssetKey(["forecasts", "disengagement_model"])
DISENGAGEMENT_RISK = dg.AssetKey(["forecasts", "disengagement_risk"])
TRIAGE_BACKTEST = dg.AssetKey(["forecasts", "triage_backtest"])
# The dbt models the disengagement model reads its daily history from. (It reads the reference
# learners and cohorts too, which these depend on; naming them would make Dagster run them in
# an invocation of dbt of their own.)
ACTIVITY_MODELS = ("int_learner_days_aggregated", "fct_mission_attempts", "fct_assessment_attempts")


def weeks_until(target: np.ndarray, as_of: np.datetime64, horizon: int) -> np.ndarray:
    """Whole weeks from the as-of date to each target date (the horizon when there is none)."""
    days = (target - as_of).astype("timedelta64[D]").astype(float)
    weeks = np.ceil(np.where(np.isnat(target), horizon * 7, days) / 7)
    return np.clip(weeks, 0, horizon).astype(np.int64)


def learner_calibration(warehouse: WarehouseResource) -> dg.MaterializeResult:
    started = time.perf_counter()
    with warehouse.connect() as con:
        con.execute(DDL)
        as_of = warehouse.as_of(con).date
        obs = load_observations(con, as_of)
        roster = load_roster(con, obs.learner_ids)
        cal = calibrate(obs, roster.cohort_index)
        rows = write_calibration(con, cal, roster, obs.n_weeks, as_of)
    return dg.MaterializeResult(
        metadata={
            "as_of_date": str(as_of),
            "learners": rows,
            "converged_share": float(cal.converged.mean()),
            "median_v_max": float(np.median(cal.v_max)),
            "median_decay": float(np.median(cal.decay)),
            "seconds": round(time.perf_counter() - started, 2),
        }
    )


def mastery_forecast(warehouse: WarehouseResource, forecast_settings: ForecastSettings):
    settings = forecast_settings
    started = time.perf_counter()
    with warehouse.connect() as con:
        con.execute(DDL)
        as_of = warehouse.as_of(con).date
        obs = load_observations(con, as_of)
        roster = load_roster(con, obs.learner_ids)
        theta, covariance = read_calibration_arrays(con, obs.learner_ids, as_of)
        cal = from_parameters(obs, theta, covariance)
        target = weeks_until(roster.target_date, obs.as_of, settings.horizon_weeks)
        fc = forecast(
            cal,
            obs,
            target,
            roster.cohort_index,
            horizon_weeks=settings.horizon_weeks,
            draws=settings.draws,
            seed=settings.seed,
        )
        learners = write_forecast(con, fc, roster, cal.competency_now, as_of)
        fan_rows = write_trajectories(con, fc, roster.cohorts, as_of)
    seconds = round(time.perf_counter() - started, 2)
    yield dg.MaterializeResult(
        asset_key=MASTERY_FORECAST,
        metadata={
            "as_of_date": str(as_of),
            "learners": learners,
            "draws": settings.draws,
            "mastered_now": int(fc.mastered_now.sum()),
            "mean_p_mastery_by_target": float(fc.p_mastery_by_target.mean()),
            "seconds": seconds,
        },
    )
    yield dg.MaterializeResult(
        asset_key=COHORT_TRAJECTORY, metadata={"rows": fan_rows, "cohorts": len(roster.cohorts)}
    )


def study_effort_plan(
    warehouse: WarehouseResource, forecast_settings: ForecastSettings
) -> dg.MaterializeResult:
    settings = forecast_settings
    started = time.perf_counter()
    with warehouse.connect() as con:
        con.execute(DDL)
        as_of = warehouse.as_of(con).date
        obs = load_observations(con, as_of)
        roster = load_roster(con, obs.learner_ids)
        theta, covariance = read_calibration_arrays(con, obs.learner_ids, as_of)
        cal = from_parameters(obs, theta, covariance)
        target = weeks_until(roster.target_date, obs.as_of, settings.horizon_weeks)
        short = short_of_goal(con, obs.learner_ids, as_of)
        # A learner with no target date in the horizon has no "by the target" to plan for.
        ask = short & ~np.isnat(roster.target_date) & (target > 0)
        plan = effort_plan(
            cal,
            obs,
            target,
            ask,
            horizon_weeks=settings.horizon_weeks,
            draws=settings.draws,
            seed=settings.seed,
        )
        rows = write_effort_plan(con, plan, as_of, GOAL)
    reachable = int((~np.isnan(plan.hours_needed)).sum())
    return dg.MaterializeResult(
        metadata={
            "as_of_date": str(as_of),
            "learners_planned": rows,
            "goal_reachable": reachable,
            "seconds": round(time.perf_counter() - started, 2),
        }
    )


def short_of_goal(con, learner_ids: np.ndarray, as_of) -> np.ndarray:
    """Learners whose forecast chance of mastery by the target is under the goal (and who are
    not at mastery already), in ``learner_ids``' order."""
    con.register("_wanted", {"learner_id": learner_ids, "position": np.arange(len(learner_ids))})
    try:
        short = con.execute(
            """
            select coalesce(not f.mastered_now and f.p_mastery_by_target < ?, false)
            from _wanted as w
            left join forecasts.mastery_forecast as f
                on f.learner_id = w.learner_id and f.as_of_date = ?::date
            order by w.position
            """,
            [GOAL, str(as_of)],
        ).fetchall()
    finally:
        con.unregister("_wanted")
    return np.array([row[0] for row in short], dtype=bool)


def backtest_report(
    warehouse: WarehouseResource, forecast_settings: ForecastSettings
) -> dg.MaterializeResult:
    settings = forecast_settings
    paths = warehouse.paths()
    with warehouse.connect() as con:
        con.execute(DDL)
        as_of = warehouse.as_of(con).date
        obs = load_observations(con, as_of)
        roster = load_roster(con, obs.learner_ids)
        weeks = min(settings.backtest_weeks, len(obs.week_starts) - 1)
        cut_as_of = obs.as_of - np.timedelta64(7 * weeks, "D")
        # The generator's hidden truth, when there is one; production has none.
        truth = load_truth(paths.truth, obs.learner_ids, obs.as_of, cut_as_of)
        competency, mastered = truth if truth is not None else (None, None)
        report = backtest(
            obs,
            weeks,
            roster.cohort_index,
            competency,
            mastered,
            draws=settings.draws,
            seed=settings.seed,
        )
        write_backtest(con, report, as_of)
    engine, seed = report.engine, report.seed_method
    return dg.MaterializeResult(
        metadata={
            "as_of_date": str(as_of),
            "cut_weeks": weeks,
            "truth_available": report.truth_available,
            "coverage_80": report.coverage_80,
            "engine_competency_mae": engine.competency_mae,
            "seed_competency_mae": seed.competency_mae,
            "engine_coverage_80": engine.coverage_80,
            "seed_coverage_80": seed.coverage_80,
            "observed_coverage_80": engine.observed_coverage_80,
        }
    )


def disengagement_risk(warehouse: WarehouseResource):
    started = time.perf_counter()
    with warehouse.connect() as con:
        con.execute(risk.DDL)
        as_of = warehouse.as_of(con).date
        daily = risk.load_daily_activity(con, as_of)
        model = disengagement.fit(daily)
        scores = disengagement.score(daily, model, daily.n_days - 1)
        if model is not None:
            risk.write_model(con, model, as_of)
        learners = risk.write_scores(con, scores, as_of)
    active = scores.status == "active"
    yield dg.MaterializeResult(
        asset_key=DISENGAGEMENT_MODEL,
        metadata={
            "as_of_date": str(as_of),
            "fitted": model is not None,
            "learner_weeks": model.n_rows if model else 0,
            "stops_seen": model.n_events if model else 0,
        },
    )
    yield dg.MaterializeResult(
        asset_key=DISENGAGEMENT_RISK,
        metadata={
            "as_of_date": str(as_of),
            "learners": learners,
            "active": int(active.sum()),
            "mean_p_disengage_8w": float(np.nanmean(scores.p_disengage_8w[active]))
            if model is not None and active.any()
            else None,
            "seconds": round(time.perf_counter() - started, 2),
        },
    )


def triage_backtest(
    warehouse: WarehouseResource, forecast_settings: ForecastSettings
) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        con.execute(risk.DDL)
        as_of = warehouse.as_of(con).date
        daily = risk.load_daily_activity(con, as_of)
        report = disengagement.backtest(
            daily,
            forecast_settings.triage_backtest_weeks,
            warehouse.risk_disengage_threshold,
            warehouse.risk_capacity_share,
        )
        if report is not None:
            risk.write_backtest(con, report, as_of)
    if report is None:
        return dg.MaterializeResult(
            metadata={"as_of_date": str(as_of), "summary": "history too short to backtest"}
        )
    model = next((m for m in report.methods if m.method == "hazard model"), None)
    return dg.MaterializeResult(
        metadata={
            "as_of_date": str(as_of),
            "cut_date": str(report.cut_date),
            "scored": model.n_scored if model else 0,
            "auc": model.auc if model else None,
            "lift_at_flag": model.lift if model else None,
        }
    )


@functools.cache
def forecast_assets() -> list[dg.AssetsDefinition]:
    """The engine's assets, each after the dbt model of weekly observations they read."""
    observations = model_key(OBSERVATIONS_MODEL)
    calibration = dg.asset(
        key=CALIBRATION,
        deps=[observations],
        group_name=GROUP,
        pool=POOL,
        description="Per-learner V_max, lambda and starting competency with their uncertainty, "
        "fitted to the weekly answers and study time (engine.calibration).",
    )(learner_calibration)
    forecasts = dg.multi_asset(
        specs=[
            dg.AssetSpec(
                MASTERY_FORECAST,
                deps=[CALIBRATION, observations],
                group_name=GROUP,
                description="Per learner and as-of date: mastered now, probability of mastery by "
                "the cohort's target date, weeks to mastery p10/p50/p90 (Monte Carlo).",
            ),
            dg.AssetSpec(
                COHORT_TRAJECTORY,
                deps=[CALIBRATION, observations],
                group_name=GROUP,
                description="Per cohort, week ahead and domain (and the mean): quantiles of "
                "competency over its learners' simulated futures, for fan charts.",
            ),
        ],
        pool=POOL,
    )(mastery_forecast)
    backtest = dg.asset(
        key=BACKTEST,
        deps=[observations],
        group_name=GROUP,
        pool=POOL,
        description="Forecast from k weeks ago scored against what happened since, beside a linear "
        "trend with ±20 % bounds: mean absolute error, 80 % interval coverage, Brier, log loss.",
    )(backtest_report)
    plan = dg.asset(
        key=EFFORT_PLAN,
        deps=[CALIBRATION, MASTERY_FORECAST, observations],
        group_name=GROUP,
        pool=POOL,
        description="Per learner short of a 50 % chance of mastery by the target: the weekly "
        "study hours that reach it (the forecast's what-if, common random numbers), or none.",
    )(study_effort_plan)
    activity = [model_key(name) for name in ACTIVITY_MODELS]
    risk_assets = dg.multi_asset(
        specs=[
            dg.AssetSpec(
                DISENGAGEMENT_MODEL,
                deps=activity,
                group_name=GROUP,
                description="The weekly hazard of disengagement (28 days without activity), "
                "fitted on the warehouse's learner-weeks: coefficients with their as-of date.",
            ),
            dg.AssetSpec(
                DISENGAGEMENT_RISK,
                deps=[DISENGAGEMENT_MODEL, *activity],
                group_name=GROUP,
                description="Per learner and as-of date: active, disengaged or not started; "
                "p_disengage_8w; the recent activity behind it and the factors raising it.",
            ),
        ],
        pool=POOL,
    )(disengagement_risk)
    triage = dg.asset(
        key=TRIAGE_BACKTEST,
        deps=activity,
        group_name=GROUP,
        pool=POOL,
        description="The disengagement model fitted k weeks ago, scored on what happened next "
        "beside the 7-day-inactivity rule: AUC, Brier, calibration by decile, lift at the flag.",
    )(triage_backtest)
    return [calibration, forecasts, plan, backtest, risk_assets, triage]
