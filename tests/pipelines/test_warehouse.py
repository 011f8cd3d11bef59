"""The warehouse connection's upkeep: compaction merges row groups and loses no row."""

from __future__ import annotations

import duckdb

from pipelines.warehouse import compact, open_writer


def _row_groups(con, table: str) -> int:
    return con.execute(
        "select count(distinct row_group_id) from pragma_storage_info(?)", [table]
    ).fetchone()[0]


def test_compaction_merges_partly_filled_row_groups_and_keeps_every_row(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with open_writer(warehouse) as con:  # vacuum off, as loads and dbt builds run
        con.execute("create table raw.events as select range as id from range(1000000)")
        con.execute("checkpoint")
        con.execute("delete from raw.events where id % 10 < 7")  # an incremental rebuild's holes
        for day in range(5):  # a day's small load each
            con.execute(
                "insert into raw.events select range from range(?, ?)",
                [2_000_000 + day * 50_000, 2_000_000 + (day + 1) * 50_000],
            )
        con.execute("checkpoint")
        before = _row_groups(con, "raw.events")
        content = con.execute("select count(*), sum(id) from raw.events").fetchone()

    done = compact(warehouse)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        after = _row_groups(con, "raw.events")
        assert con.execute("select count(*), sum(id) from raw.events").fetchone() == content
        audit = con.execute(
            "select row_groups_before, row_groups_after from audit.compactions"
        ).fetchall()
    assert after < before, (before, after)
    assert done.row_groups_before > done.row_groups_after
    assert audit == [(done.row_groups_before, done.row_groups_after)]
