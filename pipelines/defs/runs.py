"""One pipeline run at a time per warehouse: the rule sensors, schedules and the CLI share.

A run holds the warehouse's run lock from start to end (WarehouseResource takes it when a run
initializes it; `cohortlens run` takes it first). While it does, the landing sensor and the
5-minute refresh skip, saying which run holds it (their next tick sees the same files again);
the nightly jobs, which must not lose a night, start and wait for the lock, bounded by the
resource's `run_wait_seconds`. A killed run's lock is free again (pipelines.warehouse).
"""

from collections.abc import Callable

import dagster as dg

from ..warehouse import run_holder
from .resources import WarehouseResource


def skip_while_running(warehouse: WarehouseResource) -> dg.SkipReason | None:
    holder = run_holder(warehouse.paths().warehouse)
    return dg.SkipReason(holder.describe()) if holder else None


def _instance(context: dg.ScheduleEvaluationContext) -> dg.DagsterInstance | None:
    """The schedule's instance; None when evaluated without one (in a test)."""
    try:
        return context.instance
    except dg.DagsterInvariantViolationError:
        return None


def guarded_schedule(
    name: str,
    job: object,  # a job, or an asset job not yet resolved
    cron_schedule: str,
    default_status: dg.DefaultScheduleStatus,
    description: str,
    skip_when_busy: bool,
    run_tags: Callable[[dg.DagsterInstance | None], dict[str, str]] | None = None,
) -> dg.ScheduleDefinition:
    """A schedule that starts ``job`` on its cron; while a run is in progress, it skips the
    tick or starts a run that waits for the lock. ``run_tags``: the run's tags, from the
    instance (e.g. the partitions it covers)."""

    @dg.schedule(
        name=name,
        job=job,
        cron_schedule=cron_schedule,
        execution_timezone="UTC",
        default_status=default_status,
        description=description,
    )
    def _schedule(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
        busy = skip_while_running(warehouse) if skip_when_busy else None
        if busy:
            return busy
        return dg.RunRequest(tags=run_tags(_instance(context)) if run_tags else {})

    return _schedule
