"""The engine's batch as assets: calibration, mastery forecast with cohort fans, backtest."""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
import functools
import time

import dagster as dg
import numpy as np

from engine.backtest import backtest
from engine.calibration import calibrate, from_parameters
from engine.forecast import forecast

from ...forecast.data import load_observations, load_roster, load_truth
from ...forecast.tables import (
    DDL,
    read_calibration_arrays,
    write_backtest,
    write_calibration,
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


def weeks_until(target: np.ndarray, as_of: np.datetime64, horizon: int) -> np.ndarray:
    """Whole weeks from the as-of date to each target date (the horizon when there is none)."""
    days = (target - as_of).astype("timedelta64[D]").astype(float)
    weeks = np.ceil(np.where(np.isnat(target), horizon * 7, days) / 7)
    return np.clip(weeks, 0, horizon).astype(np.int64)


def learner_calibration(warehouse: WarehouseResource) -> dg.MaterializeResult:
    started = time.perf_counter()
    with warehouse.connect() as con:
        con.execute(DDL)
        obs = load_observations(con)
        roster = load_roster(con, obs.learner_ids)
        cal = calibrate(obs, roster.cohort_index)
        rows = write_calibration(con, cal, roster, obs.n_weeks, obs.as_of)
    return dg.MaterializeResult(
        metadata={
            "as_of_date": str(obs.as_of),
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
        obs = load_observations(con)
        roster = load_roster(con, obs.learner_ids)
        theta, covariance = read_calibration_arrays(con, obs.learner_ids, obs.as_of)
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
        learners = write_forecast(con, fc, roster, cal.competency_now)
        fan_rows = write_trajectories(con, fc, roster.cohorts)
    seconds = round(time.perf_counter() - started, 2)
    yield dg.MaterializeResult(
        asset_key=MASTERY_FORECAST,
        metadata={
            "as_of_date": str(obs.as_of),
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


def backtest_report(
    warehouse: WarehouseResource, forecast_settings: ForecastSettings
) -> dg.MaterializeResult:
    settings = forecast_settings
    paths = warehouse.paths()
    with warehouse.connect() as con:
        con.execute(DDL)
        obs = load_observations(con)
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
        write_backtest(con, report)
    engine, seed = report.engine, report.seed_method
    return dg.MaterializeResult(
        metadata={
            "as_of_date": str(report.end_date),
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
    return [calibration, forecasts, backtest]
