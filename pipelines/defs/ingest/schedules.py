"""The refresh job, and a schedule running it every 5 minutes (seed 003's refresh cadence)."""

import dagster as dg

refresh_job = dg.define_asset_job(
    "refresh",
    # The forecasts are the nightly job's; marts reading them use the latest there is.
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("forecasts"),
    description="Load new landing files and rebuild every model downstream.",
)

refresh_schedule = dg.ScheduleDefinition(
    name="refresh_every_5_minutes",
    job=refresh_job,
    cron_schedule="*/5 * * * *",
    execution_timezone="UTC",
    # Off until an operator turns it on; the sensor already reacts to new files.
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
