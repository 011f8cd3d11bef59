"""The triage and the next actions on the small built program: capacity, entitlements, the
actions' content, and a newcomer's prior."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from pipelines.defs.forecast.checks import triage_lift_at_flag
from pipelines.defs.resources import ForecastSettings, WarehouseResource
from pipelines.defs.transform.project import run_dbt


def rows(warehouse, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_flag_keeps_to_a_fifth_of_each_organizations_active_learners(built_program):
    over = rows(
        built_program.warehouse,
        """
        select org_id, count(*) filter (where at_risk),
            count(*) filter (where engagement_status = 'active')
        from marts.learner_readiness
        group by org_id
        having count(*) filter (where at_risk)
            > floor(0.2 * count(*) filter (where engagement_status = 'active'))
        """,
    )
    assert over == []
    [(flagged, inactive_flagged, gaps)] = rows(
        built_program.warehouse,
        """
        select count(*) filter (where at_risk),
            count(*) filter (where at_risk and engagement_status <> 'active'),
            count(*) - count(distinct (org_id, risk_priority))
        from marts.learner_readiness
        """,
    )
    assert flagged > 0 and inactive_flagged == 0 and gaps == 0


def test_every_learner_has_an_action_their_plan_shows(built_program):
    [(learners, without, free_wrong, paid_hidden, contact_shown)] = rows(
        built_program.warehouse,
        """
        with shown as (
            select r.learner_id, r.subscription_tier,
                count(a.action_rank) filter (where a.shown_to_learner) as n_shown,
                count(a.action_rank) filter (where a.shown_to_learner and a.uses_forecast)
                    as n_forecast_shown,
                count(a.action_rank) filter (where a.audience = 'learner') as n_learner,
                count(a.action_rank) filter (where a.audience = 'learner'
                    and not a.uses_forecast) as n_plain
            from marts.learner_readiness as r
            left join marts.learner_next_actions as a using (learner_id)
            group by all
        )
        select
            count(*),
            count(*) filter (where n_plain = 0),
            count(*) filter (where subscription_tier = 'free'
                and (n_shown <> 1 or n_forecast_shown > 0)),
            count(*) filter (where subscription_tier <> 'free' and n_shown <> n_learner),
            (select count(*) from marts.learner_next_actions
                where audience = 'supervisor' and shown_to_learner)
        from shown
        """,
    )
    assert learners > 200
    assert (without, free_wrong, paid_hidden, contact_shown) == (0, 0, 0, 0)


def test_actions_follow_their_evidence(built_program):
    warehouse = built_program.warehouse
    # The requirement named is one the learner still misses.
    [(wrong_requirement,)] = rows(
        warehouse,
        """
        select count(*)
        from marts.learner_next_actions as a
        join marts.learner_readiness as r using (learner_id)
        where a.kind = 'requirement'
            and not list_contains(
                list_concat(r.tier4_missing, r.tier5_missing),
                regexp_extract(a.action, 'requirement: (.*)$', 1)
            )
        """,
    )
    # A recommended mission is of the learner's track and not passed yet.
    [(wrong_mission,)] = rows(
        warehouse,
        """
        select count(*)
        from marts.learner_next_actions as a
        join staging.stg_reference__learners as l using (learner_id)
        join staging.stg_reference__cohorts as c using (cohort_id)
        join staging.stg_reference__missions as m
            on m.mission_id = regexp_extract(a.action, 'mission (\\S+)', 1)
        where a.kind = 'skill_gap'
            and (m.track <> c.track or exists (
                select 1 from marts.fct_mission_attempts as f
                where f.learner_id = a.learner_id and f.mission_id = m.mission_id
                    and f.is_passed
            ))
        """,
    )
    # Study time is advised exactly to the learners the effort plan covers.
    [(planned, advised)] = rows(
        warehouse,
        """
        select
            (select count(*) from forecasts.effort_plan
                where as_of_date = (select max(as_of_date) from marts.learner_readiness)),
            (select count(*) from marts.learner_next_actions where kind = 'study_time')
        """,
    )
    # Every at-risk or disengaged learner has a contact action for the supervisor.
    [(uncontacted,)] = rows(
        warehouse,
        """
        select count(*) from marts.learner_readiness as r
        where (r.at_risk or r.engagement_status = 'disengaged')
            and not exists (
                select 1 from marts.learner_next_actions as a
                where a.learner_id = r.learner_id and a.kind = 'contact'
            )
        """,
    )
    assert (wrong_requirement, wrong_mission, uncontacted) == (0, 0, 0)
    assert planned == advised > 0


@pytest.fixture()
def warehouse_copy(built_program, tmp_path):
    copy = tmp_path / "w.duckdb"
    shutil.copy(built_program.warehouse, copy)
    return copy


@pytest.mark.slow
def test_a_learner_with_no_history_gets_the_cohorts_prior(warehouse_copy, tmp_path):
    with duckdb.connect(str(warehouse_copy)) as con:
        [(as_of,)] = con.execute("select max(as_of_date) from marts.learner_readiness").fetchall()
        con.execute(
            """
            insert into raw.learners by name
            select * replace ('LNEW0001' as learner_id, 'New Comer' as display_name,
                'new@example.com' as email)
            from raw.learners
            where cohort_id = (select min(cohort_id) from raw.learners)
            limit 1
            """
        )
    built = run_dbt(
        ["build", "--select", "int_learner_risk_evidence+", "--vars", f"as_of_date: '{as_of}'"],
        warehouse_copy,
        tmp_path,
    )
    assert built.returncode == 0, built.stdout[-3000:]
    [(status, p, is_prior, cohort_mean, actions)] = rows(
        warehouse_copy,
        """
        select r.engagement_status, r.p_disengage_8w, r.p_disengage_is_prior,
            (select avg(o.p_disengage_8w) from marts.learner_readiness as o
                where o.cohort_id = r.cohort_id and o.engagement_status = 'active'),
            (select list(kind) from marts.learner_next_actions as a
                where a.learner_id = r.learner_id)
        from marts.learner_readiness as r
        where r.learner_id = 'LNEW0001'
        """,
    )
    assert status == "not_started" and is_prior
    assert p == pytest.approx(cohort_mean)
    assert actions and "contact" not in actions


def test_the_lift_check_fails_under_its_floor_and_waits_for_enough_stops(warehouse_copy):
    resource = WarehouseResource(warehouse=str(warehouse_copy))
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("delete from forecasts.triage_backtest")
        con.execute(
            """
            insert into forecasts.triage_backtest values
                ('2026-04-12', '2026-01-18', 12, 'hazard model', 400, 0.2, 0.7, 0.15, 0.16,
                 0.2, 0.34, 0.34, 1.7)
            """
        )
    failed = triage_lift_at_flag(warehouse=resource, forecast_settings=ForecastSettings())
    assert not failed.passed and "under the 2x" in failed.metadata["summary"].value
    passed = triage_lift_at_flag(
        warehouse=resource, forecast_settings=ForecastSettings(min_triage_lift=1.5)
    )
    assert passed.passed
    few = triage_lift_at_flag(
        warehouse=resource, forecast_settings=ForecastSettings(min_triage_events=100)
    )
    assert few.passed and "too few" in few.metadata["summary"].value
