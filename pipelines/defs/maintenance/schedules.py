"""The compaction runs nightly, after the nightly forecast (02:30 UTC) has written its tables."""

import dagster as dg

from ..runs import guarded_schedule
from .jobs import compaction

nightly_compaction_schedule = guarded_schedule(
    "nightly_compaction",
    compaction,
    "30 4 * * *",
    dg.DefaultScheduleStatus.RUNNING,
    "Merge the row groups loads and incremental builds leave, once a night (after a run in"
    " progress, if any).",
    skip_when_busy=False,
)
