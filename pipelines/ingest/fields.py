"""Field rules of the landing contract, compiled to one DuckDB staging query per source.

Each field states its kind, whether it is required, and its enumeration, range or reference. The
compiler turns that into SQL that types every value and says, per record, every rule it breaks in
words a person understands (``mentor_score 140 is not between 0 and 100``). The SQL is built from
these constants only; values from files never become SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "string", "uuid", "integer", "number", "boolean", "timestamp", "date", "object", "array"
]
Dialect = Literal["json", "table"]

# How far in the future a timestamp may lie (clock skew between platform and warehouse).
FUTURE_TOLERANCE = "interval 5 minute"
NOW_UTC = "(get_current_timestamp() at time zone 'UTC')"

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


def json_paths(fields: tuple[Field, ...]) -> str:
    """The list literal of JSON paths to extract in one parse, in field order."""
    paths = []
    for field in fields:
        path = field.path or f"$.{field.name}"
        paths.append(sql_string(path))
    return "[" + ", ".join(paths) + "]"


class _Compiled:
    """SQL pieces of one field: its raw text, presence, kind test and typed value."""

    def __init__(self, field: Field, index: int, dialect: Dialect):
        self.field = field
        if dialect == "json":
            # `s`: each path's value as text (strings unquoted, objects as JSON); `t`: its JSON
            # type. Two passes over the record beat parsing each extracted fragment again.
            raw = f"s[{index + 1}]"
            json_type = f"t[{index + 1}]"
            text = raw
            self.missing = f"({json_type} is null or {json_type} = 'NULL')"
            stringy = f"{json_type} = 'VARCHAR'"
            self.shown = (
                f"(case when {stringy} then '\"' || left({raw}, 80) || '\"'"
                f" else left({raw}, 80) end)"
            )
            kind_ok = {
                "string": stringy,
                "uuid": f"{stringy} and try_cast({raw} as uuid) is not null",
                "timestamp": f"{stringy} and try_cast({raw} as timestamptz) is not null",
                "date": f"{stringy} and try_cast({raw} as date) is not null",
                "number": f"{json_type} in ('BIGINT', 'UBIGINT', 'DOUBLE')",
                "integer": f"{json_type} in ('BIGINT', 'UBIGINT')",
                "boolean": f"{json_type} = 'BOOLEAN'",
                "object": f"{json_type} = 'OBJECT'",
                "array": f"{json_type} = 'ARRAY'",
            }
        else:
            raw = f"nullif(trim(\"{field.path or field.name}\"), '')"
            text = raw
            self.missing = f"({raw} is null)"
            self.shown = f"'''' || left({raw}, 80) || ''''"
            kind_ok = {
                "string": "true",
                "uuid": f"try_cast({raw} as uuid) is not null",
                "timestamp": f"try_cast({raw} as timestamptz) is not null",
                "date": f"try_cast({raw} as date) is not null",
                "number": f"try_cast({raw} as double) is not null",
                "integer": f"try_cast({raw} as double) = trunc(try_cast({raw} as double))",
                "boolean": f"try_cast({raw} as boolean) is not null",
                "object": f"json_valid({raw}) and left({raw}, 1) = '{{'",
                "array": f"json_valid({raw}) and left({raw}, 1) = '['",
            }
        self.raw = raw
        self.text = text
        self.kind_ok = kind_ok[field.kind]
        self.value = {
            "string": text,
            "uuid": f"try_cast({text} as uuid)",
            "timestamp": f"(try_cast({text} as timestamptz) at time zone 'UTC')",
            "date": f"try_cast({text} as date)",
            "number": f"try_cast({text} as double)",
            "integer": f"try_cast(try_cast({text} as double) as bigint)",
            "boolean": f"try_cast({text} as boolean)",
            "object": f"try_cast({raw} as json)",
            "array": f"try_cast({raw} as json)",
        }[field.kind]

    def reason(self) -> str:
        """A CASE giving the first rule this field breaks, in words, or NULL."""
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
            allowed = ", ".join(sql_string(v) for v in f.values)
            whens.append(
                (
                    f"{self.value} not in ({allowed})",
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
        body = " ".join(f"when {test} then {words}" for test, words in whens)
        return f"case {body} end"


def compile_fields(fields: tuple[Field, ...], dialect: Dialect) -> tuple[list[str], list[str]]:
    """(typed column expressions `expr as name`, reason expressions) for the fields."""
    columns, reasons = [], []
    for index, field in enumerate(fields):
        compiled = _Compiled(field, index, dialect)
        columns.append(f"{compiled.value} as {field.name}")
        reasons.append(compiled.reason())
    return columns, reasons
