"""Vectorized JSON text built with polars expressions.

Every builder takes expressions that already hold JSON text (or null) and returns an expression of
JSON text. A null member is left out of its object, never written as ``null``: xAPI forbids nulls,
and leaving members out is how optional fields are expressed throughout the landing formats.
All strings written here are identifiers and fixed vocabulary, which need no escaping.
"""

from __future__ import annotations

import polars as pl


def string(expr: pl.Expr | str) -> pl.Expr:
    """A JSON string; ``expr`` must hold no quote or backslash (ids and vocabulary only)."""
    value = pl.col(expr) if isinstance(expr, str) else expr
    return pl.concat_str([pl.lit('"'), value, pl.lit('"')])


def number(expr: pl.Expr | str, decimals: int | None = None) -> pl.Expr:
    value = pl.col(expr) if isinstance(expr, str) else expr
    if decimals is not None:
        value = value.round(decimals)
    return value.cast(pl.String)


def boolean(expr: pl.Expr | str) -> pl.Expr:
    value = pl.col(expr) if isinstance(expr, str) else expr
    return pl.when(value).then(pl.lit("true")).when(~value).then(pl.lit("false"))


def timestamp(expr: pl.Expr | str) -> pl.Expr:
    """Epoch milliseconds (Int64) as an ISO 8601 UTC string, e.g. "2026-03-02T10:15:30.123Z"."""
    value = pl.col(expr) if isinstance(expr, str) else expr
    return string(pl.from_epoch(value, time_unit="ms").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"))


def member(name: str, value: pl.Expr) -> pl.Expr:
    """``"name":value``; null when the value is null, so the member disappears."""
    return pl.concat_str([pl.lit(f'"{name}":'), value])


def obj(*members: pl.Expr) -> pl.Expr:
    """An object of the non-null members, ``{}`` when there are none."""
    inner = pl.concat_str(list(members), separator=",", ignore_nulls=True)
    return pl.concat_str([pl.lit("{"), inner.fill_null(""), pl.lit("}")])


def array(*items: pl.Expr) -> pl.Expr:
    """An array of the non-null items, ``[]`` when there are none."""
    inner = pl.concat_str(list(items), separator=",", ignore_nulls=True)
    return pl.concat_str([pl.lit("["), inner.fill_null(""), pl.lit("]")])


def render_object(
    df: pl.DataFrame, members: dict[str, pl.Expr], optional: frozenset[str] = frozenset()
) -> pl.Series:
    """One JSON object per row of ``df``, members in the given order.

    Each member's value (JSON text) is computed as a column first, then joined in one flat
    concatenation: polars does this several times faster than one deeply nested expression.
    A null value of an ``optional`` member leaves the member out; any other null must not occur.
    """
    names = list(members)
    if names and names[0] in optional:
        raise ValueError("the first member cannot be optional")
    staged = df.select(*(expr.alias(f"m{i}") for i, expr in enumerate(members.values())))
    parts = []
    for i, name in enumerate(names):
        piece = pl.concat_str([pl.lit(f'{"{" if i == 0 else ","}"{name}":'), pl.col(f"m{i}")])
        parts.append(piece.fill_null("") if name in optional else piece)
    return staged.select(pl.concat_str([*parts, pl.lit("}")]).alias("line")).to_series()
