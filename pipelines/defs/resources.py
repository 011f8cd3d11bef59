"""What every part of the platform shares: the warehouse, its writer pool, forecast settings.

Resolved when a run starts, never at import (paths follow COHORTLENS_HOME).
"""

import contextlib
from collections.abc import Iterator

import dagster as dg
import duckdb

from engine.forecast import DRAWS, HORIZON_WEEKS, SEED

from ..paths import Paths, resolve_paths
from ..warehouse import open_writer

# Every asset that writes the warehouse shares one pool: DuckDB has a single writer.
POOL = "warehouse"


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


class ForecastSettings(dg.ConfigurableResource):
    """Settings of the nightly forecast batch: Monte Carlo size, horizon, seed, backtest cut."""

    draws: int = DRAWS
    horizon_weeks: int = HORIZON_WEEKS
    seed: int = SEED
    backtest_weeks: int = 8
    coverage_low: float = 0.7  # the backtest check's band for the 80 % interval's coverage
    coverage_high: float = 0.9
