"""The sentence under a learner's path timeline."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboards import charts


def _steps(*rows) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=["step_id", "ideal_rank", "done_on", "off_path_reason"],
        orient="row",
    )


def test_the_first_step_off_the_path_and_the_next_one_are_named():
    day = dt.date(2026, 2, 1)
    steps = _steps(
        ("M-03", 3, day, None),
        ("M-02", 2, None, "skipped"),
        ("M-01", 1, day, None),
        ("D-01", 4, None, "late"),
    )
    assert charts.path_summary(steps) == (
        "Left the ideal path at M-02 (skipped); the ideal path does M-02 next."
    )


def test_a_learner_on_the_path_is_told_so():
    steps = _steps(("M-01", 1, dt.date(2026, 2, 1), None), ("M-02", 2, None, None))
    assert charts.path_summary(steps) == (
        "On the ideal path so far; the ideal path does M-02 next."
    )
