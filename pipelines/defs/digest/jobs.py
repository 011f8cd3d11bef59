"""The weekly digest job: each organization's report (dashboards/digest.py) from the snapshot."""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
import datetime as dt

import dagster as dg

from ..resources import ServingResource


class DigestConfig(dg.Config):
    """Unset: the week of the snapshot's as-of date, every organization."""

    week: str | None = None  # any day of the week (YYYY-MM-DD); the report is its Monday's
    orgs: list[str] | None = None


@dg.op(
    description="Write each organization's weekly digest (HTML, PDF and its numbers) under"
    " serving/reports/ (dashboards.digest)."
)
def write_weekly_digests(
    context: dg.OpExecutionContext, config: DigestConfig, serving: ServingResource
) -> None:
    from dashboards.digest import write_digests

    week = dt.date.fromisoformat(config.week) if config.week else None
    written = write_digests(serving.folder(), week, config.orgs)
    for done in written:  # ids and counts only: nothing of a learner's is logged
        context.log.info(
            f"{done.report.org_id}: week of {done.report.week}, {done.kpis['to_contact']:,}"
            f" to contact, {done.pdf_bytes / 1e3:,.0f} kB PDF in {done.seconds:.1f} s"
        )


@dg.job(description="Write each organization's weekly digest from the published snapshot.")
def weekly_digest():
    write_weekly_digests()
