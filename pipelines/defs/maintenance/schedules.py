"""The compaction runs nightly, after the nightly forecast (02:30 UTC) has written its tables."""

import dagster as dg

from .jobs import compaction

nightly_compaction_schedule = dg.ScheduleDefinition(
    name="nightly_compaction",
    job=compaction,
    cron_schedule="30 4 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
