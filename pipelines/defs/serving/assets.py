"""The dashboards' snapshot: published after the marts and forecasts it copies."""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
import functools

import dagster as dg

from ...serving import publish
from ..forecast.assets import BACKTEST, CALIBRATION, COHORT_TRAJECTORY, MASTERY_FORECAST
from ..resources import POOL, WarehouseResource
from ..transform.assets import dbt_models

SNAPSHOT = dg.AssetKey(["serving", "snapshot"])


def serving_snapshot(warehouse: WarehouseResource) -> dg.MaterializeResult:
    paths = warehouse.paths()
    done = publish(paths.warehouse, paths.serving)
    return dg.MaterializeResult(
        metadata={
            "path": str(done.snapshot.path),
            "published_at": done.snapshot.published_at.isoformat(),
            "size_mb": round(done.snapshot.size_bytes / 1e6, 1),
            "tables_copied": len(done.copied),
            "tables_carried_over": len(done.carried),
            "mb_written": round(done.bytes_written / 1e6, 1),
            "seconds": round(done.seconds, 2),
        }
    )


@functools.cache
def serving_assets() -> list[dg.AssetsDefinition]:
    """The snapshot, published after every mart and forecast it copies."""
    marts = [key for key in dbt_models().keys if key.path[0] == "marts"]
    snapshot = dg.asset(
        key=SNAPSHOT,
        deps=[*marts, CALIBRATION, MASTERY_FORECAST, COHORT_TRAJECTORY, BACKTEST],
        group_name="serving",
        pool=POOL,
        description="A read-only copy of the marts, forecasts and audit counts for the "
        "dashboards, swapped in atomically (serving/current.json).",
    )(serving_snapshot)
    return [snapshot]
