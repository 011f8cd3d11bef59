"""The compaction job: merge the row groups that loads and incremental builds leave behind."""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
import dagster as dg

from ...warehouse import compact
from ..resources import POOL, WarehouseResource


@dg.op(
    pool=POOL, description="Checkpoint the warehouse with vacuum on (pipelines.warehouse.compact)."
)
def compact_warehouse(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> None:
    done = compact(warehouse.paths().warehouse)
    context.log.info(
        f"row groups {done.row_groups_before:,} -> {done.row_groups_after:,}"
        f" in {done.seconds:.1f} s"
    )


@dg.job(description="Merge partly filled row groups and reclaim deleted rows, once a night.")
def compaction():
    compact_warehouse()
