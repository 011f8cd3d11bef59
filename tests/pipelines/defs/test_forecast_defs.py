"""The engine's batch as Dagster assets: written by `run_all`, checked by the backtest's
coverage, re-runnable, scheduled nightly, and read by learner_readiness."""

from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg
import duckdb
import numpy as np
import pytest

from engine.backtest import BacktestReport, MethodScores
from pipelines.definitions import build_defs
from pipelines.defs.forecast.checks import interval_coverage_in_band
from pipelines.defs.forecast.schedules import nightly_forecast_schedule
from pipelines.defs.resources import ForecastSettings, WarehouseResource
from pipelines.forecast.tables import DDL, write_backtest
from pipelines.runner import run_all
from pipelines.synthetic.generator import GenerateOptions, generate
from tests.conftest import SMALL
from tests.pipelines.defs.evaluate import evaluate_schedule


def rows(warehouse, sql):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_learner_readiness_waits_for_the_forecast_which_waits_for_the_observations():
    defs = build_defs()
    graph = defs.resolve_asset_graph()
    readiness = dg.AssetKey(["marts", "learner_readiness"])
    forecast = dg.AssetKey(["forecasts", "mastery_forecast"])
    calibration = dg.AssetKey(["forecasts", "learner_calibration"])
    assert forecast in graph.get(readiness).parent_keys
    assert calibration in graph.get(forecast).parent_keys
    assert dg.AssetKey(["marts", "learner_domain_weekly"]) in graph.get(calibration).parent_keys
    refresh = defs.resolve_job_def("refresh").asset_layer.executable_asset_keys
    assert forecast not in refresh, "the 5-minute refresh leaves the forecast to the night"


def test_the_nightly_schedule_runs_the_forecast_job(tmp_path):
    assert nightly_forecast_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert nightly_forecast_schedule.cron_schedule == "30 2 * * *"
    context = dict(
        scheduled_execution_time=None,
        resources={"warehouse": WarehouseResource(warehouse=str(tmp_path / "w.duckdb"))},
    )
    (request,) = evaluate_schedule(nightly_forecast_schedule, **context).run_requests
    defs = build_defs()
    assert nightly_forecast_schedule.job_name == "nightly_forecast"
    keys = defs.resolve_job_def("nightly_forecast").asset_layer.executable_asset_keys
    assert dg.AssetKey(["marts", "learner_readiness"]) in keys
    assert dg.AssetKey(["raw", "xapi_statements"]) not in keys
    assert request is not None


def test_the_run_forecasts_every_learner_and_the_backtest_holds(built_program):
    report, warehouse = built_program.report, built_program.warehouse
    assert report.ok, report.error
    (check,) = [c for c in report.checks if c.name == "interval_coverage_in_band"]
    assert check.passed and check.metadata["against"] == "ground truth", check.metadata
    [(learners, forecasts, as_of, bad_p, bad_order)] = rows(
        warehouse,
        """
        select
            (select count(distinct learner_id) from forecasts.learner_calibration),
            count(*), any_value(as_of_date),
            count(*) filter (where p_mastery_by_target not between 0 and 1),
            count(*) filter (where weeks_to_mastery_p10 > weeks_to_mastery_p50
                                or weeks_to_mastery_p50 > weeks_to_mastery_p90)
        from forecasts.mastery_forecast
        """,
    )
    assert forecasts == learners > 200 and bad_p == 0 and bad_order == 0
    [(readiness_as_of,)] = rows(warehouse, "select max(as_of_date) from marts.learner_readiness")
    assert as_of == readiness_as_of, "the forecast is as of the run's as-of date"
    # Learners at mastery now in 90 % of the futures are at mastery by their target in as many.
    [(lowest,)] = rows(
        warehouse,
        "select min(p_mastery_by_target) from forecasts.mastery_forecast"
        " where weeks_to_mastery_p90 = 0",
    )
    assert lowest is None or lowest >= 0.9
    fans = rows(
        warehouse,
        """
        select count(distinct cohort_id), count(*) filter (where not (
            p10 <= p25 and p25 <= p50 and p50 <= p75 and p75 <= p90))
        from forecasts.cohort_trajectory
        """,
    )
    assert fans[0][0] >= 1 and fans[0][1] == 0
    scores = dict(rows(warehouse, "select method, coverage_80 from forecasts.backtest_report"))
    engine = next(v for k, v in scores.items() if k.startswith("engine"))
    seed = next(v for k, v in scores.items() if k.startswith("linear"))
    assert 0.7 <= engine <= 0.9 and engine > seed


def test_each_reason_appears_exactly_when_its_evidence_does(built_program):
    """The triage's reasons on the built program, against its evidence and the default
    thresholds (stop 0.50; mastery 0.10 within 8 weeks; a deadline in the last 14 days)."""
    triggers = {
        "% chance of stopping within 8 weeks%": "e.p_disengage_8w >= 0.50",
        "% chance of competency mastery by the target date%": "not e.mastered_now"
        " and e.p_mastery_by_target < 0.10 and e.weeks_to_target between 0 and 8",
        "missed the deadline of mission%": "e.missed_deadline_date >= r.as_of_date - 14",
    }
    for words, evidence in triggers.items():
        disagreements = rows(
            built_program.warehouse,
            f"""
            select count(*), count(*) filter (where listed)
            from (
                select
                    coalesce(e.engagement_status = 'active' and ({evidence}), false) as holds,
                    list_bool_or(list_transform(r.at_risk_reasons, lambda x: x like '{words}'))
                        as listed
                from marts.learner_readiness as r
                join intermediate.int_learner_risk_evidence as e using (learner_id)
            )
            where holds != coalesce(listed, false)
            """,
        )
        assert disagreements[0][0] == 0, (words, disagreements)


def test_a_run_shares_one_as_of_date(built_program):
    dates = rows(
        built_program.warehouse,
        """
        select distinct as_of_date from marts.learner_readiness
        union select max(as_of_date) from forecasts.mastery_forecast
        union select max(as_of_date) from forecasts.disengagement_risk
        union select max(as_of_date) from forecasts.backtest_report
        """,
    )
    assert len(dates) == 1


def backtest_scores(warehouse) -> dict[str, tuple]:
    """Per method: (competency MAE, coverage, mastery Brier) of the latest backtest."""
    scored = rows(
        warehouse,
        "select method, competency_mae, coverage_80, mastery_brier from forecasts.backtest_report",
    )
    return {method.split(" ")[0].strip(","): values for method, *values in scored}


@pytest.mark.slow
def test_on_the_engines_own_dynamics_the_backtest_holds_too(tmp_path):
    """The test program moves by per-skill practice (the default; the run's coverage check
    holds it); a 26-week program whose competency moves by seed 004's model, the engine's own:
    the intervals hold there too and the engine beats the linear method."""
    program = {**SMALL, "learners": 600, "weeks": 26, "start_date": dt.date(2026, 3, 2)}
    opts = GenerateOptions(out=tmp_path / "landing", dynamics="seed004", **program)
    generate(opts)
    report = run_all(opts.out, tmp_path / "warehouse.duckdb")
    assert report.success, report.error
    (check,) = [c for c in report.checks if c.name == "interval_coverage_in_band"]
    assert check.passed and check.metadata["against"] == "ground truth", check.metadata
    scores = backtest_scores(tmp_path / "warehouse.duckdb")
    assert scores["engine"][0] < scores["linear"][0], scores
    assert scores["engine"][2] < scores["linear"][2], scores


def backtest_scored(coverage: float, learners: int, truth: bool) -> BacktestReport:
    """A backtest report whose engine covered ``coverage`` of ``learners``."""

    def scores(method, covered):
        return MethodScores(
            method=method,
            n_learners=learners,
            competency_mae=0.05 if truth else np.nan,
            coverage_80=covered if truth else np.nan,
            interval_width=0.2,
            mastery_brier=0.1 if truth else np.nan,
            answer_log_loss=0.3,
            observed_coverage_80=coverage,
            n_scored_truth=learners if truth else 0,
            n_scored_answers=learners,
        )

    day = np.datetime64("2026-03-02")
    return BacktestReport(
        8,
        day - 56,
        day,
        truth,
        scores("engine (Monte Carlo)", coverage),
        scores("linear", 0.1),
        0.8,
    )


@pytest.mark.parametrize("truth", [True, False])
def test_the_coverage_check_allows_a_small_programs_noise_but_not_a_large_drift(tmp_path, truth):
    warehouse = WarehouseResource(warehouse=str(tmp_path / "w.duckdb"), landing=str(tmp_path))

    def check(coverage, learners):
        with duckdb.connect(warehouse.warehouse) as con:
            con.execute(DDL)
            write_backtest(con, backtest_scored(coverage, learners, truth), "2026-03-02")
        return interval_coverage_in_band(warehouse=warehouse, forecast_settings=ForecastSettings())

    noise = check(0.69, 50)  # 0.69 on 50 learners: within two standard errors of 0.75
    assert noise.passed and noise.metadata["learners_scored"].value == 50
    drift = check(0.69, 2000)
    assert not drift.passed
    assert "outside the band [73%, 87%] for 2,000 learners" in drift.metadata["summary"].value
    assert not check(0.99, 50).passed, "intervals so wide that they cover everyone fail"
    assert check(0.82, 2000).passed


@pytest.fixture()
def copy_of_program(built_program, tmp_path):
    shutil.copytree(built_program.landing, tmp_path / "landing")
    shutil.copy(built_program.warehouse, tmp_path / "warehouse.duckdb")
    return tmp_path


@pytest.mark.slow
def test_a_second_forecast_replaces_its_own_rows_and_a_bad_coverage_fails(copy_of_program):
    # No truth beside this landing folder: the backtest scores the held-out answers.
    warehouse = copy_of_program / "warehouse.duckdb"
    before = rows(warehouse, "select count(*) from forecasts.mastery_forecast")
    report = run_all(
        copy_of_program / "landing",
        warehouse,
        forecast_only=True,
        forecast_settings=ForecastSettings(draws=40, coverage_low=0.99),
    )
    assert report.success, report.error
    assert rows(warehouse, "select count(*) from forecasts.mastery_forecast") == before
    (check,) = [c for c in report.checks if c.name == "interval_coverage_in_band"]
    assert not check.passed and check.metadata["against"] == "held-out answers"
    assert report.failed_checks, "a coverage outside the band fails the run"
    assert rows(
        warehouse,
        "select bool_or(truth_available) from forecasts.backtest_report"
        " where as_of_date = (select max(as_of_date)"
        " from forecasts.backtest_report)",
    ) == [(False,)]


@pytest.mark.slow
@pytest.mark.parametrize("stored_curves", [True, False])
def test_one_organization_reruns_alone_and_gets_its_rows_of_the_nightly_run(
    copy_of_program, stored_curves
):
    """With the question curves the nightly run stored for the day, or, without them, fitted
    again from every learner's answers: either way the nightly run's rows."""
    from pipelines.defs.forecast.assets import (
        CALIBRATION,
        COHORT_TRAJECTORY,
        EFFORT_PLAN,
        MASTERY_FORECAST,
    )

    warehouse = copy_of_program / "warehouse.duckdb"
    learner_org = "select learner_id from staging.stg_reference__learners where org_id = ?"
    with duckdb.connect(str(warehouse)) as con:
        orgs = [o for (o,) in con.sql("select org_id from raw.organizations order by 1").fetchall()]
        org = orgs[1]
        nightly = con.execute(
            f"select * from forecasts.mastery_forecast where learner_id in ({learner_org})"
            " order by all",
            [org],
        ).fetchall()
        # Spoil every row: the partition's run must restore its own and touch no other.
        con.execute("update forecasts.mastery_forecast set p_mastery_by_target = -1")
        [(curves,)] = con.sql("select count(*) from forecasts.item_parameters").fetchall()
        assert curves > 100, "the nightly run stores its question curves"
        if not stored_curves:
            con.execute("delete from forecasts.item_parameters")
    defs = build_defs(WarehouseResource(warehouse=str(warehouse)))
    assert defs.resolve_assets_def(MASTERY_FORECAST).partitions_def.name == "organizations"
    job = defs.resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("organizations", orgs)
        result = job.execute_in_process(
            instance=instance,
            partition_key=org,
            asset_selection=[CALIBRATION, MASTERY_FORECAST, COHORT_TRAJECTORY, EFFORT_PLAN],
        )
    assert result.success
    (done,) = [
        e for e in result.get_asset_materialization_events() if e.asset_key == MASTERY_FORECAST
    ]
    assert done.partition == org and done.materialization.metadata["ran_on"].value == "in-process"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        again = con.execute(
            f"select * from forecasts.mastery_forecast where learner_id in ({learner_org})"
            " order by all",
            [org],
        ).fetchall()
        others = con.execute(
            "select count(*), count(*) filter (where p_mastery_by_target = -1)"
            f" from forecasts.mastery_forecast where learner_id not in ({learner_org})",
            [org],
        ).fetchall()
    assert again == nightly and len(again) > 20
    assert others[0][0] == others[0][1] > 0, "other organizations' rows were not touched"


def test_the_nightly_run_covers_every_organization_partition_at_once():
    from pipelines.defs.resources import ORGANIZATIONS, organization_range, register_organizations

    with dg.DagsterInstance.ephemeral() as instance:
        assert organization_range(instance) == {}, "no partitions yet: a run of everything"
        assert register_organizations(instance, ["ORG02", "ORG01", "ORG02"]) == ["ORG01", "ORG02"]
        assert register_organizations(instance, ["ORG01", "ORG03"]) == ["ORG03"]
        assert instance.get_dynamic_partitions(ORGANIZATIONS.name) == ["ORG01", "ORG02", "ORG03"]
        assert organization_range(instance) == {
            "dagster/asset_partition_range_start": "ORG01",
            "dagster/asset_partition_range_end": "ORG03",
        }
