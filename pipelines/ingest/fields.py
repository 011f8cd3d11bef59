"""Field rules of the landing contract, compiled to one DuckDB staging query per source.

Each field states its kind, whether it is required, and its enumeration, range or reference. The
compiler turns that into SQL that types every value and says, per record, every rule it breaks in
words a person understands (``mentor_score 140 is not between 0 and 100``). The SQL is built from
these constants only; values from files never become SQL text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "string", "uuid", "integer", "number", "boolean", "timestamp", "date", "object", "array"
]
Dialect = Literal["json", "table"]

# How far in the future a timestamp may lie (clock skew between platform and warehouse).
FUTURE_TOLERANCE = "interval 5 minute"
NOW_UTC = "(get_current_timestamp() at time zone 'UTC')"
# A JSON record's staging column: does its text hold a backslash? Only then can a field of it
# hold an escape, so one scan of the record spares each field its own.
ESCAPED = "has_escape"

_SQL_TYPES: dict[str, str] = {
    "string": "varchar",
    "uuid": "uuid",
    "integer": "bigint",
    "number": "double",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "date": "date",
    "object": "json",
    "array": "json",
}
_KIND_WORDS: dict[str, str] = {
    "string": "a string",
    "uuid": "a UUID",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "timestamp": "an ISO 8601 timestamp",
    "date": "a date (YYYY-MM-DD)",
    "object": "an object",
    "array": "an array",
}


def sql_string(value: str) -> str:
    """A SQL string literal for a constant of the contract."""
    return "'" + value.replace("'", "''") + "'"


def _number_text(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind = "string"
    path: str | None = None  # JSON path below the record, or the column of a table file
    required: bool = True
    values: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    references: tuple[str, str] | None = None  # (table, column) the value must exist in
    not_future: bool = False
    stored: bool = True  # False: read only to check the record, not kept as a column

    @property
    def label(self) -> str:
        return (self.path or self.name).removeprefix("$.")

    @property
    def sql_type(self) -> str:
        return _SQL_TYPES[self.kind]


# Kinds whose only valid JSON form is a string json_transform converts itself, exactly as a
# cast of the unquoted text would (anything else becomes NULL). Parsed straight to the type,
# a valid value skips its JSON text, unquoting and cast; the text is looked up only for a value
# that does not convert, or for a reason's message.
TYPED_LEAVES: dict[str, str] = {"uuid": "UUID", "timestamp": "TIMESTAMPTZ"}


def raw_column(field: Field) -> str:
    """The staging column holding a field's text as it came: JSON text, or a table's cell.

    For a JSON field of a TYPED_LEAVES kind, the text only where the typed leaf is NULL.
    """
    return f'"j_{field.name}"'


def leaf_column(field: Field) -> str:
    """A JSON field's value as json_transform typed it (TYPED_LEAVES kinds only)."""
    return f'"v_{field.name}"'


def _json_path(field: Field) -> str:
    return sql_string(field.path or f"$.{field.name}")


def table_values(fields: tuple[Field, ...]) -> list[str]:
    """Each field's trimmed cell of a table file (empty is absent), as its raw column."""
    return [f"nullif(trim(\"{f.path or f.name}\"), '') as {raw_column(f)}" for f in fields]


def _path_keys(path: str) -> tuple[str, ...]:
    """`$.a.b."c.d"` -> ("a", "b", "c.d")."""
    keys, rest = [], path.removeprefix("$.")
    while rest:
        if rest.startswith('"'):
            end = rest.index('"', 1)
            keys.append(rest[1:end])
            rest = rest[end + 1 :].removeprefix(".")
        else:
            key, _, rest = rest.partition(".")
            keys.append(key)
    return tuple(keys)


def json_document(fields: tuple[Field, ...]) -> tuple[str, list[str]]:
    """(the structure `json_transform` reads each record into, each field's raw column).

    One parse per record gives every leaf field as JSON text (so "73" is not taken for 73), the
    same machinery read_json uses. An object field with fields below it is not serialized: a
    leaf found below it proves it is an object; otherwise it is extracted for the rare record
    that has it at all (the key's name is in the text, or an escape could hide it).
    """
    keyed = [(f, _path_keys(f.path or f"$.{f.name}")) for f in fields]
    structure: dict = {}
    leaves = [keys for _, keys in keyed if not any(_below(k, keys) for _, k in keyed)]
    kinds = {keys: f.kind for f, keys in keyed}
    for keys in leaves:
        node = structure
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = TYPED_LEAVES.get(kinds[keys], "JSON")

    def access(keys: tuple[str, ...]) -> str:
        expression = "doc"
        for key in keys:
            expression = f"struct_extract({expression}, {sql_string(key)})"
        return expression

    def extracted(field: Field, keys: tuple[str, ...]) -> str:
        # The key and its closing quote: a needle starting with a letter, not a quote, is
        # found faster in JSON text full of quotes, and is in the text whenever the key is.
        key_text = sql_string(f'{keys[-1]}"')
        return (
            f"case when not contains(payload, {key_text}) and not {ESCAPED}"
            f" then null else json_extract(payload, {_json_path(field)})::varchar end"
        )

    columns = []
    for field, keys in keyed:
        below = [k for k in leaves if _below(k, keys)]
        if field.kind in TYPED_LEAVES and not below:
            columns.append(f"{access(keys)} as {leaf_column(field)}")
            expression = (
                f"case when doc is null or {access(keys)} is not null then null"
                f" else {extracted(field, keys)} end"
            )
        elif not below:
            expression = f"{access(keys)}::varchar"
        else:
            # A leaf found below an object proves it an object; only a typed leaf's NULL
            # leaves the question open.
            expression = (
                f"case when doc is null then null"
                f" when coalesce({', '.join(access(k) for k in below)}) is not null then '{{}}'"
                f" else {extracted(field, keys)} end"
            )
        columns.append(f"{expression} as {raw_column(field)}")
    return _structure_literal(structure), columns


def _below(keys: tuple[str, ...], parent: tuple[str, ...]) -> bool:
    return len(keys) > len(parent) and keys[: len(parent)] == parent


def _structure_literal(structure: dict) -> str:
    return sql_string(json.dumps(structure, separators=(",", ":")))


class _Compiled:
    """SQL pieces of one field: its raw text, presence, typed value and kind test.

    The typed value is computed once, as a column of its own; the rules then read that column
    (`self.value`), so a timestamp or UUID is parsed once per record, not once per rule.
    """

    def __init__(self, field: Field, dialect: Dialect):
        self.field = field
        column = f'"{field.name}"'
        allowed = ", ".join(sql_string(v) for v in field.values)
        if dialect == "json":
            # The field's JSON text: its first character gives its JSON type (so "73" is not
            # taken for the number 73). A string without an escape has no quote inside, so
            # dropping its quotes unquotes it, more cheaply than a substring.
            fragment = raw_column(field)
            self.missing = f"({fragment} is null or {fragment} = 'null')"
            # Byte tests of the first character: left() would scan the text for its UTF-8.
            stringy = f"starts_with({fragment}, '\"')"
            escaped = f"({ESCAPED} and contains({fragment}, '\\'))"
            raw = (
                f"(case when not {stringy} then {fragment}"
                f" when {escaped} then {fragment} ->> '$'"
                f" else replace({fragment}, '\"', '') end)"
            )
            self.shown = f"left({fragment}, 80)"
            # A digit first: at least '0' and below ':', the byte after '9'.
            number = f"(starts_with({fragment}, '-') or ({fragment} >= '0' and {fragment} < ':'))"
            kind_ok = {
                "string": stringy,
                "uuid": f"{stringy} and {column} is not null",
                "timestamp": f"{stringy} and {column} is not null",
                "date": f"{stringy} and {column} is not null",
                "number": number,
                "integer": f"{number} and not regexp_matches({fragment}, '[.eE]')",
                "boolean": f"{fragment} in ('true', 'false')",
                "object": f"starts_with({fragment}, '{{')",
                "array": f"starts_with({fragment}, '[')",
            }
            structured = fragment  # already JSON text; the raw table's JSON column checks it once
            boolean = f"case {fragment} when 'true' then true when 'false' then false end"
            # An enumeration is compared as JSON text: valid records are spelled plainly, so
            # only a value with an escape is unquoted (and a check-only field is never typed).
            quoted = ", ".join(sql_string(json.dumps(v)) for v in field.values)
            self.not_allowed = (
                f"({fragment} not in ({quoted}) and (not {escaped}"
                f" or ({fragment} ->> '$') not in ({allowed})))"
            )
            if field.kind in TYPED_LEAVES:
                # The typed leaf is the value; the text exists only where it did not convert.
                leaf = leaf_column(field)
                self.missing = f"({leaf} is null and {self.missing})"
                kind_ok[field.kind] = f"{column} is not null"
                text = f"coalesce({fragment}, json_extract(payload, {_json_path(field)})::varchar)"
                self.shown = f"left({text}, 80)"
                raw = leaf
        else:
            raw = raw_column(field)  # the trimmed cell; empty is absent
            self.missing = f"({raw} is null)"
            self.shown = "'''' || left(" + raw + ", 80) || ''''"
            kind_ok = {
                "string": "true",
                "uuid": f"{column} is not null",
                "timestamp": f"{column} is not null",
                "date": f"{column} is not null",
                "number": f"{column} is not null",
                "integer": f"{column} is not null and {column} = try_cast({raw} as double)",
                "boolean": f"{column} is not null",
                "object": f"{column} is not null and left({raw}, 1) = '{{'",
                "array": f"{column} is not null and left({raw}, 1) = '['",
            }
            structured = f"try_cast({raw} as json)"
            boolean = f"try_cast({raw} as boolean)"
            self.not_allowed = f"{column} not in ({allowed})"
        self.kind_ok = kind_ok[field.kind]
        self.value = column
        self.expression = {
            "string": raw,
            "uuid": f"try_cast({raw} as uuid)",
            # The instant in UTC, without a time zone: the same as `at time zone 'UTC'` at half
            # the cost (and "infinity" is no timestamp).
            "timestamp": f"make_timestamp(epoch_us(try_cast({raw} as timestamptz)))",
            "date": f"try_cast({raw} as date)",
            "number": f"try_cast({raw} as double)",
            "integer": f"try_cast(try_cast({raw} as double) as bigint)",
            "boolean": boolean,
            "object": structured,
            "array": structured,
        }[field.kind]

    def reason(self) -> str:
        """A CASE giving the first rule this field breaks, in words, or NULL."""
        body = " ".join(f"when {test} then {words}" for test, words in self._whens())
        return f"case {body} end"

    def passes(self) -> str:
        """True exactly where `reason()` is NULL: the field breaks no rule (never NULL)."""
        (missing, _), *rules = self._whens()
        broken = " or ".join(f"coalesce({test}, false)" for test, _ in rules)
        if self.field.required:
            return f"not ({missing} or {broken})"
        return f"({missing} or not ({broken}))"

    def _whens(self) -> list[tuple[str, str]]:
        """(test, words) of each rule in order; the first is whether the field is missing."""
        f = self.field
        label = sql_string(f.label)
        whens = []
        if f.required:
            whens.append((self.missing, sql_string(f"missing required field {f.label}")))
        else:
            # An absent optional field passes every other rule.
            whens.append((self.missing, "null"))
        whens.append(
            (
                f"not ({self.kind_ok})",
                f"{label} || ' must be {_KIND_WORDS[f.kind]}, got ' || {self.shown}",
            )
        )
        if f.values:
            whens.append(
                (
                    self.not_allowed,
                    f"{label} || ' ' || {self.shown} || ' is not one of {', '.join(f.values)}'",
                )
            )
        if f.low is not None or f.high is not None:
            low, high = f.low, f.high
            if low is not None and high is not None:
                test = f"not ({self.value} between {low!r} and {high!r})"
                words = f"is not between {_number_text(low)} and {_number_text(high)}"
            elif low is not None:
                test = f"{self.value} < {low!r}"
                words = f"is below {_number_text(low)}"
            else:
                test = f"{self.value} > {high!r}"
                words = f"is above {_number_text(high)}"
            whens.append((test, f"{label} || ' ' || {self.shown} || ' {words}'"))
        if f.not_future:
            whens.append(
                (
                    f"{self.value} > {NOW_UTC} + {FUTURE_TOLERANCE}",
                    f"{label} || ' ' || {self.shown} || ' is in the future'",
                )
            )
        if f.references:
            table, column = f.references
            whens.append(
                (
                    f"not ({self.value} in (select {column} from {table}))",
                    f"'unknown {f.label} ' || {self.shown}",
                )
            )
        return whens


def compile_fields(fields: tuple[Field, ...], dialect: Dialect) -> tuple[list[str], str]:
    """(typed column expressions `expr as name`, the fields' reasons joined by '; ').

    The expressions read the raw columns (`raw_column`); the reasons read the typed columns, so
    they belong to a later step of the query than the columns. A record that breaks no field
    rule (nearly every one) is told so by one conjunction, without building any reason.
    """
    compiled = [_Compiled(field, dialect) for field in fields]
    columns = [f'{c.expression} as "{c.field.name}"' for c in compiled]
    reasons = ", ".join(c.reason() for c in compiled)
    every_field_passes = " and ".join(c.passes() for c in compiled)
    return columns, f"case when {every_field_passes} then '' else concat_ws('; ', {reasons}) end"
