"""One pipeline run at a time per warehouse: the rule sensors, schedules and the CLI share.

A run holds the warehouse's run lock from start to end (WarehouseResource takes it when a run
initializes it; `cohortlens run` takes it first). While it does, a sensor or schedule tick
skips, saying which run holds it; a killed run's lock is free again (pipelines.warehouse).
"""

import dagster as dg

from ..warehouse import run_holder
from .resources import WarehouseResource


def skip_while_running(warehouse: WarehouseResource) -> dg.SkipReason | None:
    holder = run_holder(warehouse.paths().warehouse)
    return dg.SkipReason(holder.describe()) if holder else None


def guarded_schedule(
    name: str,
    job: object,  # a job, or an asset job not yet resolved
    cron_schedule: str,
    default_status: dg.DefaultScheduleStatus,
    description: str,
) -> dg.ScheduleDefinition:
    """A schedule that starts ``job`` on its cron, unless a run is in progress."""

    @dg.schedule(
        name=name,
        job=job,
        cron_schedule=cron_schedule,
        execution_timezone="UTC",
        default_status=default_status,
        description=description,
    )
    def _schedule(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
        return skip_while_running(warehouse) or dg.RunRequest()

    return _schedule
