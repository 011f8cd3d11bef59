"""Asset checks: every file reconciles, quarantine stays rare, each event source is fresh."""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
import datetime as dt

import dagster as dg

from ...ingest import reconcile
from ...ingest.sources import EVENT_SOURCES, REFERENCE_SOURCES, Source
from ..resources import WarehouseResource
from .assets import raw_key


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
        first = "; ".join(f"{m.file_name}: {m.problem}" for m in found[:5])
        return dg.AssetCheckResult(
            passed=not found,
            metadata={
                "summary": f"every {source.name} record of {files:,} files is accounted for"
                if not found
                else f"{len(found):,} of {files:,} {source.name} files do not reconcile: {first}",
                "files": files,
                "mismatched_files": len(found),
                "first_mismatches": first,
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
        rate, limit = totals.quarantine_rate, warehouse.max_quarantine_rate
        return dg.AssetCheckResult(
            passed=rate <= limit,
            # The good records loaded; a high rate calls for a look, not a failed run.
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "summary": f"{totals.rows_quarantined:,} of {totals.rows_read:,} {source.name}"
                f" records are in quarantine ({rate:.1%}; the threshold is {limit:.1%})",
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
        limit = warehouse.max_staleness_hours
        return dg.AssetCheckResult(
            passed=age_hours is not None and age_hours <= limit,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "summary": freshness_sentence(source.name, newest, age_hours, limit),
                "newest_event": str(newest) if newest else "none",
                "age_hours": round(age_hours, 1) if age_hours is not None else -1,
                "threshold_hours": warehouse.max_staleness_hours,
            },
        )

    return check


def freshness_sentence(
    source: str, newest: dt.datetime | None, age_hours: float | None, limit_hours: float
) -> str:
    if newest is None or age_hours is None:
        return f"no {source} event has been loaded yet"
    age = f"{age_hours:.1f} hours" if age_hours < 48 else f"{age_hours / 24:.1f} days"
    verdict = "within" if age_hours <= limit_hours else "older than"
    return (
        f"the newest {source} event ({newest:%Y-%m-%d %H:%M} UTC) is {age} old,"
        f" {verdict} the {limit_hours:g} hours allowed"
    )


CHECKS = [
    *(_reconciled(s) for s in (*REFERENCE_SOURCES, *EVENT_SOURCES)),
    *(_quarantine_rate(s) for s in (*REFERENCE_SOURCES, *EVENT_SOURCES)),
    *(_fresh(s) for s in EVENT_SOURCES),
]
