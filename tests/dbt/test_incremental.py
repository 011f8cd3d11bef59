"""Incremental models: new days of files rebuild days, and end where a full rebuild ends."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid

import duckdb
import pytest

from pipelines.defs.resources import ForecastSettings
from pipelines.defs.transform.project import run_dbt
from pipelines.runner import run_all

pytestmark = pytest.mark.slow  # each test builds with dbt or Dagster

# Each incremental model, and whether a new day must add rows to it (a day may fall in a week
# already built, complete no module, or only extend runs).
INCREMENTAL = {
    "marts.fct_mission_attempts": True,
    "marts.fct_assessment_attempts": True,
    "intermediate.int_learner_days_aggregated": True,
    "intermediate.int_learner_activity_runs": False,
    "intermediate.int_learner_modules_completed": False,
    "intermediate.int_learner_daily_points": True,
    "marts.learner_domain_weekly": False,
    "marts.cohort_engagement_daily": True,
    "marts.cohort_weekly_activity": False,
}
EVENTS = ("mission_progress", "assessment_attempts", "xapi")


def _rows(warehouse, table: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return sorted(con.execute(f"select * from {table}").fetchall(), key=repr)
    finally:
        con.close()


def _dbt(command: list[str], warehouse, tmp_path, *, with_parents: bool = False) -> None:
    """`dbt <command>` on the incremental models only, or with every model they read: a view
    keeps the as-of day of the run that created it, so models compared with each other must
    be built with the views they read."""
    models = [("+" if with_parents else "") + table.split(".")[1] for table in INCREMENTAL]
    done = run_dbt([*command, "--select", *models], warehouse, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]


def test_new_days_built_incrementally_equal_a_full_rebuild(small_batch, tmp_path):
    """Two days land one after the other, each built incrementally: a run of active days,
    say, is extended twice before the full rebuild computes it at once."""
    landing = tmp_path / "landing"
    shutil.copytree(small_batch.landing / "reference", landing / "reference")
    held_back = {}
    for source in EVENTS:
        files = sorted((small_batch.landing / source).glob("*.jsonl"))
        (landing / source).mkdir(parents=True)
        for path in files[:-2]:
            shutil.copy2(path, landing / source / path.name)
        held_back[source] = files[-2:]
    warehouse = tmp_path / "warehouse.duckdb"
    quick = ForecastSettings(draws=50)  # the forecast is not what this test is about
    # The first days: loaded, and only these models built (the whole pipeline runs below).
    assert run_all(landing, warehouse, ingestion_only=True).ok
    assert run_dbt(["run"], warehouse, tmp_path).returncode == 0
    before = {table: len(_rows(warehouse, table)) for table in INCREMENTAL}

    for day in range(2):
        for source, paths in held_back.items():
            shutil.copy2(paths[day], landing / source / paths[day].name)
        # The first day through the whole pipeline; the second loaded, then just these models.
        report = run_all(landing, warehouse, ingestion_only=day == 1, forecast_settings=quick)
        assert report.ok, report.error
        assert sorted(s.source for s in report.sources) == sorted(EVENTS), "one new file each"
    _dbt(["run"], warehouse, tmp_path, with_parents=True)

    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(warehouse, rebuilt)
    _dbt(["run", "--full-refresh"], rebuilt, tmp_path, with_parents=True)
    for table, grows_every_day in INCREMENTAL.items():
        incremental = _rows(warehouse, table)
        if grows_every_day:
            assert len(incremental) > before[table], f"{table} took in the new days"
        assert incremental == _rows(rebuilt, table), table


def test_records_landing_after_their_day_was_built_are_taken_in(built_program, tmp_path):
    """Weeks after their days were built, three records land: a statement on the one quiet
    day between two runs of a learner's active days, a module completion of another learner,
    and an early graded attempt. An incremental run takes each in where a full rebuild would."""
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    shutil.copytree(built_program.landing, landing)
    shutil.copy(built_program.warehouse, warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    learner, first_start, gap_day, second_end, statement = con.execute(
        "select a.learner_id, a.run_start, a.run_end + 1, b.run_end, any_value(s.statement)"
        " from intermediate.int_learner_activity_runs a"
        " join intermediate.int_learner_activity_runs b"
        " on a.learner_id = b.learner_id and b.run_start = a.run_end + 2"
        " join raw.xapi_statements s on s.learner_id = a.learner_id"
        " group by all order by all limit 1"
    ).fetchone()
    module, completion = con.execute(
        "select m.module_id, any_value(s.statement)"
        " from intermediate.int_learner_modules_completed m join raw.xapi_statements s"
        " on s.learner_id = m.learner_id and s.activity_ref = m.module_id"
        " and s.verb_name = 'completed' group by all order by all limit 1"
    ).fetchone()
    (newcomer,) = con.execute(
        "select learner_id from raw.learners where learner_id not in (select learner_id from"
        " intermediate.int_learner_modules_completed where module_id = ?) order by 1 limit 1",
        [module],
    ).fetchone()
    con.close()
    quiet_day = json.loads(statement) | {
        "id": str(uuid.uuid4()),
        "timestamp": f"{gap_day.isoformat()}T12:00:00.000Z",
    }
    completed = json.loads(completion)
    completed["id"], completed["actor"]["account"]["name"] = str(uuid.uuid4()), newcomer
    (landing / "xapi" / "xapi_late.jsonl").write_text(
        "\n".join(json.dumps(record) for record in (quiet_day, completed))
    )
    attempts = sorted((landing / "assessment_attempts").glob("*.jsonl"))[0]
    graded = next(
        record
        for record in map(json.loads, attempts.read_text().splitlines())
        if record["status"] == "graded"
    )
    late_attempt = graded | {"attempt_id": str(uuid.uuid4()), "attempt_number": 9}
    (landing / "assessment_attempts" / "assessment_attempts_late.jsonl").write_text(
        json.dumps(late_attempt)
    )
    report = run_all(landing, warehouse, ingestion_only=True)
    assert report.ok and sum(s.rows_loaded for s in report.sources) == 3, report.error

    _dbt(["run"], warehouse, tmp_path)

    con = duckdb.connect(str(warehouse), read_only=True)
    runs = con.execute(
        "select run_start, run_end from intermediate.int_learner_activity_runs"
        " where learner_id = ? and run_start between ? and ?",
        [learner, first_start, second_end],
    ).fetchall()
    assert runs == [(first_start, second_end)], "the quiet day joined the two runs into one"
    assert con.execute(
        "select count(*) from intermediate.int_learner_modules_completed"
        " where learner_id = ? and module_id = ?",
        [newcomer, module],
    ).fetchone() == (1,)
    counted, landed = con.execute(
        "select (select sum(n_statements) from intermediate.int_learner_days_aggregated),"
        " (select count(*) from raw.xapi_statements)"
    ).fetchone()
    con.close()
    assert counted == landed, "every statement counted"
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(warehouse, rebuilt)
    _dbt(["run", "--full-refresh"], rebuilt, tmp_path)
    for table in INCREMENTAL:
        assert _rows(warehouse, table) == _rows(rebuilt, table), table


def test_a_statement_the_daily_aggregates_missed_is_reported(built_program, tmp_path):
    """The safety net: a statement written with the load time of an earlier one, as if the
    loader had not stamped it, is not seen as late; the check says so."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_program.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute(
        "insert into raw.xapi_statements select * replace (uuid() as statement_id)"
        ' from raw.xapi_statements order by "timestamp" limit 1'
    )  # the first day's statement again, under a new id: late by the whole program
    con.close()
    check = "every_statement_counted_by_the_daily_aggregates"

    def build(*flags: str) -> tuple[str, int]:
        run_dbt(
            ["build", *flags, "--select", "int_learner_days_aggregated", check],
            warehouse,
            tmp_path,
            check=True,
        )
        results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
        (test,) = [
            r for r in results if r["unique_id"].startswith("test.") and check in r["unique_id"]
        ]
        return test["status"], test["failures"]

    assert build() == ("warn", 1), "the incremental build left it out, and says so"
    assert build("--full-refresh") == ("pass", 0)


def test_a_version_arriving_out_of_order_updates_its_attempt(built_program, tmp_path):
    """A new version of the program's earliest-settled attempt lands after every other
    attempt's latest version was built: older than all of them, and still its attempt's
    current state."""
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    shutil.copytree(built_program.landing, landing)
    shutil.copy(built_program.warehouse, warehouse)
    versions = [
        json.loads(line)
        for path in sorted((landing / "mission_progress").glob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]
    latest = {}
    for version in versions:  # ISO 8601 UTC strings of one format sort as times
        if version["updated_at"] >= latest.get(version["progress_id"], {}).get("updated_at", ""):
            latest[version["progress_id"]] = version
    early = min(latest.values(), key=lambda v: v["updated_at"])
    updated = dt.datetime.fromisoformat(early["updated_at"]) + dt.timedelta(seconds=1)
    late = {
        **early,
        "updated_at": updated.isoformat().replace("+00:00", "Z"),
        "hints_used": [*(early.get("hints_used") or []), "a hint taken late"],
    }
    assert late["updated_at"] < max(v["updated_at"] for v in versions), "older than the rest"
    (landing / "mission_progress" / "mission_progress_late.jsonl").write_text(json.dumps(late))
    report = run_all(landing, warehouse, ingestion_only=True)
    assert report.ok and sum(s.rows_loaded for s in report.sources) == 1, report.error

    _dbt(["run"], warehouse, tmp_path)
    fact = "marts.fct_mission_attempts"
    (hints,) = (
        duckdb.connect(str(warehouse), read_only=True)
        .execute(f"select hints_used from {fact} where progress_id = ?", [early["progress_id"]])
        .fetchone()
    )
    assert hints == len(late["hints_used"]), "the late version is the attempt's current state"
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(warehouse, rebuilt)
    _dbt(["run", "--full-refresh"], rebuilt, tmp_path)
    assert _rows(warehouse, fact) == _rows(rebuilt, fact)


def test_a_warehouse_built_before_the_model_watermarks_still_compiles_and_builds(
    built_program, tmp_path
):
    """An upgrade: incremental tables exist, audit.dbt_model_watermarks does not. Compiling
    (no on-run-start hook creates it) reads no watermark; the next build records them."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_program.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute("drop table audit.dbt_model_watermarks")
    con.close()
    _dbt(["compile"], warehouse, tmp_path)
    _dbt(["build"], warehouse, tmp_path)
    watermarked = {row[0] for row in _rows(warehouse, "audit.dbt_model_watermarks")}
    assert watermarked == {
        table.split(".")[1]
        for table in INCREMENTAL
        if not table.endswith(("fct_mission_attempts", "fct_assessment_attempts"))
    }


def test_a_late_voiding_takes_its_target_out_of_every_model(built_program, tmp_path):
    """Weeks after their days were built, two statements are voided: the only statement of a
    learner's day, and a learner's only completion of a module. An incremental run drops both
    where a full rebuild would: the day and the completion are gone, not left stale."""
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    shutil.copytree(built_program.landing, landing)
    shutil.copy(built_program.warehouse, warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    lone, learner, day = con.execute(
        "select any_value(statement_id)::varchar, learner_id, cast(timestamp as date)"
        " from raw.xapi_statements group by all having count(*) = 1 order by all limit 1"
    ).fetchone()
    only_completion, completer, module = con.execute(
        "select any_value(statement_id)::varchar, learner_id, activity_ref"
        " from raw.xapi_statements where verb_name = 'completed' and activity_kind = 'module'"
        " group by all having count(*) = 1 order by all limit 1"
    ).fetchone()
    con.close()
    voidings = [
        {
            "id": str(uuid.uuid4()),
            "actor": {"mbox": "mailto:lrs-admin@cohortlens.example"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": target},
            "timestamp": dt.datetime.now(dt.UTC).isoformat(),
        }
        for target in (lone, only_completion)
    ]
    (landing / "xapi" / "xapi_voidings.jsonl").write_text(
        "\n".join(json.dumps(v) for v in voidings)
    )
    report = run_all(landing, warehouse, ingestion_only=True)
    assert report.ok, report.error

    _dbt(["run"], warehouse, tmp_path)

    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute(
        "select count(*) from intermediate.int_learner_days_aggregated"
        " where learner_id = ? and activity_date = ?",
        [learner, day],
    ).fetchone() == (0,)
    assert con.execute(
        "select count(*) from intermediate.int_learner_modules_completed"
        " where learner_id = ? and module_id = ?",
        [completer, module],
    ).fetchone() == (0,)
    counted, landed = con.execute(
        "select (select sum(n_statements) from intermediate.int_learner_days_aggregated),"
        " (select count(*) from raw.xapi_statements where voided_by is null"
        " and voided_statement_id is null)"
    ).fetchone()
    con.close()
    assert counted == landed, "every statement counted but the voided and the voiding"
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(warehouse, rebuilt)
    _dbt(["run", "--full-refresh"], rebuilt, tmp_path)
    for table in INCREMENTAL:
        assert _rows(warehouse, table) == _rows(rebuilt, table), table


def test_a_build_as_of_a_past_day_leaves_the_later_records_for_the_next(built_program, tmp_path):
    """Backfills as of past days, with the whole program loaded, leave out what happened after
    each day; the next build, as of a later day, is incremental and must take those records in
    though they were loaded before (no load is newer than the last build), from an empty fact
    (the day before the program) and from a file the backfill took other records of."""
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    shutil.copytree(built_program.landing, landing)
    shutil.copy(built_program.warehouse, warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    first, last = con.execute(
        "select min(cast(updated_at as date)), max(cast(updated_at as date))"
        " from raw.mission_progress"
    ).fetchone()
    con.close()
    past = first + (last - first) / 2
    # One more file of assessment attempts: one graded before the past day, one after.
    graded = [
        json.loads(line)
        for path in sorted((landing / "assessment_attempts").glob("*.jsonl"))
        for line in path.read_text().splitlines()
        if '"graded"' in line
    ]
    before = next(a for a in graded if a["graded_at"] < past.isoformat())
    after = next(a for a in graded if a["graded_at"] > (past + dt.timedelta(days=1)).isoformat())
    (landing / "assessment_attempts" / "assessment_attempts_straddling.jsonl").write_text(
        "\n".join(
            json.dumps(a | {"attempt_id": str(uuid.uuid4()), "attempt_number": 9})
            for a in (before, after)
        )
    )
    report = run_all(landing, warehouse, ingestion_only=True)
    assert report.ok and sum(s.rows_loaded for s in report.sources) == 2, report.error

    def as_of(day: dt.date) -> list[str]:
        return ["--vars", json.dumps({"as_of_date": day.isoformat()})]

    # The day before the program: the attempt facts are built empty.
    day_before = as_of(first - dt.timedelta(days=1))
    _dbt(["run", "--full-refresh", *day_before], warehouse, tmp_path, with_parents=True)
    for fact in ("marts.fct_mission_attempts", "marts.fct_assessment_attempts"):
        assert _rows(warehouse, fact) == [], fact
    before = {table: len(_rows(warehouse, table)) for table in INCREMENTAL}
    for day in (past, last):
        _dbt(["run", *as_of(day)], warehouse, tmp_path, with_parents=True)
        rebuilt = tmp_path / "rebuilt.duckdb"
        shutil.copy(warehouse, rebuilt)
        _dbt(["run", "--full-refresh", *as_of(day)], rebuilt, tmp_path, with_parents=True)
        for table in INCREMENTAL:
            incremental = _rows(warehouse, table)
            if INCREMENTAL[table]:
                assert len(incremental) > before[table], f"{table} took in the days to {day}"
            assert incremental == _rows(rebuilt, table), (table, day)
        before = {table: len(_rows(warehouse, table)) for table in INCREMENTAL}
