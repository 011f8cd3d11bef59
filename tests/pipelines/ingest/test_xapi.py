"""xAPI as LRSs send it: every valid form loads, actors resolve by any identifier the program
knows, Group actors resolve only to one learner, and voiding marks its target."""

from __future__ import annotations

import copy
import hashlib
import json
import random
import uuid

from pipelines.contract import PROGRAM_HOME_PAGE, VOIDED_VERB
from pipelines.ingest.sources import XAPI

from .xapi_forms import as_exported

# What a statement means once loaded: every stored column but its text and where it came from.
MEANING = [n for n, _ in XAPI.stored_columns() if n != "statement"]


def _meaning(landing) -> list[tuple]:
    columns = ", ".join(f'"{c}"' for c in MEANING)
    return landing.query(f"select {columns} from raw.xapi_statements order by statement_id")


def _learners(landing, n: int) -> list[tuple[str, str]]:
    return landing.query("select learner_id, email from raw.learners order by 1 limit ?", [n])


def _voiding(target_id: str, actor: dict | None = None) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": actor or {"mbox": "mailto:lrs-admin@cohortlens.example"},
        "verb": {"id": VOIDED_VERB, "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": target_id},
        "timestamp": "2026-01-20T09:00:00Z",
    }


def test_every_statement_rewritten_in_another_valid_form_means_the_same(reference_only, tmp_path):
    """The same statements, once as generated and once as an LRS export would spell them,
    give the same raw columns; an upper-case re-send of each is a duplicate."""
    statements = reference_only.sample("xapi", 600)
    rng = random.Random(5)
    exported = copy.deepcopy(reference_only)
    exported.root, exported.warehouse = tmp_path / "exported", tmp_path / "exported.duckdb"
    import shutil

    shutil.copytree(reference_only.root / "reference", exported.root / "reference")
    reference_only.write_lines("xapi/xapi_a.jsonl", statements)
    exported.write_lines("xapi/xapi_a.jsonl", [as_exported(s, rng) for s in statements])
    exported.write_lines("xapi/xapi_b.jsonl", [as_exported(s, rng) for s in statements])

    (plain,) = [o for o in reference_only.load() if o.source == "xapi"]
    first, again = [o for o in exported.load() if o.source == "xapi"]

    assert plain.rows_loaded == first.rows_loaded == len(statements)
    assert (again.rows_loaded, again.rows_duplicate, again.rows_quarantined) == (
        0,
        len(statements),
        0,
    )
    assert _meaning(exported) == _meaning(reference_only)


def test_actors_resolve_by_account_mbox_sha1_and_identities(reference_only):
    (statement,) = reference_only.sample("xapi")
    (a, a_mail), (b, b_mail), (c, _), (d, _) = _learners(reference_only, 4)
    reference_only.write_lines(
        "reference/identities_2026-01-01.csv",
        [
            "learner_id,ifi_type,ifi_value",
            f"{c},openid,https://id.partner.example/{c}",
            f"{d},account,https://lms.partner.example|user-{d.lower()}",
        ],
    )
    by_actor = {
        a: {"mbox": f"mailto:{a_mail.upper()}"},
        b: {"mbox_sha1sum": hashlib.sha1(f"mailto:{b_mail}".encode()).hexdigest()},
        c: {"objectType": "Agent", "openid": f"https://id.partner.example/{c}"},
        d: {"account": {"homePage": "https://lms.partner.example", "name": f"user-{d.lower()}"}},
    }
    records = [statement | {"id": str(uuid.uuid4()), "actor": actor} for actor in by_actor.values()]
    stranger = statement | {"id": str(uuid.uuid4()), "actor": {"mbox": "mailto:x@y.example"}}
    reference_only.write_lines("xapi/xapi_ids.jsonl", [*records, stranger])

    reference_only.load()

    loaded = dict(
        reference_only.query(
            "select statement_id::varchar, learner_id from raw.xapi_statements"
            " where file_id = (select max(file_id) from raw.xapi_statements)"
        )
    )
    assert loaded == {r["id"]: learner for r, learner in zip(records, by_actor, strict=True)}
    (reason,) = reference_only.query("select reason from audit.quarantine")[0]
    assert reason == "unknown learner: actor mailto:x@y.example"

    # The stranger turns out to be a learner: rechecked once the reference data grows.
    reference_only.write_lines(
        "reference/identities_2026-01-02.csv",
        ["learner_id,ifi_type,ifi_value", f"{a},mbox,x@y.example"],
    )
    reference_only.load()
    assert (
        reference_only.scalar(
            "select learner_id from raw.xapi_statements where statement_id = ?", [stranger["id"]]
        )
        == a
    )
    assert reference_only.scalar("select count(*) from audit.quarantine") == 0


def test_an_identifier_naming_two_learners_names_none(reference_only):
    (statement,) = reference_only.sample("xapi")
    (a, _), (b, _) = _learners(reference_only, 2)
    reference_only.write_lines(
        "reference/identities_2026-01-01.csv",
        [
            "learner_id,ifi_type,ifi_value",
            f"{a},openid,https://id.example/shared",
            f"{b},openid,https://id.example/shared",
        ],
    )
    shared = statement | {"actor": {"openid": "https://id.example/shared"}}
    reference_only.write_lines("xapi/xapi_shared.jsonl", [shared])
    reference_only.load()
    (reason,) = reference_only.query("select reason from audit.quarantine")[0]
    assert reason == "unknown learner: actor openid https://id.example/shared names 2 learners"


def test_a_group_resolves_only_when_its_members_name_one_learner(reference_only):
    (statement,) = reference_only.sample("xapi")
    (a, a_mail), (b, _) = _learners(reference_only, 2)
    mentor = {"objectType": "Agent", "mbox": "mailto:mentor@cohortlens.example"}

    def group(*members, **ifi) -> dict:
        actor = {"objectType": "Group", "member": list(members), **ifi}
        return statement | {"id": str(uuid.uuid4()), "actor": actor}

    def account(learner):
        return {"account": {"homePage": PROGRAM_HOME_PAGE, "name": learner}}

    reference_only.write_lines(
        "reference/identities_2026-01-01.csv",
        [
            "learner_id,ifi_type,ifi_value",
            f"{a},openid,https://id.example/shared",
            f"{b},openid,https://id.example/shared",
        ],
    )
    reference_only.load()
    one = group(mentor, {"mbox": f"mailto:{a_mail}"})
    shared = group({"openid": "https://id.example/shared"}, {"mbox": f"mailto:{a_mail}"})
    two = group(account(a), account(b))
    nobody = group(mentor)
    identified = group(mbox="mailto:team-7@cohortlens.example")
    reference_only.write_lines("xapi/xapi_groups.jsonl", [one, two, nobody, identified, shared])

    (outcome,) = [o for o in reference_only.load() if o.source == "xapi"]

    assert (outcome.rows_loaded, outcome.rows_quarantined) == (5, 0)
    learner_of = dict(
        reference_only.query("select statement_id::varchar, learner_id from raw.xapi_statements")
    )
    assert learner_of[one["id"]] == a
    # Two learners, no learner, a Group's own identifier, a member naming two learners: none.
    assert [learner_of[s["id"]] for s in (two, nobody, identified, shared)] == [None] * 4


def test_other_valid_objects_load_and_keep_their_json(reference_only):
    (statement,) = reference_only.sample("xapi")
    sub = statement | {
        "id": str(uuid.uuid4()),
        "object": {
            "objectType": "SubStatement",
            "actor": statement["actor"],
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
            "object": {"id": "https://cohortlens.example/xapi/activities/lab"},
        },
    }
    agent = statement | {
        "id": str(uuid.uuid4()),
        "object": {"objectType": "Agent", "mbox": "mailto:mentor@cohortlens.example"},
    }
    ref = statement | {
        "id": str(uuid.uuid4()),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/commented"},
        "object": {"objectType": "StatementRef", "id": statement["id"]},
        "result": {"response": "nice work", "extensions": {"https://x.example/e": {"a": [1]}}},
    }
    reference_only.write_lines("xapi/xapi_objects.jsonl", [sub, agent, ref])
    (outcome,) = [o for o in reference_only.load() if o.source == "xapi"]
    assert (outcome.rows_loaded, outcome.rows_quarantined) == (3, 0)
    kept = reference_only.query("select statement from raw.xapi_statements order by record_number")
    assert [json.loads(k) for (k,) in kept] == [sub, agent, ref]


def test_voiding_marks_its_target_waits_for_it_and_cannot_be_voided(reference_only):
    early, voided, later = reference_only.sample("xapi", 3)
    void_early = _voiding(early["id"].upper())  # upper case: the same statement id
    void_later = _voiding(later["id"])  # lands before its target
    void_void = _voiding(void_early["id"])  # a voiding cannot be voided
    void_again = _voiding(early["id"]) | {"timestamp": "2026-01-21T09:00:00Z"}
    reference_only.write_lines("xapi/xapi_1.jsonl", [early, voided, void_early, void_later])
    reference_only.write_lines("xapi/xapi_2.jsonl", [void_void, void_again])
    reference_only.load()

    def status() -> dict[str, tuple]:
        rows = reference_only.query(
            "select voiding_statement_id::varchar, status, reason from audit.xapi_voidings"
        )
        return {v: (s, r) for v, s, r in rows}

    voidings = status()
    assert voidings[void_early["id"]] == ("applied", None)
    assert voidings[void_later["id"]] == (
        "waiting",
        "its target has not landed yet (or is in quarantine)",
    )
    assert voidings[void_void["id"]][0] == "ignored"
    assert "cannot be voided" in voidings[void_void["id"]][1]
    assert voidings[void_again["id"]] == (
        "redundant",
        f"its target was already voided by {void_early['id']}",
    )
    marked = dict(
        reference_only.query(
            "select statement_id::varchar, voided_by::varchar from raw.xapi_statements"
        )
    )
    assert marked[early["id"]] == void_early["id"]
    assert marked[voided["id"]] is None and marked[void_early["id"]] is None

    reference_only.write_lines("xapi/xapi_3.jsonl", [later])
    reference_only.load()
    assert status()[void_later["id"]] == ("applied", None)
    assert (
        reference_only.scalar(
            "select voided_by::varchar from raw.xapi_statements where statement_id = ?",
            [later["id"]],
        )
        == void_later["id"]
    )
    # Every voiding statement stays in raw, with its target, whatever became of it.
    assert (
        reference_only.scalar(
            "select count(*) from raw.xapi_statements where voided_statement_id is not null"
        )
        == 4
    )
    # A voiding landing after its target was voided by an earlier load changes nothing.
    once_more = _voiding(later["id"]) | {"timestamp": "2026-01-22T09:00:00Z"}
    reference_only.write_lines("xapi/xapi_4.jsonl", [once_more])
    reference_only.load()
    assert status()[once_more["id"]] == (
        "redundant",
        f"its target was already voided by {void_later['id']}",
    )


def test_a_voiding_waits_while_its_target_is_in_quarantine(reference_only):
    """The target names a learner the reference data lacks; once the learner arrives, the
    target is released and the voiding applies."""
    (statement,) = reference_only.sample("xapi")
    newcomer = "L9000007"
    target = statement | {"actor": {"account": {"homePage": PROGRAM_HOME_PAGE, "name": newcomer}}}
    voiding = _voiding(target["id"])
    reference_only.write_lines("xapi/xapi_1.jsonl", [target, voiding])
    reference_only.load()
    assert reference_only.scalar("select status from audit.xapi_voidings") == "waiting"

    learners = sorted((reference_only.root / "reference").glob("learners*"))[-1]
    lines = learners.read_text().splitlines()
    row = lines[1].split(",")
    row[0], row[4] = newcomer, "newcomer@cohortlens.example"
    reference_only.write_lines("reference/learners_9999-12-31.csv", [*lines, ",".join(row)])
    reference_only.load()
    assert reference_only.scalar("select status from audit.xapi_voidings") == "applied"
    voided_by = reference_only.scalar(
        "select voided_by::varchar from raw.xapi_statements where statement_id = ?",
        [target["id"]],
    )
    assert voided_by == voiding["id"]
