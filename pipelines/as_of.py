"""The as-of date of a run: the one day every mart, forecast and risk score of the run is about.

Requested (`--as-of`, Dagster run config, dbt var) for backfills and replays; else today (UTC);
else, when the newest event is older than the staleness limit (48 h), that event's day: a
program whose data ends in the past is then read as of its last day, not as if everyone had
stopped since.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from .ingest.reconcile import newest_event
from .ingest.sources import ASSESSMENT_ATTEMPTS, MISSION_PROGRESS, XAPI


@dataclass(frozen=True)
class AsOf:
    date: dt.date
    how: str  # requested | today | newest event
    warning: str | None = None


def newest_event_time(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    """The latest event of any event source in raw (UTC), or None before any has loaded."""
    times = []
    for source in (XAPI, MISSION_PROGRESS, ASSESSMENT_ATTEMPTS):
        try:
            times.append(newest_event(con, source))
        except duckdb.CatalogException:  # the raw table is not created yet
            continue
    times = [t for t in times if t is not None]
    return max(times) if times else None


def resolve_as_of(
    con: duckdb.DuckDBPyConnection | None,
    requested: dt.date | None,
    now: dt.datetime,
    stale_after_hours: float = 48.0,
) -> AsOf:
    """The run's as-of date. `now` is the run's start (UTC, naive or aware)."""
    if requested is not None:
        return AsOf(requested, "requested")
    now = _utc_naive(now)
    newest = newest_event_time(con) if con is not None else None
    if newest is None:
        return AsOf(now.date(), "today")
    newest = _utc_naive(newest)
    age_hours = (now - newest).total_seconds() / 3600
    if age_hours <= stale_after_hours:
        return AsOf(now.date(), "today")
    return AsOf(
        newest.date(),
        "newest event",
        f"the newest event is from {newest:%Y-%m-%d %H:%M} UTC, {age_hours / 24:.0f} days ago:"
        f" the marts and forecasts are as of {newest.date()}, its day (set --as-of to choose)",
    )


def _utc_naive(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def parse_as_of(text: str | None) -> dt.date | None:
    """A YYYY-MM-DD date, or None for an empty value; ValueError names the bad text."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"as-of date {text!r} is not a date of the form YYYY-MM-DD") from None
