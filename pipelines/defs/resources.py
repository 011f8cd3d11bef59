"""What every part of the platform shares: the warehouse, its writer pool, forecast settings,
where the engine's blocks run.

Resolved when a run starts, never at import (paths follow COHORTLENS_HOME).
"""

import contextlib
import datetime as dt
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Self

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from engine.backtest import COVERAGE_BAND, COVERAGE_Z
from engine.blocks import IN_PROCESS, Runner
from engine.cluster import CONNECT_TIMEOUT_S, runner_for
from engine.forecast import DRAWS, HORIZON_WEEKS, SEED

from ..as_of import AsOf, parse_as_of, resolve_as_of
from ..ingest.lrs import LRSConfig, LRSError
from ..paths import Paths, resolve_paths
from ..warehouse import holds_run_lock, keep_private, note_dagster_run, open_writer, run_lock

# Every asset that writes the warehouse shares one pool: DuckDB has a single writer.
POOL = "warehouse"

# The forecast's per-learner assets are partitioned by organization; the partitions are the
# organizations of the reference data, registered as it loads (register_organizations).
ORGANIZATIONS = dg.DynamicPartitionsDefinition(name="organizations")


def register_organizations(instance: dg.DagsterInstance, org_ids: list[str]) -> list[str]:
    """Add the organizations not yet partitions of ORGANIZATIONS; return those added."""
    known = set(instance.get_dynamic_partitions(ORGANIZATIONS.name))
    new = sorted({str(o) for o in org_ids} - known)
    if new:
        instance.add_dynamic_partitions(ORGANIZATIONS.name, new)
    return new


def organization_range(instance: dg.DagsterInstance | None) -> dict[str, str]:
    """Run tags covering every organization partition in one run; none without partitions
    (or instance): the run then covers every organization without naming them."""
    keys = instance.get_dynamic_partitions(ORGANIZATIONS.name) if instance else []
    if not keys:
        return {}
    return {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }


class LRSResource(dg.ConfigurableResource):
    """A Learning Record Store to pull xAPI statements from (pipelines/ingest/lrs.py).

    Unset endpoint: there is none, and runs load landing files only. `build_defs` fills it
    from COHORTLENS_LRS_* with dg.EnvVar, so no secret enters Dagster's run storage.
    """

    endpoint: str | None = None  # the xAPI base URL, e.g. http://127.0.0.1:8100/xAPI/
    username: str | None = None
    password: str | None = None
    token: str | None = None  # a bearer token instead of username and password
    # Each pull asks again for this window before its cursor (text: checked when a run starts).
    lookback_hours: str = "24"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "LRSResource":
        """Each COHORTLENS_LRS_* variable that is set, as a dg.EnvVar (read at run time)."""
        names = {
            "endpoint": "COHORTLENS_LRS_ENDPOINT",
            "username": "COHORTLENS_LRS_USERNAME",
            "password": "COHORTLENS_LRS_PASSWORD",
            "token": "COHORTLENS_LRS_TOKEN",
        }
        settings: dict = {k: dg.EnvVar(v) for k, v in names.items() if environ.get(v)}
        if environ.get("COHORTLENS_LRS_LOOKBACK_HOURS"):
            settings["lookback_hours"] = environ["COHORTLENS_LRS_LOOKBACK_HOURS"]
        return cls(**settings)

    def config(self) -> LRSConfig | None:
        """The client's settings, or None without an endpoint; LRSError when incomplete."""
        if not self.endpoint:
            return None
        try:
            hours = float(self.lookback_hours)
        except ValueError:
            raise LRSError(
                f"COHORTLENS_LRS_LOOKBACK_HOURS {self.lookback_hours!r} is not a number"
            ) from None
        return LRSConfig(
            endpoint=self.endpoint,
            username=self.username,
            password=self.password,
            token=self.token,
            lookback=dt.timedelta(hours=hours),
        )


class WarehouseResource(dg.ConfigurableResource):
    """The landing folder and the DuckDB warehouse; unset paths follow COHORTLENS_HOME."""

    landing: str | None = None
    warehouse: str | None = None
    # Thresholds of the ingestion checks.
    max_quarantine_rate: float = 0.05
    max_staleness_hours: float = 48.0
    # How long a Dagster run waits for another to finish before it fails saying whose it is.
    run_wait_seconds: float = 3600.0
    # The run's as-of date (YYYY-MM-DD), for backfills and replays. Unset: today (UTC), or the
    # newest event's day when that is older than max_staleness_hours (pipelines/as_of.py).
    as_of_date: str | None = None
    # Triage (marts.learner_readiness): a learner is at risk when any of these holds. The
    # defaults keep the flag to a supervisor's week: at most about 20 % of active learners.
    risk_disengage_threshold: float = 0.50  # p_disengage_8w at or above: more likely than not
    risk_mastery_threshold: float = 0.10  # p_mastery_by_target below, when the target is near
    risk_target_weeks: int = 8  # "near": the cohort's target date within this many weeks
    risk_deadline_days: int = 14  # a mission deadline missed within this many days
    risk_capacity_share: float = 0.20  # at most this share of active learners flagged
    _started_at: dt.datetime | None = PrivateAttr(default=None)

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
        record = context.instance.get_run_record_by_id(run.run_id) if context.instance else None
        self._started_at = record.create_timestamp if record else None
        warehouse = self.paths().warehouse
        started_by_cli = holds_run_lock(warehouse)  # `cohortlens run` records its own run
        command = f"Dagster run {run.run_id[:8]} of {run.job_name}"
        with run_lock(warehouse, self.run_wait_seconds, command):
            try:
                yield self
            finally:
                if not started_by_cli and warehouse.exists():
                    note_dagster_run(warehouse)

    def as_of(self, con: duckdb.DuckDBPyConnection | None) -> AsOf:
        """The run's as-of date: the same for every asset of a run, since the newest event
        cannot change after ingestion and "today" is the day the run was created."""
        now = self._started_at or dt.datetime.now(dt.UTC)
        return resolve_as_of(con, parse_as_of(self.as_of_date), now, self.max_staleness_hours)

    def dbt_vars(self, as_of: AsOf) -> dict[str, object]:
        """The dbt vars of a run: its as-of date and the triage thresholds."""
        return {
            "as_of_date": str(as_of.date),
            "risk_disengage_threshold": self.risk_disengage_threshold,
            "risk_mastery_threshold": self.risk_mastery_threshold,
            "risk_target_weeks": self.risk_target_weeks,
            "risk_deadline_days": self.risk_deadline_days,
            "risk_capacity_share": self.risk_capacity_share,
        }

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
    # The backtest check's band for the 80 % interval's coverage, widened by coverage_z
    # binomial standard errors for the number of learners scored (engine.backtest).
    coverage_low: float = COVERAGE_BAND[0]
    coverage_high: float = COVERAGE_BAND[1]
    coverage_z: float = COVERAGE_Z
    # The triage backtest: cut 12 weeks back, 8 weeks of outcome and 4 to confirm a 28-day stop.
    triage_backtest_weeks: int = 12
    min_triage_lift: float = 2.0  # the check fails below this lift at the flag
    min_triage_events: int = 20  # fewer stops than this in the backtest: too few to judge


DASK_SCHEDULER_ENV = "COHORTLENS_DASK_SCHEDULER"


class DaskResource(dg.ConfigurableResource):
    """Where the engine's blocks of learners run (engine/cluster.py): on the Dask cluster whose
    scheduler is at ``scheduler`` (e.g. tcp://10.0.0.5:8786), or in this process when it is
    unset or empty. The client is opened when a run that needs it starts (an unreachable
    scheduler fails the run before any step writes) and closed when the run ends.
    `build_defs` fills ``scheduler`` from COHORTLENS_DASK_SCHEDULER (dg.EnvVar)."""

    scheduler: str | None = None
    connect_timeout_seconds: float = CONNECT_TIMEOUT_S
    _runner: Runner | None = PrivateAttr(default=None)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "DaskResource":
        if environ.get(DASK_SCHEDULER_ENV):
            return cls(scheduler=dg.EnvVar(DASK_SCHEDULER_ENV))
        return cls()

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Self]:
        with runner_for(self.scheduler or None, timeout=self.connect_timeout_seconds) as runner:
            self._runner = runner
            try:
                yield self
            finally:
                self._runner = None

    def runner(self) -> Runner:
        """The cluster's runner during a run with a scheduler; else in-process."""
        return self._runner or IN_PROCESS


class ServingResource(dg.ConfigurableResource):
    """The published snapshot's folder (beside the warehouse), for jobs that only read it (the
    weekly digest): unlike WarehouseResource it takes no run lock and marks no run, so such a
    job neither waits for a pipeline run nor makes the next `cohortlens run` start over."""

    warehouse: str | None = None

    def folder(self) -> Path:
        return resolve_paths(warehouse=self.warehouse).serving
