"""Exactly once: re-runs, re-sent files and repeated ids change nothing; versions resolve the same
way whatever order they arrive in; a new day reads only the new day's files."""

from __future__ import annotations

import copy
import shutil


def test_running_again_changes_no_row(few_days, snapshot):
    first = few_days.load()
    before = snapshot(few_days.warehouse)
    again = few_days.load()
    assert first and again == [], "files already read are not read again"
    assert snapshot(few_days.warehouse) == before


def test_a_re_sent_file_under_another_name_loads_nothing(few_days, snapshot):
    few_days.load()
    before = snapshot(few_days.warehouse)
    original = sorted((few_days.root / "xapi").glob("*.jsonl"))[3]
    (few_days.root / "resent").mkdir()
    shutil.copy(original, few_days.root / "resent" / "xapi_resent_by_the_lrs.jsonl")

    (outcome,) = few_days.load()

    assert outcome.status == "duplicate"
    assert f"same content as xapi/{original.name}" in outcome.reason
    after = snapshot(few_days.warehouse)
    assert after["raw.xapi_statements"] == before["raw.xapi_statements"]
    assert after["audit.quarantine"] == before["audit.quarantine"]


def test_the_same_content_twice_in_one_batch_loads_once(reference_only):
    statements = reference_only.sample("xapi", 4)
    first = reference_only.write_lines("xapi/xapi_2026-01-10.jsonl", statements)
    (reference_only.root / "xapi" / "xapi_2026-01-10_again.jsonl").write_bytes(first.read_bytes())

    outcomes = {o.file_name: o for o in reference_only.load()}

    original, again = (
        outcomes["xapi/xapi_2026-01-10.jsonl"],
        outcomes["xapi/xapi_2026-01-10_again.jsonl"],
    )
    assert (original.status, original.rows_loaded) == ("loaded", 4)
    assert again.status == "duplicate" and "xapi/xapi_2026-01-10.jsonl" in again.reason
    assert reference_only.scalar("select count(*) from raw.xapi_statements") == 4
    audited = reference_only.query(
        "select status, duplicate_of is not null from audit.ingested_files"
        " where source = 'xapi' order by file_id"
    )
    assert audited == [("loaded", False), ("duplicate", True)]


def test_a_repeated_statement_id_loads_once(reference_only):
    a, b, c = reference_only.sample("xapi", 3)
    reference_only.write_lines("xapi/xapi_2026-01-10.jsonl", [a, b, a])
    reference_only.write_lines("xapi/xapi_2026-01-11.jsonl", [b, c])

    outcomes = {o.file_name: o for o in reference_only.load()}

    day1, day2 = outcomes["xapi/xapi_2026-01-10.jsonl"], outcomes["xapi/xapi_2026-01-11.jsonl"]
    assert (day1.rows_read, day1.rows_loaded, day1.rows_duplicate) == (3, 2, 1)
    assert (day2.rows_read, day2.rows_loaded, day2.rows_duplicate) == (2, 1, 1)
    assert reference_only.scalar("select count(*) from raw.xapi_statements") == 3
    kept = reference_only.scalar(
        "select record_number from raw.xapi_statements where statement_id = ?", [a["id"]]
    )
    assert kept == 1, "the first copy is the one kept"


def test_cdc_versions_arriving_out_of_order_resolve_to_the_latest(reference_only):
    (record,) = reference_only.sample("mission_progress")
    early = record | {
        "status": "in_progress",
        "final_status": "pending",
        "updated_at": "2026-01-05T10:00:00.000Z",
    }
    late = record | {
        "status": "approved",
        "final_status": "pass",
        "mentor_score": 81.0,
        "updated_at": "2026-01-07T10:00:00.000Z",
    }
    # The later version lands first; the earlier one a day after.
    reference_only.write_lines("mission_progress/mission_progress_2026-01-07.jsonl", [late])
    reference_only.write_lines("mission_progress/mission_progress_2026-01-08.jsonl", [early])
    reference_only.load()

    assert reference_only.scalar("select count(*) from raw.mission_progress") == 2
    current = reference_only.query(
        "select status, mentor_score from raw.mission_progress_current where progress_id = ?",
        [record["progress_id"]],
    )
    assert current == [("approved", 81.0)]


def test_cdc_versions_with_the_same_time_resolve_the_same_way_in_any_order(
    reference_only, tmp_path
):
    (record,) = reference_only.sample("mission_progress")
    at = "2026-01-07T10:00:00.000Z"
    submitted = record | {"status": "submitted", "updated_at": at}
    reviewed = record | {"status": "mentor_review", "updated_at": at}
    results = []
    for order in ([submitted, reviewed], [reviewed, submitted]):
        landing = copy.copy(reference_only)
        landing.warehouse = tmp_path / f"w{len(results)}.duckdb"
        shutil.rmtree(landing.root / "mission_progress", ignore_errors=True)
        landing.write_lines("mission_progress/mission_progress_2026-01-07.jsonl", order)
        landing.load()
        results.append(
            landing.scalar(
                "select status from raw.mission_progress_current where progress_id = ?",
                [record["progress_id"]],
            )
        )
    assert results == ["mentor_review", "mentor_review"], "the later lifecycle status wins a tie"


def test_an_attempt_advances_but_never_goes_back(reference_only):
    graded = next(a for a in reference_only.sample("assessment_attempts", 20) if a["answers"])
    started = copy.deepcopy(graded) | {
        "status": "in_progress",
        "percentage": None,
        "graded_at": None,
        "answers": [],
    }
    started = {k: v for k, v in started.items() if v is not None}
    reference_only.write_lines("assessment_attempts/assessment_attempts_1.jsonl", [started])
    reference_only.load()
    reference_only.write_lines("assessment_attempts/assessment_attempts_2.jsonl", [graded])
    (advanced,) = reference_only.load()
    submitted = graded | {"status": "submitted"}
    reference_only.write_lines("assessment_attempts/assessment_attempts_3.jsonl", [submitted])
    (back,) = reference_only.load()

    assert advanced.rows_loaded == 1
    assert back.rows_quarantined == 1
    rows = reference_only.query("select status, percentage from raw.assessment_attempts")
    assert rows == [("graded", graded["percentage"])]
    answers = reference_only.scalar("select count(*) from raw.assessment_answers")
    assert answers == len(graded["answers"])
    (reason,) = reference_only.query("select reason from audit.quarantine")[0]
    assert "already loaded with status graded" in reason


def test_a_new_day_reads_only_the_new_days_files(few_days, small_batch):
    few_days.load()
    for source in ("mission_progress", "assessment_attempts", "xapi"):
        eleventh = sorted((small_batch.landing / source).glob("*.jsonl"))[10]
        shutil.copy2(eleventh, few_days.root / source / eleventh.name)
    outcomes = few_days.load()
    assert sorted(o.source for o in outcomes) == ["assessment_attempts", "mission_progress", "xapi"]


def test_a_statement_already_loaded_is_a_duplicate_in_a_later_file(reference_only):
    a, b, c = reference_only.sample("xapi", 3)
    reference_only.write_lines("xapi/xapi_2026-01-10.jsonl", [a])
    reference_only.load()
    reference_only.write_lines("xapi/xapi_2026-01-11.jsonl", [b, a, c | {"version": "2.0.0"}])

    (day2,) = [o for o in reference_only.load() if o.source == "xapi"]

    assert (day2.rows_read, day2.rows_loaded, day2.rows_duplicate) == (3, 1, 1)
    assert day2.rows_quarantined == 1
    assert reference_only.scalar("select count(*) from raw.xapi_statements") == 2
    kept = reference_only.query(
        "select f.file_name, s.record_number from raw.xapi_statements s"
        " join audit.ingested_files f using (file_id) where s.statement_id = ?",
        [a["id"]],
    )
    assert kept == [("xapi/xapi_2026-01-10.jsonl", 1)], "the copy loaded first stays"
    assert reference_only.scalar("select count(*) from audit.quarantine") == 1


def test_two_copies_of_a_file_without_json_in_one_batch_both_fail(reference_only):
    folder = reference_only.root / "xapi"
    folder.mkdir(exist_ok=True)
    for name in ("xapi_a.jsonl", "xapi_b.jsonl"):
        (folder / name).write_bytes(b"not json\nnor this\n")

    outcomes = [o for o in reference_only.load() if o.source == "xapi"]

    assert [(o.status, o.reason) for o in outcomes] == [
        ("failed", "not JSON Lines: none of its 2 lines is JSON")
    ] * 2
    assert reference_only.scalar("select count(*) from audit.quarantine") == 0
