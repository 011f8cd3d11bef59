"""The forecast on a Dask cluster: 200,000 learners x 200 draws x 52 weeks, in-process and on
clusters of 1 and 2 workers of one thread each, started here (LocalCluster, worker processes).

Baselines, same run: the in-process forecast on the engine's default threads (every core) and
on one thread, the fair baseline of a one-thread worker. Goals: 1 worker within 15 % of
in-process (one thread), 2 workers at least 1.7 times as fast as 1. Printed as well: peak memory
of each worker process, bytes sent to the workers and back, and the floor a cluster cannot go
under on this machine: pickling every task's inputs and results (measured on a sample, in this
process). Every cluster's forecast is checked bit for bit against the in-process one.

Only `python -m benchmarks` starts clusters, under its `if __name__ == "__main__":` (worker
processes are spawned and re-import the main module; PITFALLS.md item 16).
"""

from __future__ import annotations

import os
import pickle
import time

import numpy as np

from engine.blocks import threads
from engine.calibration import calibrate
from engine.cluster import DaskRunner, peak_rss
from engine.forecast import forecast
from engine.model import simulate
from engine.simulated import simulated_cohort

GOAL_SPEEDUP = 1.7
GOAL_OVERHEAD = 1.15
COHORT = 250  # learners per cohort (fan charts)
ORGANIZATION = 10_000  # learners per organization (strata)


class _Pickling:
    """In-process, but every task's arguments and result go through pickle, timed: the
    serialization any cluster pays (it uses pickle protocol 5)."""

    where = "in-process, pickled"

    def __init__(self) -> None:
        self.seconds = 0.0
        self.bytes = 0

    def map(self, fn, tasks, *, name):
        for args in tasks:
            started = time.perf_counter()
            sent = pickle.dumps(args, protocol=5)
            args = pickle.loads(sent)
            self.seconds += time.perf_counter() - started
            result = fn(*args)
            started = time.perf_counter()
            back = pickle.dumps(result, protocol=5)
            result = pickle.loads(back)
            self.seconds += time.perf_counter() - started
            self.bytes += len(sent) + len(back)
            yield result


def _same(a, b) -> bool:
    fields = ("p_mastery_by_target", "weeks_to_mastery", "competency_at_target")
    fields += ("group_fan", "group_mean")
    return all(np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True) for f in fields)


def run(learners: int = 200_000, draws: int = 200, horizon: int = 52, weeks: int = 26) -> None:
    from distributed import Client, LocalCluster

    cohort = simulated_cohort(n=learners, weeks=weeks, seed=1)
    obs = cohort.obs
    groups = np.arange(obs.n) // COHORT
    strata = np.arange(obs.n) // ORGANIZATION
    started = time.perf_counter()
    cal = calibrate(obs, groups, rounds=1, strata=strata)
    calibrate_s = time.perf_counter() - started

    def timed(runner=None):
        started, cpu, load = time.perf_counter(), time.process_time(), os.getloadavg()[0]
        result = forecast(
            cal, obs, 12, groups, draws=draws, horizon_weeks=horizon, strata=strata, runner=runner
        )
        loads.append((load, os.getloadavg()[0]))
        cpus.append(time.process_time() - cpu)
        return result, time.perf_counter() - started

    loads: list[tuple[float, float]] = []  # the machine's 1-minute load before and after each
    cpus: list[float] = []  # this process's CPU seconds in each

    # The floor: pickling on a sample of organizations, scaled to every learner.
    sample = strata < max(1, min(2, learners // ORGANIZATION))
    pickling = _Pickling()
    small = obs.subset(sample)
    small_cal = calibrate(small, groups[sample], rounds=1, strata=strata[sample])
    forecast(
        small_cal,
        small,
        12,
        groups[sample],
        draws=draws,
        horizon_weeks=horizon,
        strata=strata[sample],
        runner=pickling,
    )
    floor_s = pickling.seconds * learners / sample.sum()

    reference, here_s = timed()
    with threads(1):
        one_thread, here_1_s = timed()
    rows = []
    ceilings: list[float] = []  # the same 4 fixed tasks on each cluster
    for n_workers in (1, 2):
        with (
            LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            client.run(_warm)  # import the engine on every worker before the clock starts
            runner = DaskRunner(client)
            result, seconds = timed(runner)
            memory = runner.peak_memory()
            rows.append((n_workers, seconds, memory, runner.traffic, _same(result, reference)))
            started = time.perf_counter()
            list(DaskRunner(client).map(_fixed_work, [()] * 4, name="ceiling"))
            ceilings.append(time.perf_counter() - started)

    print(f"dask: forecast {learners:,} learners x {draws} draws x {horizon} weeks")
    print(f"  ({weeks} weeks of answers, calibrated in {calibrate_s:.0f} s in-process, one round;")
    print(f"   cohorts of {COHORT}, organizations of {ORGANIZATION:,}; {os.cpu_count()} cores)")
    print(f"  in-process, every core (default)    {here_s:8.1f} s   (CPU {cpus[0]:.1f} s)")
    print(f"  in-process, one thread              {here_1_s:8.1f} s   (CPU {cpus[1]:.1f} s)")
    one = rows[0][1]
    for n_workers, seconds, memory, traffic, same in rows:
        note = ""
        if n_workers == 1:
            note = (
                f"   1 worker / in-process one thread = {one / here_1_s:.2f}"
                f" (goal at most {GOAL_OVERHEAD})"
            )
        else:
            note = (
                f"   speed-up 1 -> {n_workers} workers = {one / seconds:.2f}"
                f" (goal at least {GOAL_SPEEDUP})"
            )
        print(
            f"  {n_workers} worker{'s' if n_workers > 1 else ' '} x 1 thread             "
            f"{seconds:8.1f} s{note}"
        )
        peaks = ", ".join(f"{m / 1e9:.2f}" for m in sorted(memory.values()))
        print(
            f"    tasks' time on the workers {traffic.task_seconds:.1f} s, of which CPU"
            f" {traffic.task_cpu_seconds:.1f} s; the driver's CPU {cpus[1 + n_workers]:.1f} s"
        )
        print(
            f"    peak memory per worker {peaks} GB; sent {traffic.bytes_sent / 1e6:,.0f} MB in"
            f" {traffic.tasks} tasks ({traffic.bytes_sent / learners / 1e3:.2f} kB a learner),"
            f" received {traffic.bytes_received / 1e6:,.0f} MB;"
            f" identical to in-process: {'yes' if same else 'NO'}"
        )
    print(
        f"  ceiling: 4 fixed tasks of simulation, {ceilings[0]:.1f} s on 1 worker and"
        f" {ceilings[1]:.1f} s on 2: the speed-up this machine gave any 2 processes just then,"
        f" {ceilings[0] / ceilings[1]:.2f}"
    )
    print(
        f"  floor: pickling every task's inputs and results {floor_s:.1f} s"
        f" ({pickling.bytes / sample.sum() / 1e3:.2f} kB a learner, measured on"
        f" {int(sample.sum()):,} learners, here)"
    )
    peak = peak_rss()
    print(
        f"  this process (the driver, holding the cohort and its truth) peaked at"
        f" {peak / 1e9:.2f} GB"
    )
    runs = ", ".join(f"{a:.1f} -> {b:.1f}" for a, b in loads)
    print(f"  the machine's load (1-minute average, before -> after each run): {runs}")
    assert _same(one_thread, reference), "the engine's threads changed the forecast"


def _fixed_work() -> None:
    """A task of fixed work: 100,000 learners x 52 weeks of the model, ten times."""
    rng = np.random.default_rng(0)
    initial = rng.uniform(0.2, 0.45, (100_000, 4))
    stimulus = rng.uniform(0.0, 1.0, (100_000, 52))
    for _ in range(10):
        simulate(initial, stimulus)


def _warm() -> None:
    import engine.cluster
    import engine.forecast  # noqa: F401
