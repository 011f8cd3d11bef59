"""The Dagster code location: `dagster dev` from the repository root loads `defs`.

`defs` is lazy (``dg.definitions``): importing this module parses no dbt project.
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from .defs.digest.jobs import weekly_digest
from .defs.digest.schedules import weekly_digest_schedule
from .defs.forecast.assets import forecast_assets
from .defs.forecast.checks import CHECKS as FORECAST_CHECKS
from .defs.forecast.schedules import nightly_forecast_job, nightly_forecast_schedule
from .defs.ingest.assets import ASSETS as INGEST_ASSETS
from .defs.ingest.checks import CHECKS as INGEST_CHECKS
from .defs.ingest.schedules import refresh_job, refresh_schedule
from .defs.ingest.sensors import landing_sensor
from .defs.maintenance.jobs import compaction
from .defs.maintenance.schedules import nightly_compaction_schedule
from .defs.resources import (
    DaskResource,
    ForecastSettings,
    LRSResource,
    ServingResource,
    WarehouseResource,
)
from .defs.serving.assets import serving_assets
from .defs.transform.assets import dbt_models
from .defs.transform.project import DBT_EXECUTABLE, dbt_project
from .warehouse import keep_private


def build_defs(
    warehouse: WarehouseResource | None = None,
    forecast_settings: ForecastSettings | None = None,
    lrs: LRSResource | None = None,
    dask: DaskResource | None = None,
) -> dg.Definitions:
    """Everything, bound to `warehouse` (default: the paths under COHORTLENS_HOME); the
    engine's blocks run on `dask` (default: COHORTLENS_DASK_SCHEDULER's cluster, if set).

    Steps run in one process, one after another: they share one DuckDB file, which allows a
    single writer.
    """
    warehouse = warehouse or WarehouseResource()
    return dg.Definitions(
        assets=[*INGEST_ASSETS, dbt_models(), *forecast_assets(), *serving_assets()],
        asset_checks=[*INGEST_CHECKS, *FORECAST_CHECKS],
        jobs=[refresh_job, nightly_forecast_job, compaction, weekly_digest],
        schedules=[
            refresh_schedule,
            nightly_forecast_schedule,
            nightly_compaction_schedule,
            weekly_digest_schedule,
        ],
        sensors=[landing_sensor],
        resources={
            "warehouse": warehouse,
            "serving": ServingResource(warehouse=warehouse.warehouse),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
            "forecast_settings": forecast_settings or ForecastSettings(),
            "lrs": lrs or LRSResource.from_env(),
            "dask": dask or DaskResource.from_env(),
        },
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    keep_private()  # `dagster dev`'s processes write the warehouse too
    return build_defs()
