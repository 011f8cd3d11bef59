"""Every dbt model as an asset, every dbt test as an asset check (dagster-dbt)."""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
import contextlib
import functools
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets, get_asset_key_for_model

from ...warehouse import writer_lock
from ..resources import POOL, WarehouseResource
from .project import dbt_project, ensure_manifest


class Translator(DagsterDbtTranslator):
    """Models are keyed and grouped by their layer (staging, intermediate, marts)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "model":
            layer = dbt_resource_props["fqn"][1]
            return dg.AssetKey([layer, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_asset_spec(self, manifest, unique_id, project) -> dg.AssetSpec:
        """Models may name assets outside dbt they read (meta: upstream_assets), such as the
        engine's forecasts that learner_readiness reads once they exist."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        extra = (props.get("config", {}).get("meta") or {}).get("upstream_assets", [])
        if extra:
            spec = spec.merge_attributes(deps=[dg.AssetKey(key.split("/")) for key in extra])
        return spec

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "model":
            return dbt_resource_props["fqn"][1]
        return super().get_group_name(dbt_resource_props)


@contextlib.contextmanager
def _dbt_environment(warehouse: WarehouseResource) -> Iterator[None]:
    """dbt finds the warehouse in COHORTLENS_WAREHOUSE (profiles.yml), as analysts' runs do.

    DBT_INDIRECT_SELECTION=buildable: the engine's forecast sits between models, so Dagster
    builds the models in more than one dbt invocation; a test then runs in the invocation
    where all its models exist (a relationships test, say), never in an earlier one.
    """
    settings = {
        "COHORTLENS_WAREHOUSE": str(warehouse.paths().warehouse),
        "DBT_INDIRECT_SELECTION": "buildable",
    }
    before = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _build_args(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> list[str]:
    """`dbt build` with the run's as-of date and triage thresholds as vars. A replay of an
    earlier day than the one built refreshes fully: incremental models hold the later days."""
    with warehouse.connect() as con:
        as_of = warehouse.as_of(con)
        try:
            built = con.execute("select max(as_of_date) from marts.learner_readiness").fetchone()[0]
        except duckdb.CatalogException:
            built = None
    context.log.info(f"as of {as_of.date} ({as_of.how})")
    args = ["build", "--vars", json.dumps(warehouse.dbt_vars(as_of))]
    return [*args, "--full-refresh"] if built is not None and as_of.date < built else args


@functools.cache
def dbt_models() -> dg.AssetsDefinition:
    """`dbt build` as assets: models, data tests and unit tests, one writer at a time.

    Built on first use, not at import: it needs the manifest, which may take a `dbt parse`.
    """

    @dbt_assets(
        manifest=ensure_manifest(),
        project=dbt_project,
        dagster_dbt_translator=Translator(),
        pool=POOL,
    )
    def dbt_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ):
        args = _build_args(context, warehouse)
        with _dbt_environment(warehouse), writer_lock(warehouse.paths().warehouse):
            yield from dbt.cli(args, context=context).stream()

    return dbt_models


def model_key(name: str) -> dg.AssetKey:
    """The asset key of the dbt model ``name``, as the translator names it."""
    return get_asset_key_for_model([dbt_models()], name)
