"""What the learner's page says above the fold: the band as a label, and a nudge."""

from __future__ import annotations

import datetime as dt

from dashboards import session

AS_OF = dt.date(2026, 3, 10)


def test_a_week_without_study_is_named_with_its_day():
    row = {"last_active_date": dt.date(2026, 3, 1), "as_of_date": AS_OF, "current_streak_days": 0}
    assert session.nudge(row) == (
        "You have not studied since 2026-03-01 (9 days). A 20-minute session today starts a"
        " new streak."
    )


def test_a_streak_about_to_break_is_told_and_a_fresh_one_is_left_alone():
    yesterday = {"last_active_date": dt.date(2026, 3, 9), "as_of_date": AS_OF}
    assert session.nudge(yesterday | {"current_streak_days": 6}) == (
        "Your 6-day streak ends unless you study today."
    )
    assert session.nudge({"last_active_date": AS_OF, "as_of_date": AS_OF}) is None


def test_bands_are_labels_with_colours_not_arrows():
    assert session.band_badge("not_ready") == {"label": "not ready", "color": "red"}
    assert session.band_badge("ready") == {"label": "ready", "color": "green"}
    assert session.band_badge(None)["color"] == "gray"
