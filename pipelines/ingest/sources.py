"""The sources of the landing zone (PRODUCT.md section 2): how to recognise, check and store each.

A source is named by the start of a file's name. Reference sources are full snapshots (CSV or
Parquet; the latest file replaces the table); event sources are JSON Lines (optionally gzip)
appended record by record. Each source lists its fields (see `fields.py`), the rules that span
several fields, and the raw table it fills.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..contract import (
    ACTOR_TYPES,
    ASSESSMENT_TYPES,
    ATTEMPT_STATUSES,
    CAPSTONE_PHASES,
    COMPETENCY_DOMAINS,
    FINAL_STATUSES,
    IFI_TYPES,
    MAX_SUBTASKS,
    MISSION_STATUSES,
    MISSION_TYPES,
    OBJECT_TYPES,
    PROGRAM_HOME_PAGE,
    QUESTION_LEVELS,
    RUBRIC_CATEGORIES,
    SUBSCRIPTION_TIERS,
    TIERS,
    VOIDED_VERB,
)
from .fields import NOW_UTC, Field, sql_string

XAPI_EXTENSIONS = "https://cohortlens.example/xapi/extensions"

REFERENCE_EXTENSIONS = (".csv", ".parquet")
EVENT_EXTENSIONS = (".jsonl", ".jsonl.gz")


@dataclass(frozen=True)
class Source:
    name: str
    kind: Literal["reference", "events"]
    table: str  # raw.<table>
    fields: tuple[Field, ...]
    key: tuple[str, ...] = ()  # unique within a reference snapshot
    # Columns computed from the typed fields, and rules spanning fields (SQL: a reason or NULL).
    derived: tuple[str, ...] = ()  # `expr as name`; a name starting with _ is not staged
    rules: tuple[str, ...] = ()
    joins: str = ""  # extra FROM clause for rules that look things up (alias of the record: t)
    join_columns: tuple[str, ...] = ()  # what `joins` adds to the record; never staged
    # Stored columns computed from the record: (name, SQL type, expression).
    computed: tuple[tuple[str, str, str], ...] = ()
    defaults: tuple[tuple[str, str], ...] = ()  # (column, SQL value) when a field is empty
    original: str | None = None  # a column keeping each record exactly as it came (JSON)
    # Columns no record fills: the loader sets them later (an xAPI statement's voiding).
    annotations: tuple[tuple[str, str], ...] = ()
    # What makes a record a repeat of one already loaded. The loader enforces it (an index on
    # millions of keys would cost more than the rest of the load together).
    identity: tuple[str, ...] = ()

    @property
    def extensions(self) -> tuple[str, ...]:
        return REFERENCE_EXTENSIONS if self.kind == "reference" else EVENT_EXTENSIONS

    @property
    def qualified_table(self) -> str:
        return f"raw.{self.table}"

    def stored_columns(self) -> list[tuple[str, str]]:
        """(name, SQL type) of the raw table's columns taken from the record."""
        columns = [(f.name, f.sql_type) for f in self.fields if f.stored]
        columns += [(name, sql_type) for name, sql_type, _ in self.computed]
        if self.original:
            # The original JSON text, already checked to be a JSON object: VARCHAR, so the
            # insert does not parse it again (JSON functions read it all the same). zstd: it
            # compresses about 3x better than with the default string codecs.
            columns.append((self.original, "varchar not null using compression zstd"))
        return columns

    def insert_expressions(self) -> list[str]:
        """What to insert into each stored column, from the staged record."""
        defaults = dict(self.defaults)
        expressions = []
        for name, _ in self.stored_columns():
            if name == self.original:
                expressions.append("payload")  # cast to JSON once, by the insert
            elif name in defaults:
                expressions.append(f'coalesce("{name}", {defaults[name]})')
            else:
                expressions.append(f'"{name}"')
        return expressions

    def ddl(self) -> str:
        columns = [f'"{name}" {sql_type}' for name, sql_type in self.stored_columns()]
        columns += [f'"{name}" {sql_type}' for name, sql_type in self.annotations]
        columns += ["file_id bigint not null", "record_number bigint not null"]
        if self.kind == "events":
            # When an event row was written: its transaction's start (UTC). A record released
            # from quarantine keeps its file and record number but gets a new loaded_at, so
            # "rows loaded since" (dbt's unique_since_last_pass test) sees it.
            columns.append(f"loaded_at timestamp default {NOW_UTC}")
        body = ",\n    ".join(columns)
        ddl = f"create table if not exists {self.qualified_table} (\n    {body}\n);\n"
        if self.kind == "events":  # warehouses created before the column
            ddl += (
                f"alter table {self.qualified_table}"
                f" add column if not exists loaded_at timestamp default {NOW_UTC};\n"
            )
            # Columns added since the first warehouses were created.
            added = [(n, t) for n, t, _ in self.computed] + list(self.annotations)
            for name, sql_type in added:
                ddl += (
                    f"alter table {self.qualified_table}"
                    f' add column if not exists "{name}" {sql_type.removesuffix(" not null")};\n'
                )
        return ddl


def _in_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(sql_string(v) for v in values) + "]"


def _iri_rule(column: str, label: str) -> str:
    # An IRI starts with a scheme and holds no spaces; string tests cost a tenth of a regex.
    return (
        f"case when {column} is not null and (position(':' in {column}) < 2"
        f" or contains({column}, ' ')) then '{label} ' || {column} || ' is not an IRI' end"
    )


def _map_rule(column: str, label: str, key_ok: str, value_ok: str, words: str) -> str:
    """A reason naming the first entry of a JSON object that breaks the rule."""
    bad = (
        f"list_filter(map_entries(json_transform({column}, '\"MAP(VARCHAR, JSON)\"')), "
        f"lambda e: not (({key_ok}) and coalesce({value_ok}, false)))"
    )
    return (
        f"case when len({bad}) > 0 then '{label} entry ' || to_json({bad}[1].key) || ': ' "
        f"|| {bad}[1].value || ' is not {words}' end"
    )


def _string_list_rule(column: str, label: str) -> str:
    bad = f"list_filter(json_transform({column}, '[\"JSON\"]'), lambda x: left(x, 1) <> '\"')"
    return f"case when len({bad}) > 0 then '{label} holds a non-string: ' || {bad}[1] end"


def _number_between(value: str, low: float, high: float) -> str:
    return f"(left({value}, 1) <> '\"' and try_cast({value} as double) between {low} and {high})"


_SUBTASK_KEYS = f"regexp_full_match(e.key, '[1-{MAX_SUBTASKS}]')"
_DURATION = (
    r"^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
_ACTIVITY_KINDS = ("mission", "module", "assessment")
_ACTIVITY = f"/activities/({'|'.join(_ACTIVITY_KINDS)})/([^/?#]+)"
# Extracted once per record as a derived column; the seconds read its parts.
_DURATION_PARTS = f"regexp_extract(result_duration, '{_DURATION}', ['w', 'd', 'h', 'm', 's'])"
_DURATION_SECONDS = (
    "case when result_duration is not null then "
    + " + ".join(
        f"coalesce(try_cast(nullif(struct_extract(_duration_parts, '{part}'), '') as double), 0)"
        f" * {seconds}"
        for part, seconds in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    )
    + " end"
)

REFERENCE_SOURCES: tuple[Source, ...] = (
    # In dependency order: a snapshot may refer to the ones before it.
    Source(
        "organizations",
        "reference",
        "organizations",
        (Field("org_id"), Field("name")),
        key=("org_id",),
    ),
    Source(
        "cohorts",
        "reference",
        "cohorts",
        (
            Field("cohort_id"),
            Field("org_id", references=("raw.organizations", "org_id")),
            Field("name"),
            Field("track"),
            Field("start_date", "date"),
            Field("target_mastery_date", "date"),
        ),
        key=("cohort_id",),
        rules=(
            "case when target_mastery_date < start_date then 'target_mastery_date '"
            " || target_mastery_date || ' is before start_date ' || start_date end",
        ),
    ),
    Source(
        "learners",
        "reference",
        "learners",
        (
            Field("learner_id"),
            Field("org_id", references=("raw.organizations", "org_id")),
            Field("cohort_id", references=("raw.cohorts", "cohort_id")),
            Field("display_name"),
            Field("email"),
            Field("subscription_tier", values=SUBSCRIPTION_TIERS),
            Field("enrolled_at", "timestamp", not_future=True),
            Field("mentor_id", required=False),
        ),
        key=("learner_id",),
        rules=(
            "case when email is not null and not regexp_full_match(email, '[^@\\s]+@[^@\\s]+')"
            " then 'email ''' || email || ''' is not an email address' end",
            "case when cohort_org is not null and cohort_org <> org_id then 'cohort '"
            " || cohort_id || ' belongs to ' || cohort_org || ', not ' || org_id end",
        ),
        joins="left join (select cohort_id as c_id, org_id as cohort_org from raw.cohorts) c"
        " on c.c_id = t.cohort_id",
    ),
    Source(
        # Optional: how other systems (an LMS, an LRS) identify a learner in xAPI statements.
        "identities",
        "reference",
        "identities",
        (
            Field("learner_id", references=("raw.learners", "learner_id")),
            Field("ifi_type", values=IFI_TYPES),
            Field("ifi_value"),
        ),
        rules=(
            "case when ifi_type = 'account' and not regexp_full_match(ifi_value, '[^|]+\\|[^|]+')"
            " then 'an account is written homePage|name, not ''' || ifi_value || '''' end",
            "case when ifi_type = 'mbox' and not regexp_full_match(ifi_value,"
            " '(mailto:)?[^@\\s]+@[^@\\s]+') then 'mbox ''' || ifi_value"
            " || ''' is not an email address' end",
            "case when ifi_type = 'mbox_sha1sum' and not regexp_full_match(ifi_value,"
            " '[0-9a-fA-F]{40}') then 'mbox_sha1sum ''' || ifi_value"
            " || ''' is not a SHA-1 in hex' end",
        ),
    ),
    Source(
        "missions",
        "reference",
        "missions",
        (
            Field("mission_id"),
            Field("title"),
            Field("track"),
            Field("tier", values=TIERS),
            Field("mission_type", values=MISSION_TYPES),
            Field("difficulty", "integer", low=1, high=5),
            Field("time_constraint_hours", "number", low=1, high=168),
            Field("subtask_count", "integer", low=1, high=MAX_SUBTASKS),
            Field("required", "boolean"),
            *(Field(f"weight_{d}", "number", low=0, high=1) for d in COMPETENCY_DOMAINS),
        ),
        key=("mission_id",),
        rules=(
            "case when abs("
            + " + ".join(f"weight_{d}" for d in COMPETENCY_DOMAINS)
            + " - 1) > 0.02 then 'domain weights sum to ' || round("
            + " + ".join(f"weight_{d}" for d in COMPETENCY_DOMAINS)
            + ", 3) || ', not 1' end",
        ),
    ),
    Source(
        "modules",
        "reference",
        "modules",
        (
            Field("module_id"),
            Field("track"),
            Field("tier", values=TIERS),
            Field("module_number", "integer", low=1),
            Field("title"),
            Field("required", "boolean"),
        ),
        key=("module_id",),
    ),
    Source(
        "assessments",
        "reference",
        "assessments",
        (
            Field("assessment_id"),
            Field("module_id", references=("raw.modules", "module_id")),
            Field("title"),
            Field("assessment_type", values=ASSESSMENT_TYPES),
            Field("passing_score", "number", required=False, low=0, high=1),
            Field("max_attempts", "integer", required=False, low=1),
        ),
        key=("assessment_id",),
        # The contract's default pass mark applies when a snapshot leaves it empty.
        defaults=(("passing_score", "0.80"),),
    ),
    Source(
        "questions",
        "reference",
        "questions",
        (
            Field("question_id"),
            Field("assessment_id", references=("raw.assessments", "assessment_id")),
            Field("question_type"),
            Field("competency_domain", values=COMPETENCY_DOMAINS),
            Field("difficulty_level", values=QUESTION_LEVELS),
            Field("points", "number", low=0),
        ),
        key=("question_id",),
    ),
)

_MISSION_STATUS_RANK = f"list_position({_in_list(MISSION_STATUSES)}, status)"
_ATTEMPT_STATUS_RANK = f"list_position({_in_list(ATTEMPT_STATUSES)}, status)"
_TIMESTAMPS = ("started_at", "submitted_at", "mentor_reviewed_at", "updated_at")

MISSION_PROGRESS = Source(
    "mission_progress",
    "events",
    "mission_progress",
    (
        Field("progress_id", "uuid"),
        Field("learner_id", references=("raw.learners", "learner_id")),
        Field("mission_id", references=("raw.missions", "mission_id")),
        Field("attempt_number", "integer", low=1),
        Field("status", values=MISSION_STATUSES),
        Field("final_status", values=FINAL_STATUSES),
        Field("mentor_score", "number", required=False, low=0, high=100),
        Field("subtask_scores", "object", required=False),
        Field("rubric_scores", "object", required=False),
        Field("time_per_stage", "object", required=False),
        Field("tools_used", "array", required=False),
        Field("hints_used", "array", required=False),
        Field("drop_off_stage", "integer", required=False, low=1, high=MAX_SUBTASKS),
        Field("reflection_submitted", "boolean"),
        Field("capstone_phases", "object", required=False),
        *(
            Field(name, "timestamp", required=name == "updated_at", not_future=True)
            for name in _TIMESTAMPS
        ),
        Field("deadline_at", "timestamp", required=False),
    ),
    computed=(
        ("record_hash", "varchar not null", "md5(payload)"),
        ("status_rank", "integer not null", _MISSION_STATUS_RANK),
    ),
    derived=(
        "(mission_id in (select mission_id from raw.missions where mission_type = 'capstone'))"
        " as _is_capstone",
    ),
    rules=(
        _map_rule(
            "subtask_scores",
            "subtask_scores",
            _SUBTASK_KEYS,
            _number_between("e.value", 0, 100),
            f"a subtask 1-{MAX_SUBTASKS} scored 0-100",
        ),
        _map_rule(
            "rubric_scores",
            "rubric_scores",
            f"list_contains({_in_list(RUBRIC_CATEGORIES)}, e.key)",
            _number_between("e.value", 0, 1),
            "a rubric category (" + ", ".join(RUBRIC_CATEGORIES) + ") scored 0-1",
        ),
        _map_rule(
            "time_per_stage",
            "time_per_stage",
            _SUBTASK_KEYS,
            _number_between("e.value", 0, 1e6),
            f"a stage 1-{MAX_SUBTASKS} with minutes >= 0",
        ),
        _map_rule(
            "capstone_phases",
            "capstone_phases",
            f"list_contains({_in_list(CAPSTONE_PHASES)}, e.key)",
            "try_cast(e.value ->> '$' as timestamptz) is not null and left(e.value, 1) = '\"'",
            "a capstone phase (" + ", ".join(CAPSTONE_PHASES) + ") with a timestamp",
        ),
        _string_list_rule("tools_used", "tools_used"),
        _string_list_rule("hints_used", "hints_used"),
        "case when capstone_phases is not null and json_array_length(json_keys(capstone_phases))"
        " > 0 and not _is_capstone then 'capstone_phases given for ' || mission_id"
        " || ', which is not a capstone' end",
    ),
    identity=("progress_id", "updated_at", "record_hash"),
)

ASSESSMENT_ATTEMPTS = Source(
    "assessment_attempts",
    "events",
    "assessment_attempts",
    (
        Field("attempt_id", "uuid"),
        Field("learner_id", references=("raw.learners", "learner_id")),
        Field("assessment_id", references=("raw.assessments", "assessment_id")),
        Field("attempt_number", "integer", low=1),
        Field("status", values=ATTEMPT_STATUSES),
        Field("started_at", "timestamp", not_future=True),
        Field("submitted_at", "timestamp", required=False, not_future=True),
        Field("graded_at", "timestamp", required=False, not_future=True),
        Field("score", "number", required=False, low=0),
        Field("percentage", "number", required=False, low=0, high=100),
        Field("time_spent_minutes", "number", required=False, low=0),
        Field("answers", "array", stored=False),  # unnested into raw.assessment_answers
    ),
    computed=(
        ("record_hash", "varchar not null", "md5(payload)"),
        ("status_rank", "integer not null", _ATTEMPT_STATUS_RANK),
    ),
    derived=(
        'json_transform(answers, \'[{"question_id": "JSON", "is_correct": "JSON",'
        ' "points_earned": "JSON"}]\') as answer_list',
    ),
    rules=(
        "case when status = 'graded' and percentage is null"
        " then 'status graded but percentage is missing' end",
        "case when status = 'graded' and graded_at is null"
        " then 'status graded but graded_at is missing' end",
        # Every answer: a known question of this assessment, correctness, points >= 0.
        "nullif(array_to_string(list_filter(list_transform(answer_list, lambda a, i: case"
        " when a.question_id is null or left(a.question_id, 1) <> '\"'"
        " then 'answer ' || i || ' has no question_id'"
        " when not list_contains(coalesce(aq_questions, []), a.question_id ->> '$')"
        " then 'answer ' || i || ': question ' || (a.question_id ->> '$')"
        " || ' is not part of ' || assessment_id"
        " when a.is_correct is null or a.is_correct not in ('true', 'false')"
        " then 'answer ' || i || ': is_correct must be true or false'"
        " when not coalesce(" + _number_between("a.points_earned", 0, 1e9) + ", false)"
        " then 'answer ' || i || ': points_earned must be a number >= 0' end),"
        " lambda r: r is not null)[1:3], '; '), '')",
    ),
    joins=(
        "left join (select assessment_id as aq_assessment, list(question_id) as aq_questions"
        " from raw.questions group by 1) aq on aq.aq_assessment = t.assessment_id"
    ),
    identity=("attempt_id",),
)


def actor_key(mbox: str, mbox_sha1sum: str, openid: str, home_page: str, name: str) -> str:
    """SQL: the one key of an xAPI agent's identifier, as `raw.learner_actor_keys` spells it.

    Email addresses and their hashes compare without case; an account by homePage and name.
    """
    return (
        f"case when {name} is not null then 'account|' || coalesce({home_page}, '') || '|'"
        f" || {name} when {mbox} is not null then 'mbox|' || lower({mbox})"
        f" when {mbox_sha1sum} is not null then 'mbox_sha1sum|' || lower({mbox_sha1sum})"
        f" when {openid} is not null then 'openid|' || {openid} end"
    )


_HOME = sql_string(PROGRAM_HOME_PAGE)
# Every identifier that names a learner: the program's account, the learner's email as mbox and
# as its SHA-1 (of the address as written and in lower case: LRSs differ), and the identities
# snapshot. A key naming two learners names none (n_learners > 1).
LEARNER_ACTOR_KEYS_VIEW = f"""
create or replace view raw.learner_actor_keys as
select actor_key, min(learner_id) as learner_id, count(distinct learner_id) as n_learners
from (
    select 'account|' || {_HOME} || '|' || learner_id as actor_key, learner_id from raw.learners
    union all
    select 'mbox|' || lower('mailto:' || email), learner_id from raw.learners
    union all
    select 'mbox_sha1sum|' || sha1('mailto:' || email), learner_id from raw.learners
    union all
    select 'mbox_sha1sum|' || sha1(lower('mailto:' || email)), learner_id from raw.learners
    union all
    select ifi_type || '|' || case
        when ifi_type = 'mbox' then lower(if(starts_with(ifi_value, 'mailto:'), '',
            'mailto:') || ifi_value)
        when ifi_type = 'mbox_sha1sum' then lower(ifi_value)
        else ifi_value end, learner_id
    from raw.identities
)
where actor_key is not null
group by actor_key;
"""

_IS_AGENT = "coalesce(actor_object_type, 'Agent') = 'Agent'"
_IFIS = " + ".join(
    f"({name} is not null)::integer"
    for name in ("actor_mbox", "actor_mbox_sha1sum", "actor_openid", "actor_account")
)
_ACTOR_NAMED = (
    "case when actor_account_name is not null then 'account ' || actor_account_name || ' on '"
    " || coalesce(actor_home_page, '?') when actor_mbox is not null then actor_mbox"
    " when actor_mbox_sha1sum is not null then 'mbox_sha1sum ' || actor_mbox_sha1sum"
    " else 'openid ' || actor_openid end"
)
_ACTIVITY_OBJECT = "coalesce(object_type, 'Activity') = 'Activity'"

XAPI = Source(
    "xapi",
    "events",
    "xapi_statements",
    (
        Field("statement_id", "uuid", path="$.id"),
        # The actor: an Agent with one identifier, or a Group (identified, or anonymous with its
        # members). Checked, kept in the original JSON only: nothing downstream reads them as
        # columns, and every stored column costs the load (stored=False).
        Field("actor", "object", stored=False),
        Field(
            "actor_object_type",
            path="$.actor.objectType",
            required=False,
            values=ACTOR_TYPES,
            stored=False,
        ),
        Field("actor_mbox", path="$.actor.mbox", required=False, stored=False),
        Field("actor_mbox_sha1sum", path="$.actor.mbox_sha1sum", required=False, stored=False),
        Field("actor_openid", path="$.actor.openid", required=False, stored=False),
        Field("actor_account", "object", path="$.actor.account", required=False, stored=False),
        Field("actor_account_name", path="$.actor.account.name", required=False, stored=False),
        Field("actor_home_page", path="$.actor.account.homePage", required=False, stored=False),
        Field("verb", "object", stored=False),
        Field("verb_id", path="$.verb.id"),
        Field("object", "object", stored=False),
        Field("object_id", path="$.object.id", required=False),
        Field(
            "object_type",
            path="$.object.objectType",
            required=False,
            values=OBJECT_TYPES,
            stored=False,
        ),
        Field("activity_type", path="$.object.definition.type", required=False),
        Field("result", "object", required=False, stored=False),
        Field(
            "result_score_scaled",
            "number",
            path="$.result.score.scaled",
            required=False,
            low=-1,
            high=1,
        ),
        Field(
            "result_score_raw", "number", path="$.result.score.raw", required=False, stored=False
        ),
        Field("result_success", "boolean", path="$.result.success", required=False),
        Field("result_completion", "boolean", path="$.result.completion", required=False),
        Field("result_duration", path="$.result.duration", required=False, stored=False),
        Field("context", "object", stored=False, required=False),
        Field("registration", "uuid", path="$.context.registration", required=False),
        Field(
            "progress_id",
            "uuid",
            path=f'$.context.extensions."{XAPI_EXTENSIONS}/progress-id"',
            required=False,
        ),
        Field(
            "attempt_number",
            "integer",
            path=f'$.context.extensions."{XAPI_EXTENSIONS}/attempt-number"',
            required=False,
            low=1,
        ),
        Field("timestamp", "timestamp", not_future=True),
        Field("version", required=False, stored=False),
    ),
    # The learner an Agent actor names (a Group's members are resolved after the insert).
    joins=(
        "left join (select actor_key as _known_actor, learner_id as _known_learner,"
        " n_learners as _known_count from raw.learner_actor_keys) k"
        " on k._known_actor = case when coalesce(t.actor_object_type, 'Agent') = 'Agent' then "
        + actor_key(
            "t.actor_mbox",
            "t.actor_mbox_sha1sum",
            "t.actor_openid",
            "t.actor_home_page",
            "t.actor_account_name",
        )
        + " end"
    ),
    join_columns=("_known_actor", "_known_learner", "_known_count"),
    derived=(
        # Unguarded: three `contains` before it cost more than the regex they would spare.
        f"regexp_extract(object_id, '{_ACTIVITY}', ['kind', 'ref']) as _activity",
        f"case when result_duration is not null then {_DURATION_PARTS} end as _duration_parts",
        f"verb_id = {sql_string(VOIDED_VERB)} as _is_voiding",
        f"{_IFIS} as _ifis",
        # Read for the rare statement that needs them only: parsing them for every statement
        # cost the load about a tenth of its time.
        "case when actor_object_type = 'Group' then json_extract(payload, '$.actor.member')"
        " end as _member",
        "case when object_type = 'SubStatement' then json_extract(payload, '$.object.actor')"
        " is not null and json_extract(payload, '$.object.verb') is not null and"
        " json_extract(payload, '$.object.object') is not null end as _sub_complete",
    ),
    computed=(
        ("learner_id", "varchar", "case when _known_count = 1 then _known_learner end"),
        ("verb_name", "varchar", "split_part(verb_id, '/', -1)"),
        ("activity_kind", "varchar", "nullif(struct_extract(_activity, 'kind'), '')"),
        ("activity_ref", "varchar", "nullif(struct_extract(_activity, 'ref'), '')"),
        (
            "result_duration_seconds",
            "double",
            _DURATION_SECONDS,
        ),
        # A voiding statement's target (xAPI 1.0.3 section 2.3.2).
        (
            "voided_statement_id",
            "uuid",
            "case when _is_voiding and object_type = 'StatementRef'"
            " then try_cast(object_id as uuid) end",
        ),
    ),
    # Set on a statement once a voiding statement that targets it has landed.
    annotations=(("voided_by", "uuid"), ("voided_at", "timestamp")),
    original="statement",
    rules=(
        _iri_rule("verb_id", "verb.id"),
        f"case when {_ACTIVITY_OBJECT} then ({_iri_rule('object_id', 'object.id')}) end",
        # The usual versions are compared as text; the regex sees only the rest.
        "case when version is not null and version not in ("
        + ", ".join(f"'1.0.{patch}'" for patch in range(4))
        + ") and not regexp_full_match(version, '1\\.0(\\.\\d+)?')"
        " then 'version must be 1.0.x, got \"' || version || '\"' end",
        # The anchored pattern's parts are all empty where it does not match (and for "P" and
        # "PT", which fail the first two tests anyway): no second regex per duration.
        "case when result_duration is not null and (result_duration = 'P'"
        " or ends_with(result_duration, 'T')"
        " or concat_ws('', "
        + ", ".join(f"struct_extract(_duration_parts, '{part}')" for part in "wdhms")
        + ") = '')"
        " then 'result.duration ' || result_duration"
        " || ' is not an ISO 8601 duration (PnWnDTnHnMnS)' end",
        "case when activity_kind = 'mission' and activity_ref not in"
        " (select mission_id from raw.missions) then 'unknown mission ' || activity_ref"
        " || ' in object.id' when activity_kind = 'module' and activity_ref not in"
        " (select module_id from raw.modules) then 'unknown module ' || activity_ref"
        " || ' in object.id' when activity_kind = 'assessment' and activity_ref not in"
        " (select assessment_id from raw.assessments) then 'unknown assessment '"
        " || activity_ref || ' in object.id' end",
        # The actor (xAPI 1.0.3 section 2.4.2.1): one identifier, well formed.
        f"case when {_IS_AGENT} and _ifis <> 1 then 'an Agent actor has exactly one of mbox,"
        " mbox_sha1sum, openid, account; this one has ' || _ifis"
        " when actor_object_type = 'Group' and _ifis > 1 then 'a Group actor has at most one"
        " of mbox, mbox_sha1sum, openid, account; this one has ' || _ifis"
        " when actor_object_type = 'Group' and _ifis = 0 and _member is null"
        " then 'an anonymous Group actor must list its member'"
        " when _member is not null and json_type(_member) <> 'ARRAY'"
        " then 'actor.member must be an array' end",
        "case when actor_mbox is not null and not starts_with(actor_mbox, 'mailto:')"
        " then 'actor.mbox ' || actor_mbox || ' is not a mailto: IRI' end",
        "case when actor_mbox_sha1sum is not null and not regexp_full_match(actor_mbox_sha1sum,"
        " '[0-9a-fA-F]{40}') then 'actor.mbox_sha1sum ' || actor_mbox_sha1sum"
        " || ' is not a SHA-1 in hex' end",
        "case when actor_account is not null and (actor_account_name is null"
        " or actor_home_page is null) then 'actor.account needs both homePage and name' end",
        # The learner: an Agent that names none is quarantined (checked again once reference
        # data grows). A voiding statement's actor is whoever voided it: it loads either way.
        f"case when {_IS_AGENT} and _ifis = 1 and not coalesce(_is_voiding, false)"
        " and coalesce(_known_count, 0) <> 1 then 'unknown learner: actor ' || "
        + _ACTOR_NAMED
        + " || case when _known_count > 1 then ' names ' || _known_count || ' learners'"
        " else '' end end",
        # The object: an Activity or StatementRef has an id; a StatementRef's is a UUID.
        f"case when ({_ACTIVITY_OBJECT} or object_type = 'StatementRef') and object_id is null"
        " then 'missing required field object.id'"
        " when object_type = 'StatementRef' and try_cast(object_id as uuid) is null"
        " then 'object.id ' || object_id || ' of a StatementRef is not a UUID' end",
        "case when not _sub_complete then 'a SubStatement object needs actor, verb and object' end",
        "case when _is_voiding and coalesce(object_type, 'Activity') <> 'StatementRef'"
        " then 'a voiding statement (verb voided) must have a StatementRef object' end",
    ),
    identity=("statement_id",),
)

EVENT_SOURCES: tuple[Source, ...] = (MISSION_PROGRESS, ASSESSMENT_ATTEMPTS, XAPI)
SOURCES: dict[str, Source] = {s.name: s for s in (*REFERENCE_SOURCES, *EVENT_SOURCES)}

ASSESSMENT_ANSWERS_DDL = """
create table if not exists raw.assessment_answers (
    attempt_id uuid not null,
    answer_number integer not null,
    question_id varchar not null,
    is_correct boolean not null,
    points_earned double not null
);
"""

CURRENT_PROGRESS_VIEW = """
create or replace view raw.mission_progress_current as
-- The current state of each progress record: the latest updated_at wins; on a tie the later
-- lifecycle status, then the larger record hash, so every run resolves it the same way.
select * exclude (version_rank)
from (
    select
        *,
        row_number() over (
            partition by progress_id
            order by updated_at desc, status_rank desc, record_hash desc
        ) as version_rank
    from raw.mission_progress
)
where version_rank = 1;
"""


def raw_ddl() -> str:
    """Every raw table, with the keys that make loads idempotent."""
    statements = [s.ddl() for s in (*REFERENCE_SOURCES, *EVENT_SOURCES)]
    statements.append(ASSESSMENT_ANSWERS_DDL)
    statements.append(CURRENT_PROGRESS_VIEW)
    statements.append(LEARNER_ACTOR_KEYS_VIEW)
    return "\n".join(statements)


@dataclass(frozen=True)
class Classified:
    source: Source | None
    reason: str | None = None  # why the file was rejected
    compressed: bool = False


def classify(file_name: str) -> Classified:
    """Which source a file belongs to, by the start of its name, or why it belongs to none."""
    base = file_name.rsplit("/", 1)[-1]
    lower = base.lower()
    # Longest name first, so that `mission_progress_…` is never taken for `missions`.
    for source in sorted(SOURCES.values(), key=lambda s: -len(s.name)):
        if not lower.startswith(source.name):
            continue
        rest = lower[len(source.name) :]
        if rest[:1].isalpha():
            continue  # `learnersx.csv` is not a learners file
        extension = next((e for e in source.extensions if lower.endswith(e)), None)
        if extension is None:
            expected = " or ".join(source.extensions)
            return Classified(None, f"a {source.name} file must end in {expected}, not {base!r}")
        return Classified(source, compressed=extension.endswith(".gz"))
    names = ", ".join(SOURCES)
    return Classified(None, f"the name {base!r} matches no source (names start with: {names})")
