"""The weekly digest, every Monday at 06:00 UTC: off until an operator turns it on."""

import dagster as dg

from ..runs import guarded_schedule
from .jobs import weekly_digest

weekly_digest_schedule = guarded_schedule(
    "weekly_digest",
    weekly_digest,
    "0 6 * * 1",
    dg.DefaultScheduleStatus.STOPPED,
    "Each organization's weekly digest, Monday 06:00 UTC (after a run in progress, if any,"
    " so it reports that run's publication).",
    skip_when_busy=False,
)
