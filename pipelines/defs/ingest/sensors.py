"""A sensor on the landing folder: a new, changed or removed file starts a refresh."""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
import dagster as dg

from ...ingest.landing import discover, fingerprint
from ...ingest.lrs import FILE_PREFIX
from ..resources import WarehouseResource
from ..runs import skip_while_running
from .schedules import refresh_job


@dg.sensor(
    job=refresh_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a refresh when the landing folder's listing changes. It only lists "
    "files (names, sizes, times), so it never waits for the warehouse.",
)
def landing_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    landing = warehouse.paths().landing
    busy = skip_while_running(warehouse)
    if busy is not None:  # the listing is looked at again on the next tick
        return busy
    # Files a refresh pulled from an LRS were loaded by that refresh: no new run for them.
    files = [f for f in discover(landing) if not f.path.name.startswith(FILE_PREFIX)]
    if not files:
        return dg.SkipReason(f"no files in {landing}")
    current = fingerprint(files)
    if current == context.cursor:
        return dg.SkipReason(f"no change in {landing} ({len(files)} files)")
    context.update_cursor(current)
    # The run key makes a listing trigger one run, even if the cursor update were lost.
    return dg.RunRequest(run_key=current, tags={"cohortlens/landing_files": str(len(files))})
