"""One as-of date per run: resolved once, shared by every mart and forecast, and a replay of a
past day equals a landing zone cut at that day."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import duckdb
import pytest

from pipelines.as_of import resolve_as_of
from pipelines.defs.resources import ForecastSettings
from pipelines.runner import run_all

NOW = dt.datetime(2026, 6, 10, 12, 0)


def _raw(con: duckdb.DuckDBPyConnection, newest: str | None) -> None:
    con.execute(
        "create schema raw;"
        ' create table raw.xapi_statements ("timestamp" timestamp, voided_statement_id uuid,'
        " voided_by uuid)"
    )
    if newest:
        con.execute("insert into raw.xapi_statements values (?, null, null)", [newest])


@pytest.mark.parametrize(
    ("newest", "day", "how"),
    [
        ("2026-06-08 13:00", dt.date(2026, 6, 10), "today"),  # 47 hours old
        ("2026-06-08 12:00", dt.date(2026, 6, 10), "today"),  # 48 hours: still fresh
        ("2026-06-08 11:59", dt.date(2026, 6, 8), "newest event"),
        ("2026-03-01 09:30", dt.date(2026, 3, 1), "newest event"),
    ],
)
def test_the_as_of_date_is_today_unless_the_data_is_older_than_48_hours(newest, day, how):
    con = duckdb.connect()
    _raw(con, newest)
    as_of = resolve_as_of(con, None, NOW)
    assert (as_of.date, as_of.how) == (day, how)
    assert (as_of.warning is not None) == (how == "newest event")
    if as_of.warning:
        assert str(day) in as_of.warning
    asked = resolve_as_of(con, dt.date(2026, 5, 1), NOW)
    assert (asked.date, asked.how, asked.warning) == (dt.date(2026, 5, 1), "requested", None)


def test_a_voiding_made_today_does_not_move_the_as_of_date():
    """An administrator voids a statement of a program that ended in March: the data is still
    read as of its last day, not as of the voiding's."""
    con = duckdb.connect()
    _raw(con, "2026-03-01 09:30")
    con.execute("insert into raw.xapi_statements values (?, uuid(), null)", [NOW])
    # ... nor does the statement it voided, whenever it was dated.
    con.execute("insert into raw.xapi_statements values (?, null, uuid())", [NOW])
    assert resolve_as_of(con, None, NOW).date == dt.date(2026, 3, 1)


def test_an_empty_warehouse_is_as_of_today():
    con = duckdb.connect()
    assert resolve_as_of(con, None, NOW).date == NOW.date()
    _raw(con, None)
    assert resolve_as_of(con, None, NOW).how == "today"


def _cut_landing(source, target, day: dt.date) -> None:
    """The landing zone as it stood at the end of ``day``: reference files, and the event
    files of that day and before (the generator writes one file per source and day)."""
    for path in source.rglob("*"):
        if not path.is_file():
            continue
        found = re.search(r"(\d{4}-\d{2}-\d{2})", path.name)
        if found and dt.date.fromisoformat(found.group(1)) > day:
            continue
        copy = target / path.relative_to(source)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, copy)


def _comparable(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, str]:
    """Each table of ``schema`` as a query over the columns that do not record load times,
    floats rounded (a float sum depends on the order rows arrive in)."""
    tables = con.execute(
        "select table_name, list(column_name order by column_index),"
        " list(data_type order by column_index)"
        " from duckdb_columns() where schema_name = ? group by table_name",
        [schema],
    ).fetchall()
    skip = ("loaded_at", "loaded_file_id", "last_loaded_at")
    return {
        name: ", ".join(
            f'round("{c}", 9)' if kind == "DOUBLE" else f'"{c}"'
            for c, kind in zip(columns, kinds, strict=True)
            if not c.endswith(skip)
        )
        for name, columns, kinds in tables
    }


@pytest.mark.slow
def test_a_replay_as_of_a_past_day_equals_the_landing_zone_cut_at_that_day(small_batch, tmp_path):
    day = dt.date(2026, 3, 8)  # a Sunday, nine weeks into the small program
    _cut_landing(small_batch.landing, tmp_path / "cut" / "landing", day)
    shutil.copytree(small_batch.truth, tmp_path / "cut" / "truth")  # the backtest's truth
    (tmp_path / "full").mkdir()
    quick = ForecastSettings(draws=50)  # the same draws both ways: equal all the same
    replay = run_all(
        small_batch.landing, tmp_path / "full" / "w.duckdb", as_of=day, forecast_settings=quick
    )
    cut = run_all(
        tmp_path / "cut" / "landing", tmp_path / "cut" / "w.duckdb", forecast_settings=quick
    )
    assert replay.ok and cut.ok, (replay.error, cut.error)
    assert replay.as_of.date == day and replay.as_of.how == "requested"
    assert cut.as_of.date == day and cut.as_of.how == "newest event"  # stale: its last day
    with duckdb.connect(str(tmp_path / "full" / "w.duckdb"), read_only=True) as con:
        con.execute(f"attach '{tmp_path / 'cut' / 'w.duckdb'}' as cut (read_only)")
        compared = 0
        for schema in ("marts", "forecasts"):
            for table, columns in _comparable(con, schema).items():
                if table in ("triage_calibration",):  # no rows either way on 9 weeks
                    continue
                sql = f"select {columns} from {schema}.{table}"
                cut_sql = f"select {columns} from cut.{schema}.{table}"
                [(only_replay,)] = con.execute(
                    f"select count(*) from ({sql} except all {cut_sql})"
                ).fetchall()
                [(only_cut,)] = con.execute(
                    f"select count(*) from ({cut_sql} except all {sql})"
                ).fetchall()
                assert only_replay == only_cut == 0, (schema, table, only_replay, only_cut)
                compared += 1
    assert compared >= 25


def test_the_dagster_resource_passes_a_requested_day_to_dbt_and_the_engine():
    from pipelines.defs.resources import WarehouseResource

    resource = WarehouseResource(as_of_date="2026-05-01")
    as_of = resource.as_of(None)
    assert (as_of.date, as_of.how) == (dt.date(2026, 5, 1), "requested")
    assert resource.dbt_vars(as_of)["as_of_date"] == "2026-05-01"
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        WarehouseResource(as_of_date="May 1st").as_of(None)
