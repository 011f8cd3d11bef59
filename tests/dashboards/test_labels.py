"""Every table a person sees is labelled and formatted: no snake_case header, no raw float,
no timestamp where a date is meant. Streamlit draws tables on a canvas, so the check reads
each table's column configuration from its element proto, for every page and role."""

from __future__ import annotations

import json
import re

import pytest

from tests.dashboards.test_app import sign_in

SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
SUPERVISOR_PAGES = ["overview", "learners", "missions", "forecasts", "data_health", "definitions"]


def unreadable_columns(element) -> list[str]:
    """The visible columns of one st.dataframe that a person could not read as is."""
    config = json.loads(element.proto.columns or "{}")
    frame = element.value
    problems = []
    for name in frame.columns:
        column = config.get(name, {})
        if column.get("hidden"):
            continue
        label = column.get("label", name)
        if SNAKE.match(label):
            problems.append(f"{name}: header {label!r} is snake_case")
        kind = frame[name].dtype.kind
        formatted = "format" in column.get("type_config", {})
        if kind == "f" and not formatted:
            problems.append(f"{name}: floats without a format")
        if kind == "M" and not formatted:
            problems.append(f"{name}: a timestamp without a format")
        if kind in "iu" and frame[name].abs().max() >= 1000 and not formatted:
            problems.append(f"{name}: counts without thousands separators")
    return problems


def pages_for(user: str) -> list[str]:
    return SUPERVISOR_PAGES if user in ("sup", "admin") else ["my_progress", "definitions"]


@pytest.mark.parametrize("user", ["admin", "sup", "free", "stu", "pro"])
def test_every_visible_table_is_labelled_and_formatted(app, user):
    sign_in(app, user)
    problems = []
    seen = 0
    for page in pages_for(user):
        app.switch_page(f"app_pages/{page}.py").run()
        assert not app.exception, (page, app.exception)
        if page == "learners":  # the drill-down's tables too
            next(s for s in app.selectbox if s.label == "Drill down").select_index(0).run()
        for element in app.dataframe:
            seen += 1
            problems += [f"{page}: {p}" for p in unreadable_columns(element)]
    if user in ("admin", "sup", "pro"):  # pro: their mentor reviews
        assert seen, "no table was shown: the check would pass vacuously"
    assert not problems, "\n".join(problems)


def test_the_check_catches_a_raw_table():
    """The same check fails on a table drawn without a column configuration."""
    from streamlit.testing.v1 import AppTest

    raw = AppTest.from_string(
        "import polars as pl, streamlit as st\n"
        "st.dataframe(pl.DataFrame({'n_active_7d': [186555], 'pass_rate': [0.7208]}))"
    )
    raw.run()
    problems = unreadable_columns(raw.dataframe[0])
    assert any("snake_case" in p for p in problems)
    assert any("floats without a format" in p for p in problems)
