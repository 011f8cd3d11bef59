"""The refresh job, and a schedule running it every 5 minutes (seed 003's refresh cadence)."""

import os

import dagster as dg

from ..runs import guarded_schedule

refresh_job = dg.define_asset_job(
    "refresh",
    # The forecasts are the nightly job's; marts reading them use the latest there is.
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("forecasts"),
    description="Load new landing files and rebuild every model downstream.",
)

# Off until an operator turns it on, since the sensor already reacts to new files; on from the
# start with an LRS to pull from, whose new statements no listing of the landing folder shows.
refresh_schedule = guarded_schedule(
    "refresh_every_5_minutes",
    refresh_job,
    "*/5 * * * *",
    dg.DefaultScheduleStatus.RUNNING
    if os.environ.get("COHORTLENS_LRS_ENDPOINT")
    else dg.DefaultScheduleStatus.STOPPED,
    "The refresh every 5 minutes, unless a run is in progress.",
    skip_when_busy=True,
)
