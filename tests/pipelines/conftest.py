"""Fixtures of the pipelines' tests."""

from __future__ import annotations

import pytest

from pipelines.warehouse import open_writer


@pytest.fixture
def holed_warehouse(tmp_path):
    """A warehouse whose only table lost half its rows after its checkpoint, with vacuum off
    (as loads and dbt builds run): row groups a compaction can merge."""
    warehouse = tmp_path / "warehouse.duckdb"
    with open_writer(warehouse) as con:
        con.execute("create table raw.events as select range as id from range(500000)")
        con.execute("checkpoint")
        con.execute("delete from raw.events where id % 2 = 0")
    return warehouse


@pytest.fixture
def tiny_warehouse(tmp_path):
    """A warehouse with a few small served tables: enough for the dashboards' scoped reads, and
    quick to publish over and over."""
    warehouse = tmp_path / "warehouse.duckdb"
    with open_writer(warehouse) as con:
        con.execute("create schema marts")
        con.execute("create schema forecasts")
        con.execute(
            "create table marts.learner_readiness as select 'L' || lpad(range::varchar, 4, '0')"
            " as learner_id, 'ORG' || (range % 3) as org_id, 'C' || (range % 6) as cohort_id,"
            " (range * 7) % 100 as readiness_score from range(600)"
        )
        # The scoped read's track filter looks cohorts up here.
        con.execute(
            "create table marts.cohort_summary as select distinct cohort_id, org_id,"
            " 'soc-analyst' as track from marts.learner_readiness"
        )
        con.execute(
            "create table forecasts.mastery_forecast as select learner_id, date '2026-11-30'"
            " as as_of_date, readiness_score / 100 as p_mastery_by_target"
            " from marts.learner_readiness"
        )
    return warehouse
