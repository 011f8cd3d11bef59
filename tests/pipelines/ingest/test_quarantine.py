"""Every kind of bad record lands in audit.quarantine with a reason a person understands, while
the good records beside it load exactly once."""

from __future__ import annotations

import copy
import gzip
import json

import pytest

from pipelines.ingest import reconcile
from pipelines.ingest.sources import SOURCES
from pipelines.warehouse import open_writer

FUTURE = "2099-01-01T00:00:00.000Z"


def _set(record: dict, path: str, value) -> dict:
    """A copy of record with the dotted path set (value None removes the key)."""
    out = copy.deepcopy(record)
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node[key]
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value
    return out


def _with_new_id(record: dict, key: str, n: int) -> dict:
    out = copy.deepcopy(record)
    out[key] = f"00000000-0000-4000-8000-{n:012d}"
    return out


def _quarantine(landing, source: str) -> dict[int, str]:
    return dict(
        landing.query(
            "select record_number, reason from audit.quarantine where source = ?", [source]
        )
    )


def _assert_reconciled(landing) -> None:
    with open_writer(landing.warehouse) as con:
        for source in SOURCES.values():
            assert reconcile.mismatches(con, source) == [], source.name


XAPI_CASES = [
    # (what is wrong, how to break a good statement, words the reason must contain)
    ("not JSON", lambda s: '{"id": "broken', "not valid JSON"),
    ("an array", lambda s: "[1, 2, 3]", "not a JSON object"),
    ("no actor", lambda s: _set(s, "actor", None), "missing required field actor"),
    ("no verb id", lambda s: _set(s, "verb.id", None), "missing required field verb.id"),
    ("no object", lambda s: _set(s, "object", None), "missing required field object"),
    ("null verb", lambda s: s | {"verb": None}, "missing required field verb"),
    (
        "scaled above 1",
        lambda s: _set(s, "result", {"score": {"scaled": 1.5}}),
        "result.score.scaled 1.5 is not between -1 and 1",
    ),
    (
        "scaled as text",
        lambda s: _set(s, "result", {"score": {"scaled": "high"}}),
        'result.score.scaled must be a number, got "high"',
    ),
    (
        "scaled below -1",
        lambda s: _set(s, "result", {"score": {"scaled": -1.5}}),
        "result.score.scaled -1.5 is not between -1 and 1",
    ),
    (
        "raw score a boolean",
        lambda s: _set(s, "result", {"score": {"raw": True}}),
        "result.score.raw must be a number, got true",
    ),
    ("result as text", lambda s: _set(s, "result", "done"), 'result must be an object, got "done"'),
    ("version 2", lambda s: _set(s, "version", "2.0.0"), 'version must be 1.0.x, got "2.0.0"'),
    ("version empty", lambda s: _set(s, "version", ""), 'version must be 1.0.x, got ""'),
    ("future", lambda s: _set(s, "timestamp", FUTURE), "is in the future"),
    (
        "bad timestamp",
        lambda s: _set(s, "timestamp", "yesterday"),
        'timestamp must be an ISO 8601 timestamp, got "yesterday"',
    ),
    (
        "unknown learner",
        lambda s: _set(s, "actor.account.name", "L9999999"),
        "unknown learner: actor account L9999999 on https://learn.cohortlens.example",
    ),
    (
        "unknown email",
        lambda s: s | {"actor": {"mbox": "mailto:nobody@example.org"}},
        "unknown learner: actor mailto:nobody@example.org",
    ),
    (
        "two identifiers",
        lambda s: _set(s, "actor.mbox", "mailto:a@example.org"),
        "an Agent actor has exactly one of mbox, mbox_sha1sum, openid, account; this one has 2",
    ),
    (
        "no identifier",
        lambda s: s | {"actor": {"objectType": "Agent", "name": "Ann"}},
        "an Agent actor has exactly one of",
    ),
    (
        "mbox not mailto",
        lambda s: s | {"actor": {"mbox": "a@example.org"}},
        "actor.mbox a@example.org is not a mailto: IRI",
    ),
    (
        "sha1 too short",
        lambda s: s | {"actor": {"mbox_sha1sum": "abc123"}},
        "actor.mbox_sha1sum abc123 is not a SHA-1 in hex",
    ),
    (
        "account without homePage",
        lambda s: _set(s, "actor.account.homePage", None),
        "actor.account needs both homePage and name",
    ),
    (
        "group of nobody",
        lambda s: s | {"actor": {"objectType": "Group", "name": "Team"}},
        "an anonymous Group actor must list its member",
    ),
    (
        "members not a list",
        lambda s: s | {"actor": {"objectType": "Group", "member": "everyone"}},
        "actor.member must be an array",
    ),
    (
        "group type misspelled",
        lambda s: _set(s, "actor.objectType", "Team"),
        'actor.objectType "Team" is not one of Agent, Group',
    ),
    (
        "voiding an activity",
        lambda s: _set(s, "verb.id", "http://adlnet.gov/expapi/verbs/voided"),
        "a voiding statement (verb voided) must have a StatementRef object",
    ),
    (
        "statement ref not a UUID",
        lambda s: s | {"object": {"objectType": "StatementRef", "id": "abc"}},
        "object.id abc of a StatementRef is not a UUID",
    ),
    (
        "activity without id",
        lambda s: s | {"object": {"objectType": "Activity"}},
        "missing required field object.id",
    ),
    (
        "sub-statement without verb",
        lambda s: (
            s
            | {"object": {"objectType": "SubStatement", "actor": s["actor"], "object": s["object"]}}
        ),
        "a SubStatement object needs actor, verb and object",
    ),
    ("id not a UUID", lambda s: _set(s, "id", "abc"), 'id must be a UUID, got "abc"'),
    # UUIDs and timestamps are parsed straight to their type; the text is looked up only here.
    ("id a number", lambda s: _set(s, "id", 73), "id must be a UUID, got 73"),
    ("id null", lambda s: s | {"id": None}, "missing required field id"),
    ("no timestamp", lambda s: _set(s, "timestamp", None), "missing required field timestamp"),
    (
        "timestamp infinity",
        lambda s: _set(s, "timestamp", "infinity"),
        'timestamp must be an ISO 8601 timestamp, got "infinity"',
    ),
    (
        "timestamp far ahead",
        lambda s: _set(s, "timestamp", "2999-01-01T00:00:00Z"),
        'timestamp "2999-01-01T00:00:00Z" is in the future',
    ),
    (
        "registration an object",
        lambda s: _set(s, "context.registration", {"id": 1}),
        'context.registration must be a UUID, got {"id":1}',
    ),
    ("verb not an IRI", lambda s: _set(s, "verb.id", "completed"), "is not an IRI"),
    (
        "bad duration",
        lambda s: _set(s, "result", {"duration": "6 hours"}),
        "result.duration 6 hours is not an ISO 8601 duration",
    ),
    (
        "unknown mission",
        lambda s: _set(s, "object.id", "https://cohortlens.example/xapi/activities/mission/NOPE-1"),
        "unknown mission NOPE-1 in object.id",
    ),
    (
        "success as text",
        lambda s: _set(s, "result", {"success": "yes"}),
        "result.success must be true or false",
    ),
]


def test_each_broken_xapi_rule_is_quarantined_with_its_reason(reference_only):
    good = reference_only.sample("xapi", 3 + len(XAPI_CASES))
    records = good[:3] + [breaks(good[3 + n]) for n, (_, breaks, _) in enumerate(XAPI_CASES)]
    reference_only.write_lines("xapi/xapi_2026-01-10.jsonl", records)

    (outcome,) = [o for o in reference_only.load() if o.source == "xapi"]

    assert (outcome.rows_read, outcome.rows_loaded) == (len(records), 3)
    assert outcome.rows_quarantined == len(XAPI_CASES)
    reasons = _quarantine(reference_only, "xapi")
    for n, (what, _, words) in enumerate(XAPI_CASES):
        assert words in reasons[4 + n], f"{what}: {reasons[4 + n]!r}"
    payloads = reference_only.query("select payload from audit.quarantine order by record_number")
    assert payloads[0][0] == '{"id": "broken', "the payload is kept exactly as it came"
    _assert_reconciled(reference_only)


def test_a_record_breaking_several_rules_lists_every_one(reference_only):
    (statement,) = reference_only.sample("xapi")
    bad = _set(_set(statement, "version", "0.9"), "timestamp", FUTURE)
    reference_only.write_lines("xapi/xapi_x.jsonl", [bad])
    reference_only.load()
    (reason,) = _quarantine(reference_only, "xapi").values()
    assert "timestamp" in reason and 'version must be 1.0.x, got "0.9"' in reason and "; " in reason


def _escaped(text: str) -> str:
    """Every character of a JSON string's content spelled as a \\u escape (the same value)."""
    return "".join(f"\\u{ord(c):04x}" for c in text)


def test_values_spelled_with_escapes_are_read_as_their_values(reference_only):
    spelled, quoting, wrong = reference_only.sample("xapi", 3)
    line = json.dumps(spelled)
    for value in (spelled["actor"]["account"]["name"], spelled["verb"]["id"], "Agent", "Activity"):
        line = line.replace(json.dumps(value), f'"{_escaped(value)}"')
    odd_type = 'https://cohortlens.example/types/"quoted"\\back'
    quoting["object"]["definition"] = {"type": odd_type}
    wrong["actor"]["objectType"] = 'Agent"'
    reference_only.write_lines("xapi/xapi_2026-01-10.jsonl", [line, quoting, wrong])

    (outcome,) = [o for o in reference_only.load() if o.source == "xapi"]

    assert (outcome.rows_loaded, outcome.rows_quarantined) == (2, 1)
    rows = reference_only.query(
        "select learner_id, verb_id, activity_type from raw.xapi_statements order by record_number"
    )
    assert rows[0][:2] == (spelled["actor"]["account"]["name"], spelled["verb"]["id"])
    assert rows[1][2] == odd_type
    (reason,) = _quarantine(reference_only, "xapi").values()
    assert reason == 'actor.objectType "Agent\\"" is not one of Agent, Group'


PROGRESS_CASES = [
    ("mentor", lambda r: r | {"mentor_score": 140}, "mentor_score 140 is not between 0 and 100"),
    ("unknown status", lambda r: r | {"status": "done"}, 'status "done" is not one of not_started'),
    ("unknown mission", lambda r: r | {"mission_id": "XYZ-1"}, 'unknown mission_id "XYZ-1"'),
    ("subtask 120", lambda r: r | {"subtask_scores": {"1": 120}}, 'subtask_scores entry "1": 120'),
    ("rubric 1.5", lambda r: r | {"rubric_scores": {"methodology": 1.5}}, "rubric_scores entry"),
    ("no updated_at", lambda r: _set(r, "updated_at", None), "missing required field updated_at"),
    ("attempt 0", lambda r: r | {"attempt_number": 0}, "attempt_number 0 is below 1"),
    ("drop-off 9", lambda r: r | {"drop_off_stage": 9}, "drop_off_stage 9 is not between 1 and 8"),
]


def test_each_broken_mission_progress_rule_is_quarantined(reference_only):
    good = reference_only.sample("mission_progress", 1 + len(PROGRESS_CASES))
    records = [good[0]] + [
        _with_new_id(breaks(good[1 + n]), "progress_id", n)
        for n, (_, breaks, _) in enumerate(PROGRESS_CASES)
    ]
    reference_only.write_lines("mission_progress/mission_progress_2026-01-10.jsonl", records)
    (outcome,) = [o for o in reference_only.load() if o.source == "mission_progress"]
    assert outcome.rows_loaded == 1 and outcome.rows_quarantined == len(PROGRESS_CASES)
    reasons = _quarantine(reference_only, "mission_progress")
    for n, (what, _, words) in enumerate(PROGRESS_CASES):
        assert words in reasons[2 + n], f"{what}: {reasons[2 + n]!r}"


def test_each_broken_assessment_attempt_rule_is_quarantined(reference_only):
    good = [a for a in reference_only.sample("assessment_attempts", 50) if a["answers"]][:5]
    other_question = "DEF-BEG-MOD1-QUIZ-Q01"
    foreign = next(a for a in good[1:] if not a["assessment_id"].startswith("DEF-BEG-MOD1-QUIZ"))
    cases = [
        (good[1] | {"percentage": 130}, "percentage 130 is not between 0 and 100"),
        (good[2] | {"assessment_id": "NOPE-QUIZ"}, 'unknown assessment_id "NOPE-QUIZ"'),
        (
            foreign
            | {
                "answers": [{"question_id": other_question, "is_correct": True, "points_earned": 1}]
            },
            f"answer 1: question {other_question} is not part of",
        ),
        (_set(good[4], "percentage", None), "status graded but percentage is missing"),
    ]
    records = [good[0]] + [_with_new_id(r, "attempt_id", n) for n, (r, _) in enumerate(cases)]
    reference_only.write_lines("assessment_attempts/assessment_attempts_2026-01-10.jsonl", records)
    (outcome,) = [o for o in reference_only.load() if o.source == "assessment_attempts"]
    assert outcome.rows_loaded == 1 and outcome.rows_quarantined == len(cases)
    reasons = _quarantine(reference_only, "assessment_attempts")
    for n, (_, words) in enumerate(cases):
        assert words in reasons[2 + n], reasons[2 + n]
    answers = reference_only.scalar("select count(*) from raw.assessment_answers")
    assert answers == len(good[0]["answers"]), "answers are unnested, one row per question"


def test_bad_reference_rows_are_quarantined_and_the_rest_replace_the_snapshot(reference_only):
    learners = (reference_only.root / "reference" / "learners.csv").read_text().splitlines()
    header, first, second, third = learners[:4]
    bad_tier = second.replace(second.split(",")[5], "gold")
    rows = [header, first, bad_tier, third, third]  # a tier no one sells, then a repeated id
    (reference_only.root / "reference" / "learners_2026-02-01.csv").write_text("\n".join(rows))
    outcomes = [o for o in reference_only.load() if o.source == "learners"]
    assert [(o.rows_read, o.rows_loaded, o.rows_quarantined) for o in outcomes] == [(4, 2, 2)]
    reasons = sorted(_quarantine(reference_only, "learners").values())
    assert any(
        "subscription_tier 'gold' is not one of free, starter3, professional7" in r for r in reasons
    )
    assert any("repeats record 3 of this file" in r for r in reasons)
    assert reference_only.scalar("select count(*) from raw.learners") == 2, "latest file wins"


def _learner_joins(landing, learner_id: str) -> None:
    """A newer learners snapshot: everyone before, and `learner_id` (a copy of the first)."""
    learners = (landing.root / "reference" / "learners.csv").read_text().splitlines()
    joined = learners[1].replace(learners[1].split(",")[0], learner_id, 1)
    (landing.root / "reference" / "learners_2026-02-01.csv").write_text(
        "\n".join([*learners, joined]) + "\n"
    )


def test_records_naming_an_unknown_learner_load_once_a_snapshot_has_the_learner(
    reference_only, snapshot
):
    good, early, still_bad = reference_only.sample("xapi", 3)
    newcomer = "L9000001"
    early = _set(early, "actor.account.name", newcomer)
    still_bad = _set(_set(still_bad, "actor.account.name", newcomer), "timestamp", FUTURE)
    reference_only.write_lines("xapi/xapi_2026-01-10.jsonl", [good, early, still_bad])
    reference_only.load()
    assert reference_only.scalar("select count(*) from audit.quarantine") == 2

    # The learner arrives in a new snapshot; the same statement is re-sent in a later file.
    _learner_joins(reference_only, newcomer)
    reference_only.write_lines("xapi/xapi_2026-02-02.jsonl", [early])
    reference_only.load()

    loaded = reference_only.query(
        "select f.file_name, s.record_number from raw.xapi_statements s"
        " join audit.ingested_files f using (file_id) where s.learner_id = ?",
        [newcomer],
    )
    assert loaded == [("xapi/xapi_2026-02-02.jsonl", 1)], "the re-sent copy loads, once"
    counts = reference_only.query(
        "select rows_read, rows_loaded, rows_quarantined, rows_duplicate"
        " from audit.ingested_files where file_name = 'xapi/xapi_2026-01-10.jsonl'"
    )
    assert counts == [(3, 1, 1, 1)], "the released record is a duplicate of the re-sent copy"
    ((reason, rechecked),) = reference_only.query(
        "select reason, rechecked_at is not null from audit.quarantine where source = 'xapi'"
    )
    assert "is in the future" in reason and rechecked, "still bad: kept, with its reasons"
    _assert_reconciled(reference_only)
    before = snapshot(reference_only.warehouse)
    reference_only.load()
    assert snapshot(reference_only.warehouse) == before, "checked again only after new data"


def test_a_released_record_loads_into_its_own_file(reference_only):
    good, orphan = reference_only.sample("xapi", 2)
    orphan = _set(orphan, "actor.account.name", "L9000002")
    reference_only.write_lines("xapi/xapi_2026-01-10.jsonl", [good, orphan])
    reference_only.load()
    _learner_joins(reference_only, "L9000002")
    reference_only.load()
    assert reference_only.query(
        "select f.file_name, s.record_number, s.statement = q.payload from raw.xapi_statements s"
        " join audit.ingested_files f using (file_id), (select ? as payload) q"
        " where s.learner_id = 'L9000002'",
        [json.dumps(orphan)],
    ) == [("xapi/xapi_2026-01-10.jsonl", 2, True)]
    assert reference_only.scalar("select count(*) from audit.quarantine") == 0
    counts = reference_only.query(
        "select rows_loaded, rows_quarantined from audit.ingested_files"
        " where file_name = 'xapi/xapi_2026-01-10.jsonl'"
    )
    assert counts == [(2, 0)]
    # Stamped when it was released, after the rest of its file: "loaded since" sees it.
    assert reference_only.scalar(
        "select max(loaded_at) filter (where learner_id = 'L9000002')"
        " > max(loaded_at) filter (where learner_id <> 'L9000002') from raw.xapi_statements"
    )
    _assert_reconciled(reference_only)


def test_a_progress_record_of_an_unknown_learner_loads_once_the_learner_is_known(reference_only):
    (record,) = reference_only.sample("mission_progress")
    record = record | {"learner_id": "L9000003"}
    reference_only.write_lines("mission_progress/mission_progress_2026-01-10.jsonl", [record])
    reference_only.load()
    (reason,) = _quarantine(reference_only, "mission_progress").values()
    assert 'unknown learner_id "L9000003"' in reason
    _learner_joins(reference_only, "L9000003")
    reference_only.load()
    progress = reference_only.query(
        "select progress_id::varchar, record_number from raw.mission_progress"
        " where learner_id = 'L9000003'"
    )
    assert progress == [(record["progress_id"], 1)]
    _assert_reconciled(reference_only)


def test_unreadable_and_unknown_files_are_recorded_and_the_others_still_load(reference_only):
    (statement,) = reference_only.sample("xapi")
    root = reference_only.root
    good = json.dumps(statement).encode() + b"\n"
    (root / "xapi").mkdir(exist_ok=True)
    (root / "xapi" / "xapi_truncated.jsonl.gz").write_bytes(gzip.compress(good * 50)[:-20])
    (root / "xapi" / "xapi_notgzip.jsonl.gz").write_bytes(b"plain text, not gzip")
    (root / "xapi" / "xapi_latin1.jsonl").write_bytes('{"name": "Jos\xe9"}\n'.encode("latin-1"))
    (root / "xapi" / "xapi_binary.jsonl").write_bytes(b"PK\x03\x04 zip\nstill not json\n")
    (root / "xapi" / "xapi_good.jsonl.gz").write_bytes(gzip.compress(good))
    (root / "notes.txt").write_text("hello")
    (root / "xapi" / "xapi_export.csv").write_text("id\n1\n")
    (root / "reference" / "cohorts_2026.csv").write_text("cohort_id,org_id\nC9,ORG01\n")
    (root / ".xapi_inflight.jsonl.tmp").write_text("being written")

    outcomes = {o.file_name: o for o in reference_only.load()}

    expect = {
        "xapi/xapi_truncated.jsonl.gz": ("failed", "truncated gzip"),
        "xapi/xapi_notgzip.jsonl.gz": ("failed", "not a valid gzip file"),
        "xapi/xapi_latin1.jsonl": ("failed", "not UTF-8 text: byte 0xe9 at offset 13"),
        "xapi/xapi_binary.jsonl": ("failed", "not JSON Lines: none of its 2 lines is JSON"),
        "notes.txt": ("rejected", "matches no source"),
        "xapi/xapi_export.csv": ("rejected", "a xapi file must end in .jsonl or .jsonl.gz"),
        "reference/cohorts_2026.csv": ("failed", "missing columns: name, track, start_date"),
    }
    for name, (status, words) in expect.items():
        assert outcomes[name].status == status, name
        assert words in outcomes[name].reason, (name, outcomes[name].reason)
    assert outcomes["xapi/xapi_good.jsonl.gz"].rows_loaded == 1
    assert ".xapi_inflight.jsonl.tmp" not in outcomes, "writes in progress are left alone"
    recorded = reference_only.scalar(
        "select count(*) from audit.ingested_files where status in ('failed', 'rejected')"
    )
    assert recorded == len(expect)
    cohorts = len((root / "reference" / "cohorts.csv").read_text().splitlines()) - 1
    assert reference_only.scalar("select count(*) from raw.cohorts") == cohorts, "snapshot kept"


@pytest.mark.parametrize("source", ["xapi", "mission_progress", "assessment_attempts"])
def test_clean_generated_days_load_without_quarantine(few_days, source):
    outcomes = [o for o in few_days.load() if o.source == source]
    assert outcomes and all(o.status == "loaded" for o in outcomes)
    assert sum(o.rows_quarantined for o in outcomes) == 0
    assert sum(o.rows_loaded for o in outcomes) == sum(o.rows_read for o in outcomes)
    _assert_reconciled(few_days)
