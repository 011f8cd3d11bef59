"""The weekly digest, every Monday at 06:00 UTC: off until an operator turns it on."""

import dagster as dg

from ..runs import guarded_schedule
from .jobs import weekly_digest

weekly_digest_schedule = guarded_schedule(
    "weekly_digest",
    weekly_digest,
    "0 6 * * 1",
    dg.DefaultScheduleStatus.STOPPED,
    "Each organization's weekly digest, Monday 06:00 UTC, from the publication current then"
    " (it reads the snapshot only: a run in progress neither delays it nor is delayed).",
    skip_when_busy=False,
)
