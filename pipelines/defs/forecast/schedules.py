"""The nightly forecast: the engine's assets and the models that read them."""

import dagster as dg

from ..resources import organization_range
from ..runs import guarded_schedule
from .assets import GROUP

forecast_selection = dg.AssetSelection.groups(GROUP).downstream()

nightly_forecast_job = dg.define_asset_job(
    "nightly_forecast",
    selection=forecast_selection,
    description="Calibrate, forecast and backtest; then rebuild the marts that read forecasts.",
)

nightly_forecast_schedule = guarded_schedule(
    "nightly_forecast",
    nightly_forecast_job,
    "30 2 * * *",
    dg.DefaultScheduleStatus.RUNNING,
    "The nightly forecast of every organization, in one run (after a run in progress, if any).",
    skip_when_busy=False,
    run_tags=organization_range,
)
