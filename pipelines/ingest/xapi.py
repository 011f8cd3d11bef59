"""What a loaded xAPI statement sets in motion beyond its own row: voiding, and Group actors.

Both steps read the raw table as it stands and are idempotent, so a run killed between a load
and them loses nothing: the next load does them again. Each is one transaction.

- Voiding (xAPI 1.0.3 section 2.3.2): a statement with verb `voided` and a StatementRef object
  voids its target. The target stays in raw, marked `voided_by` / `voided_at`, and its
  `loaded_at` moves to now, so incremental models see that something they built changed.
  A voiding whose target has not landed waits in audit.xapi_voidings and applies once the
  target lands; a voiding of a voiding statement is ignored, as the spec requires.
- Group actors: a Group resolves to a learner only when its members name exactly one.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from .fields import NOW_UTC
from .sources import actor_key


@dataclass(frozen=True)
class VoidingSummary:
    applied: int  # targets marked voided by this call
    waiting: int  # voidings whose target has not landed (all of them, not only new ones)
    ignored: int  # voidings decided this call to change nothing (a voiding's target, a repeat)


def apply_voidings(con: duckdb.DuckDBPyConnection) -> VoidingSummary:
    """Record new voiding statements, then decide every waiting one whose target has landed."""
    con.execute("begin transaction")
    try:
        con.execute(
            "insert into audit.xapi_voidings (voiding_statement_id, target_statement_id, status,"
            f" reason, recorded_at) select statement_id, voided_statement_id, 'waiting',"
            f" 'its target has not landed yet (or is in quarantine)', {NOW_UTC}"
            " from raw.xapi_statements v"
            " where voided_statement_id is not null and not exists (select 1 from"
            " audit.xapi_voidings a where a.voiding_statement_id = v.statement_id)"
        )
        # Each waiting voiding with its target, in the order they void: the earliest wins.
        con.execute(
            "create or replace temp table deciding as"
            " select a.voiding_statement_id, a.target_statement_id, v.timestamp as voided_at,"
            " t.voided_statement_id is not null as target_voids, t.voided_by as earlier,"
            " row_number() over (partition by a.target_statement_id"
            " order by v.timestamp, a.voiding_statement_id) as rank"
            " from audit.xapi_voidings a"
            " join raw.xapi_statements t on t.statement_id = a.target_statement_id"
            " join raw.xapi_statements v on v.statement_id = a.voiding_statement_id"
            " where a.status = 'waiting'"
        )
        applied = con.execute(
            f"update raw.xapi_statements t set voided_by = d.voiding_statement_id,"
            f" voided_at = d.voided_at, loaded_at = {NOW_UTC} from deciding d"
            " where t.statement_id = d.target_statement_id and d.rank = 1"
            " and not d.target_voids and d.earlier is null"
        ).fetchone()[0]
        ignored = con.execute(
            f"update audit.xapi_voidings a set decided_at = {NOW_UTC}, status = case"
            " when d.target_voids then 'ignored' when d.rank = 1 and d.earlier is null"
            " then 'applied' else 'redundant' end, reason = case when d.target_voids"
            " then 'its target is itself a voiding statement, which cannot be voided"
            " (xAPI 1.0.3 section 2.3.2)' when d.rank = 1 and d.earlier is null then null"
            " else 'its target was already voided by '"
            " || coalesce(d.earlier, (select e.voiding_statement_id from deciding e"
            " where e.target_statement_id = d.target_statement_id and e.rank = 1)) end"
            " from deciding d where a.voiding_statement_id = d.voiding_statement_id"
            " returning a.status"
        ).fetchall()
        waiting = con.execute(
            "select count(*) from audit.xapi_voidings where status = 'waiting'"
        ).fetchone()[0]
        con.execute("drop table deciding")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return VoidingSummary(
        applied=applied, waiting=waiting, ignored=sum(s != "applied" for (s,) in ignored)
    )


_MEMBER_KEY = actor_key(
    "(m ->> '$.mbox')",
    "(m ->> '$.mbox_sha1sum')",
    "(m ->> '$.openid')",
    "(m ->> '$.account.homePage')",
    "(m ->> '$.account.name')",
)


def resolve_group_actors(con: duckdb.DuckDBPyConnection) -> int:
    """Give a learner to each Group statement without one whose members name exactly one
    learner (a Group may also name mentors, or nobody the program knows). Returns how many."""
    con.execute("begin transaction")
    try:
        resolved = con.execute(
            f"update raw.xapi_statements s set learner_id = g.learner_id, loaded_at = {NOW_UTC}"
            " from (select statement_id, min(k.learner_id) as learner_id from ("
            "   select statement_id,"
            "   unnest(json_transform(statement -> '$.actor.member', '[\"JSON\"]')) as m"
            "   from raw.xapi_statements where learner_id is null"
            "   and voided_statement_id is null"
            "   and (statement ->> '$.actor.objectType') = 'Group')"
            f" join raw.learner_actor_keys k on k.actor_key = {_MEMBER_KEY}"
            " group by statement_id"
            # A member naming two learners (a shared identifier) names more than one.
            " having count(distinct k.learner_id) = 1 and bool_and(k.n_learners = 1)) g"
            " where s.statement_id = g.statement_id"
        ).fetchone()[0]
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return resolved
