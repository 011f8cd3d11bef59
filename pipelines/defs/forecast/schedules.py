"""The nightly forecast: the engine's assets and the models that read them."""

import dagster as dg

from .assets import GROUP

forecast_selection = dg.AssetSelection.groups(GROUP).downstream()

nightly_forecast_job = dg.define_asset_job(
    "nightly_forecast",
    selection=forecast_selection,
    description="Calibrate, forecast and backtest; then rebuild the marts that read forecasts.",
)

nightly_forecast_schedule = dg.ScheduleDefinition(
    name="nightly_forecast",
    job=nightly_forecast_job,
    cron_schedule="30 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
