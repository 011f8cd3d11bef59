"""The engine's batch as assets: calibration, mastery forecast with cohort fans, backtest.

The per-learner assets are partitioned by organization (dynamic partitions, registered from the
reference data as it loads): a run for some organizations recalibrates and forecasts only their
learners and replaces only their rows, which are the rows the nightly run gives them (each
organization is calibrated and forecast apart, engine/blocks.py). A run without a partition
(`cohortlens run`, `cohortlens forecast`) covers every organization. The engine's blocks run
where the `dask` resource says: in-process, or on a Dask cluster.
"""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
import functools
import time

import dagster as dg
import numpy as np

from engine import disengagement
from engine.backtest import backtest
from engine.calibration import calibrate_with_items, fit_question_curves
from engine.effort import GOAL, effort_plan
from engine.forecast import forecast

from ...forecast import risk
from ...forecast.data import load_observations, load_roster, load_truth
from ...forecast.tables import (
    DDL,
    read_item_parameters,
    write_backtest,
    write_calibration,
    write_effort_plan,
    write_forecast,
    write_item_parameters,
    write_trajectories,
)
from ..resources import (
    ORGANIZATIONS,
    POOL,
    DaskResource,
    ForecastSettings,
    WarehouseResource,
)
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
# The per-learner assets, partitioned by organization (one step: learner_forecasts).
PER_LEARNER = (CALIBRATION, MASTERY_FORECAST, COHORT_TRAJECTORY, EFFORT_PLAN)
# The dbt models the disengagement model reads its daily history from. (It reads the reference
# learners and cohorts too, which these depend on; naming them would make Dagster run them in
# an invocation of dbt of their own.)
ACTIVITY_MODELS = ("int_learner_days_aggregated", "fct_mission_attempts", "fct_assessment_attempts")


def weeks_until(target: np.ndarray, as_of: np.datetime64, horizon: int) -> np.ndarray:
    """Whole weeks from the as-of date to each target date (the horizon when there is none)."""
    days = (target - as_of).astype("timedelta64[D]").astype(float)
    weeks = np.ceil(np.where(np.isnat(target), horizon * 7, days) / 7)
    return np.clip(weeks, 0, horizon).astype(np.int64)


def organizations(context: dg.AssetExecutionContext) -> list[str] | None:
    """The organizations a run covers: its partitions, or None (every one) without."""
    if context.has_partition_key or context.has_partition_key_range:
        return list(context.partition_keys)
    return None


def scoped(obs, roster, orgs: list[str] | None):
    """The observations and roster of the run's organizations' learners (from everyone's); and
    the scope of the rows to replace (None: every row of the as-of date)."""
    if orgs is None:
        return obs, roster, None
    keep = np.isin(roster.org_id, orgs)
    return obs.subset(keep), roster.subset(keep), ("learner_id", list(obs.learner_ids[keep]))


def question_curves(con, as_of, everyone, roster, runner):
    """The questions' answer curves for a run of some organizations: those the run covering
    every organization fitted for this as-of date (the bank is the whole program's), or, when
    there is none yet, fitted here from every learner's answers (``everyone``), the same way."""
    items = read_item_parameters(con, as_of)
    if items is not None or everyone.items is None or len(everyone.items.n) == 0:
        return items
    return fit_question_curves(everyone, roster.cohort_index, strata=roster.org_id, runner=runner)


def where(runner, orgs: list[str] | None) -> dict[str, str]:
    """Metadata saying which organizations a step covered and where its blocks ran."""
    return {"organizations": ", ".join(orgs) if orgs else "all", "ran_on": runner.where}


def learner_forecasts(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    forecast_settings: ForecastSettings,
    dask: DaskResource,
):
    """Calibrate, forecast (with the cohorts' fans) and plan study effort for the run's
    organizations, one step: Dagster cannot run a chain of partitioned steps without a
    partition (as `cohortlens run` does), and one step reads the observations once."""
    settings = forecast_settings
    orgs, runner = organizations(context), dask.runner()
    ran = where(runner, orgs)
    started = time.perf_counter()
    with warehouse.connect() as con:
        con.execute(DDL)
        as_of = warehouse.as_of(con).date
        everyone = load_observations(con, as_of)
        everyone_roster = load_roster(con, everyone.learner_ids)
        obs, roster, scope = scoped(everyone, everyone_roster, orgs)
        items = None
        if orgs is not None:
            items = question_curves(con, as_of, everyone, everyone_roster, runner)
        cal = calibrate_with_items(
            obs, roster.cohort_index, strata=roster.org_id, runner=runner, items=items
        )
        if orgs is None and cal.measurement.items is not None:
            write_item_parameters(con, cal.measurement.items, as_of)
        rows = write_calibration(con, cal, roster, obs.n_weeks, as_of, scope)
        yield dg.MaterializeResult(
            asset_key=CALIBRATION,
            metadata={
                "as_of_date": str(as_of),
                "learners": rows,
                "converged_share": float(cal.converged.mean()) if rows else None,
                "median_v_max": float(np.median(cal.v_max)) if rows else None,
                "median_decay": float(np.median(cal.decay)) if rows else None,
                "seconds": round(time.perf_counter() - started, 2),
                **ran,
            },
        )

        started = time.perf_counter()
        target = weeks_until(roster.target_date, obs.as_of, settings.horizon_weeks)
        fc = forecast(
            cal,
            obs,
            target,
            roster.cohort_index,
            horizon_weeks=settings.horizon_weeks,
            draws=settings.draws,
            seed=settings.seed,
            strata=roster.org_id,
            runner=runner,
        )
        learners = write_forecast(con, fc, roster, cal.competency_now, as_of, scope)
        cohorts = roster.cohorts[np.unique(roster.cohort_index)]
        fan_scope = None if scope is None else ("cohort_id", list(cohorts))
        fan_rows = write_trajectories(con, fc, roster.cohorts, as_of, fan_scope)
        yield dg.MaterializeResult(
            asset_key=MASTERY_FORECAST,
            metadata={
                "as_of_date": str(as_of),
                "learners": learners,
                "draws": settings.draws,
                "mastered_now": int(fc.mastered_now.sum()),
                "mean_p_mastery_by_target": float(fc.p_mastery_by_target.mean())
                if learners
                else None,
                "seconds": round(time.perf_counter() - started, 2),
                **ran,
            },
        )
        yield dg.MaterializeResult(
            asset_key=COHORT_TRAJECTORY, metadata={"rows": fan_rows, "cohorts": len(cohorts)}
        )

        started = time.perf_counter()
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
            strata=roster.org_id,
            runner=runner,
        )
        planned = write_effort_plan(con, plan, as_of, GOAL, scope)
    yield dg.MaterializeResult(
        asset_key=EFFORT_PLAN,
        metadata={
            "as_of_date": str(as_of),
            "learners_planned": planned,
            "goal_reachable": int((~np.isnan(plan.hours_needed)).sum()),
            "seconds": round(time.perf_counter() - started, 2),
            **ran,
        },
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
    warehouse: WarehouseResource, forecast_settings: ForecastSettings, dask: DaskResource
) -> dg.MaterializeResult:
    settings = forecast_settings
    paths = warehouse.paths()
    runner = dask.runner()
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
            strata=roster.org_id,
            runner=runner,
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
            "ran_on": runner.where,
        }
    )


def disengagement_risk(warehouse: WarehouseResource, dask: DaskResource):
    started = time.perf_counter()
    runner = dask.runner()
    with warehouse.connect() as con:
        con.execute(risk.DDL)
        as_of = warehouse.as_of(con).date
        daily = risk.load_daily_activity(con, as_of)
        model = disengagement.fit(daily, runner=runner)
        scores = disengagement.score(daily, model, daily.n_days - 1, runner=runner)
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
            "ran_on": runner.where,
        },
    )


def triage_backtest(
    warehouse: WarehouseResource, forecast_settings: ForecastSettings, dask: DaskResource
) -> dg.MaterializeResult:
    runner = dask.runner()
    with warehouse.connect() as con:
        con.execute(risk.DDL)
        as_of = warehouse.as_of(con).date
        daily = risk.load_daily_activity(con, as_of)
        report = disengagement.backtest(
            daily,
            forecast_settings.triage_backtest_weeks,
            warehouse.risk_disengage_threshold,
            warehouse.risk_capacity_share,
            runner=runner,
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
    per_learner = dg.multi_asset(
        name="learner_forecasts",
        specs=[
            dg.AssetSpec(
                CALIBRATION,
                deps=[observations],
                group_name=GROUP,
                description="Per-learner V_max, lambda and starting competency with their "
                "uncertainty, fitted to the weekly answers and study time (engine.calibration).",
            ),
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
            dg.AssetSpec(
                EFFORT_PLAN,
                deps=[CALIBRATION, MASTERY_FORECAST, observations],
                group_name=GROUP,
                description="Per learner short of a 50 % chance of mastery by the target: the "
                "weekly study hours that reach it (the forecast's what-if, common random "
                "numbers), or none.",
            ),
        ],
        pool=POOL,
        partitions_def=ORGANIZATIONS,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )(learner_forecasts)
    backtest = dg.asset(
        key=BACKTEST,
        deps=[observations],
        group_name=GROUP,
        pool=POOL,
        description="Forecast from k weeks ago scored against what happened since, beside "
        "'linear, ±20 %': mean absolute error, 80 % interval coverage and width, Brier (against "
        "the generator's truth, when there is one) and held-out answer log loss and coverage.",
    )(backtest_report)
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
    return [per_learner, backtest, risk_assets, triage]
