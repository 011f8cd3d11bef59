"""CSV exports that a spreadsheet cannot turn into formulas."""

from __future__ import annotations

import polars as pl

# A cell starting with one of these may run as a formula in a spreadsheet (CSV injection).
FORMULA_START = r"^[=+\-@\t\r]"


def safe_csv(frame: pl.DataFrame) -> bytes:
    """CSV of ``frame``: lists joined with '; ', and text that could start a formula prefixed
    with a single quote, which spreadsheets show as text."""
    lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
    frame = frame.with_columns(pl.col(c).list.join("; ") for c in lists)
    text = [c for c, t in frame.schema.items() if t == pl.String]
    frame = frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )
    return frame.write_csv().encode()
