"""Asset checks: every file reconciles, quarantine stays rare, each event source is fresh."""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
import datetime as dt

import dagster as dg

from ...ingest import reconcile
from ...ingest.sources import EVENT_SOURCES, REFERENCE_SOURCES, Source
from .assets import raw_key
from .resources import WarehouseResource


def _reconciled(source: Source) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_key(source.table),
        name="every_record_accounted_for",
        description="For every file: rows_read = loaded + quarantined + duplicate, and the "
        "loaded and quarantined rows are where the audit says.",
    )
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            found = reconcile.mismatches(con, source)
            files = reconcile.totals(con, source).files
        return dg.AssetCheckResult(
            passed=not found,
            metadata={
                "files": files,
                "mismatched_files": len(found),
                "first_mismatches": "; ".join(f"{m.file_name}: {m.problem}" for m in found[:5]),
            },
        )

    return check


def _quarantine_rate(source: Source) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_key(source.table),
        name="quarantine_rate_below_threshold",
        description="The share of records quarantined stays below the resource's threshold.",
    )
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            totals = reconcile.totals(con, source)
        return dg.AssetCheckResult(
            passed=totals.quarantine_rate <= warehouse.max_quarantine_rate,
            # The good records loaded; a high rate calls for a look, not a failed run.
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "rows_read": totals.rows_read,
                "rows_quarantined": totals.rows_quarantined,
                "quarantine_rate": round(totals.quarantine_rate, 6),
                "threshold": warehouse.max_quarantine_rate,
            },
        )

    return check


def _fresh(source: Source) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_key(source.table),
        name="fresh",
        description="The newest event is recent (within the resource's max_staleness_hours).",
    )
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            newest = reconcile.newest_event(con, source)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        age_hours = (now - newest).total_seconds() / 3600 if newest else None
        return dg.AssetCheckResult(
            passed=age_hours is not None and age_hours <= warehouse.max_staleness_hours,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "newest_event": str(newest) if newest else "none",
                "age_hours": round(age_hours, 1) if age_hours is not None else -1,
                "threshold_hours": warehouse.max_staleness_hours,
            },
        )

    return check


CHECKS = [
    *(_reconciled(s) for s in (*REFERENCE_SOURCES, *EVENT_SOURCES)),
    *(_quarantine_rate(s) for s in (*REFERENCE_SOURCES, *EVENT_SOURCES)),
    *(_fresh(s) for s in EVENT_SOURCES),
]
