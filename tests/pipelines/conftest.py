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
