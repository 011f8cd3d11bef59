"""Where ingestion reads and writes: resolved when a run starts, never at import."""

import contextlib
from collections.abc import Iterator

import dagster as dg
import duckdb

from ...paths import Paths, resolve_paths
from ...warehouse import open_writer


class WarehouseResource(dg.ConfigurableResource):
    """The landing folder and the DuckDB warehouse; unset paths follow COHORTLENS_HOME."""

    landing: str | None = None
    warehouse: str | None = None
    # Thresholds of the ingestion checks.
    max_quarantine_rate: float = 0.05
    max_staleness_hours: float = 48.0

    def paths(self) -> Paths:
        return resolve_paths(landing=self.landing, warehouse=self.warehouse)

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The warehouse, read-write, once any other writer has finished."""
        with open_writer(self.paths().warehouse) as con:
            yield con
