"""One asset per raw table; each loads the new files of its source (see pipelines/ingest)."""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
from collections import Counter
from collections.abc import Iterator

import dagster as dg
import duckdb

from ...ingest.loader import FileOutcome, Loader, SourceSummary
from ...ingest.lrs import LRSError, pull
from ...ingest.sources import (
    ASSESSMENT_ATTEMPTS,
    MISSION_PROGRESS,
    REFERENCE_SOURCES,
    XAPI,
    Source,
)
from ..resources import POOL, LRSResource, WarehouseResource, register_organizations

GROUP = "raw"
# Every organization the reference data has named (a snapshot may drop one: it keeps its rows).
ORG_IDS = "select distinct org_id from raw.organizations where org_id is not null order by 1"


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def _load(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, sources: list[Source | None]
) -> tuple[list[FileOutcome], Counter[str]]:
    """The outcome of each new file, and the records let out of quarantine by source."""
    with warehouse.connect() as con:
        loader = Loader(con, warehouse.paths().landing)
        outcomes = loader.load(sources)
    for outcome in outcomes:
        if outcome.status in ("failed", "rejected"):
            context.log.warning(f"{outcome.file_name}: {outcome.status}: {outcome.reason}")
    for source, released in loader.released.items():
        if released:
            context.log.info(f"{source}: {released} quarantined records pass now and are loaded")
    return outcomes, loader.released


def _metadata(
    source: str, outcomes: list[FileOutcome], released: Counter[str] | None = None
) -> dict[str, dg.MetadataValue]:
    summary = SourceSummary.of(source, [o for o in outcomes if o.source == source])
    metadata = {
        "new_files": dg.MetadataValue.int(summary.files),
        "failed_files": dg.MetadataValue.int(summary.failed_files),
        "rows_read": dg.MetadataValue.int(summary.rows_read),
        "rows_loaded": dg.MetadataValue.int(summary.rows_loaded),
        "rows_quarantined": dg.MetadataValue.int(summary.rows_quarantined),
        "rows_duplicate": dg.MetadataValue.int(summary.rows_duplicate),
    }
    if released is not None:  # a source whose quarantine is checked again
        metadata["rows_released_from_quarantine"] = dg.MetadataValue.int(released[source])
    return metadata


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            raw_key(s.table),
            group_name=GROUP,
            kinds={"duckdb"},
            description=f"The latest {s.name} snapshot (CSV or Parquet; the latest file wins).",
        )
        for s in REFERENCE_SOURCES
    ],
    pool=POOL,
)
def reference_snapshots(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    """Organizations, cohorts, learners and the catalog, loaded in dependency order; each
    organization becomes a partition of the forecast's per-learner assets."""
    outcomes, _ = _load(context, warehouse, list(REFERENCE_SOURCES))
    with warehouse.connect() as con:
        try:
            orgs = [row[0] for row in con.execute(ORG_IDS).fetchall()]
        except duckdb.CatalogException:  # no organizations file has landed yet
            orgs = []
    added = register_organizations(context.instance, orgs)
    if added:
        context.log.info(f"organization partitions added: {', '.join(added)}")
    for source in REFERENCE_SOURCES:
        yield dg.MaterializeResult(
            asset_key=raw_key(source.table), metadata=_metadata(source.name, outcomes)
        )


@dg.asset(
    key=raw_key("mission_progress"),
    group_name=GROUP,
    kinds={"duckdb"},
    pool=POOL,
    deps=[raw_key("learners"), raw_key("missions")],
    description="Every version of every mission progress record (change data capture); "
    "raw.mission_progress_current resolves the latest.",
)
def mission_progress(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    outcomes, released = _load(context, warehouse, [MISSION_PROGRESS])
    return dg.MaterializeResult(metadata=_metadata(MISSION_PROGRESS.name, outcomes, released))


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            raw_key("assessment_attempts"),
            group_name=GROUP,
            kinds={"duckdb"},
            deps=[raw_key("learners"), raw_key("assessments"), raw_key("questions")],
            description="One row per assessment attempt, in its most advanced status.",
        ),
        dg.AssetSpec(
            raw_key("assessment_answers"),
            group_name=GROUP,
            kinds={"duckdb"},
            description="The answers of each attempt, one row per question answered.",
        ),
    ],
    pool=POOL,
)
def assessment_attempts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    outcomes, _ = _load(context, warehouse, [ASSESSMENT_ATTEMPTS])
    metadata = _metadata(ASSESSMENT_ATTEMPTS.name, outcomes)
    yield dg.MaterializeResult(asset_key=raw_key("assessment_attempts"), metadata=metadata)
    yield dg.MaterializeResult(asset_key=raw_key("assessment_answers"))


@dg.asset(
    key=raw_key("xapi_statements"),
    group_name=GROUP,
    kinds={"duckdb"},
    pool=POOL,
    deps=[raw_key(t) for t in ("learners", "identities", "missions", "modules", "assessments")],
    description="One row per distinct xAPI statement id, with its original JSON.",
)
def xapi_statements(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    outcomes, released = _load(context, warehouse, [XAPI])
    return dg.MaterializeResult(metadata=_metadata(XAPI.name, outcomes, released))


LRS_KEY = dg.AssetKey(["landing", "xapi_lrs"])


@dg.asset(
    key=LRS_KEY,
    group_name="landing",
    kinds={"python"},
    pool=POOL,
    output_required=False,
    description="New xAPI statements pulled from the LRS (COHORTLENS_LRS_ENDPOINT) into "
    "landing files (xapi/xapi_lrs_*.jsonl.gz), which raw/xapi_statements then loads. Without "
    "an endpoint it does nothing. It feeds no asset directly, so an LRS that fails does not "
    "stop the landing files from loading.",
)
def xapi_lrs(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, lrs: LRSResource
) -> Iterator[dg.MaterializeResult]:
    try:
        config = lrs.config()
        if config is None:
            return
        with warehouse.connect() as con:
            summary = pull(con, warehouse.paths().landing, config)
    except LRSError as error:
        raise dg.Failure(description=str(error)) from None
    context.log.info(summary.sentence)
    yield dg.MaterializeResult(
        metadata={
            "summary": dg.MetadataValue.text(summary.sentence),
            "statements_received": dg.MetadataValue.int(summary.received),
            "statements_written": dg.MetadataValue.int(summary.written),
            "files": dg.MetadataValue.int(len(summary.files)),
            "pages": dg.MetadataValue.int(summary.pages),
            "since": dg.MetadataValue.text(str(summary.since) if summary.since else "the start"),
            "cursor": dg.MetadataValue.text(str(summary.cursor) if summary.cursor else "none"),
        }
    )


@dg.asset(
    key=dg.AssetKey(["audit", "unrecognized_files"]),
    group_name="audit",
    kinds={"duckdb"},
    pool=POOL,
    description="Files whose name matches no source, recorded as rejected with the reason.",
)
def unrecognized_files(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    outcomes, _ = _load(context, warehouse, [None])
    return dg.MaterializeResult(metadata={"rejected_files": dg.MetadataValue.int(len(outcomes))})


ASSETS = [
    xapi_lrs,
    reference_snapshots,
    mission_progress,
    assessment_attempts,
    xapi_statements,
    unrecognized_files,
]
