"""What every part of the platform shares: the warehouse, its writer pool, forecast settings.

Resolved when a run starts, never at import (paths follow COHORTLENS_HOME).
"""

import contextlib
from collections.abc import Iterator
from typing import Self

import dagster as dg
import duckdb

from engine.forecast import DRAWS, HORIZON_WEEKS, SEED

from ..paths import Paths, resolve_paths
from ..warehouse import holds_run_lock, keep_private, note_dagster_run, open_writer, run_lock

# Every asset that writes the warehouse shares one pool: DuckDB has a single writer.
POOL = "warehouse"


class WarehouseResource(dg.ConfigurableResource):
    """The landing folder and the DuckDB warehouse; unset paths follow COHORTLENS_HOME."""

    landing: str | None = None
    warehouse: str | None = None
    # Thresholds of the ingestion checks.
    max_quarantine_rate: float = 0.05
    max_staleness_hours: float = 48.0
    # How long a Dagster run waits for another to finish before it fails saying whose it is.
    run_wait_seconds: float = 3600.0

    def paths(self) -> Paths:
        return resolve_paths(landing=self.landing, warehouse=self.warehouse)

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Self]:
        """A run holds the warehouse's run lock from start to end (pipelines/defs/runs.py);
        a sensor or schedule evaluating with this resource does not."""
        keep_private()
        run = context.run
        if run is None:
            yield self
            return
        warehouse = self.paths().warehouse
        started_by_cli = holds_run_lock(warehouse)  # `cohortlens run` records its own run
        command = f"Dagster run {run.run_id[:8]} of {run.job_name}"
        with run_lock(warehouse, self.run_wait_seconds, command):
            try:
                yield self
            finally:
                if not started_by_cli and warehouse.exists():
                    note_dagster_run(warehouse)

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
