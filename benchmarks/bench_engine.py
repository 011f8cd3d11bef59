"""Competency engine: simulate 1,000,000 learners x 52 weeks; calibrate and forecast 100,000.

Baselines, same run: (a) the seed's per-learner algorithm as a plain Python loop, timed on a
sample and extrapolated (goal: the engine at least 1,000x faster); (b) the same model as one
fused compiled loop per learner (numba, parallel over learners), written only here (goal: the
numpy engine within 1.5x of it). Then calibration of 100,000 learners (goal under a minute),
their forecast (200 draws x 52 weeks: time and peak memory, from tracemalloc, which numpy
reports to), and the what-if of a 2,000-learner cohort (goal at most 1 s).
"""

from __future__ import annotations

import time
import tracemalloc

import numba
import numpy as np

from engine.calibration import calibrate
from engine.forecast import draw_starts, forecast
from engine.model import SEED_DIFFUSION, CompetencyModel, simulate
from engine.simulated import simulated_cohort

GOAL_LOOP = 1000.0
GOAL_FUSED = 1.5
GOAL_WHAT_IF_S = 1.0


def _python_loop(c0, stim, v_max, k_m, decay, d_ii, dt):
    """The seed's update as written: one learner and one domain at a time."""
    out = []
    for i in range(len(c0)):
        c = [float(x) for x in c0[i]]
        for s in stim[i]:
            new = []
            for d in range(4):
                laplacian = sum(c[j] - c[d] for j in range(4) if j != d)
                gap = 1.0 - c[d]
                gain = v_max[i] * s * gap / (k_m + gap)
                value = c[d] + (d_ii[d] * laplacian + gain - decay[i] * c[d]) * dt
                new.append(min(1.0, max(0.0, value)))
            c = new
        out.append(c)
    return np.array(out)


@numba.njit(parallel=True, cache=True)
def _fused(c0, stim, v_max, k_m, decay, d_ii, dt, out):
    n, weeks = stim.shape
    for i in numba.prange(n):
        c = c0[i].copy()
        for t in range(weeks):
            total = c[0] + c[1] + c[2] + c[3]
            g = v_max[i] * stim[i, t]
            for d in range(4):
                gap = 1.0 - c[d]
                rate = d_ii[d] * (total - 4.0 * c[d]) + g * gap / (k_m + gap) - decay[i] * c[d]
                c[d] = min(1.0, max(0.0, c[d] + rate * dt))
        out[i] = c


def _best_of(runs: int, fn) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def run_simulate(learners: int = 1_000_000, weeks: int = 52, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    c0 = rng.uniform(0.2, 0.45, (learners, 4))
    stim = rng.uniform(0.0, 1.0, (learners, weeks))
    v_max = rng.lognormal(np.log(0.19), 0.35, learners)
    decay = rng.lognormal(np.log(0.03), 0.3, learners)
    model = CompetencyModel(v_max=v_max, decay=decay)
    d_ii = np.diag(SEED_DIFFUSION).copy()

    engine_s = _best_of(3, lambda: simulate(c0, stim, model))
    ours = simulate(c0, stim, model)

    sample = 2_000
    head = slice(0, sample)
    loop_s = _best_of(
        1, lambda: _python_loop(c0[head], stim[head], v_max[head], 0.5, decay[head], d_ii, 1.0)
    )
    loop_s *= learners / sample

    fused_out = np.empty_like(c0)
    _fused(c0[:10], stim[:10], v_max, 0.5, decay, d_ii, 1.0, fused_out[:10])  # compile
    fused_s = _best_of(3, lambda: _fused(c0, stim, v_max, 0.5, decay, d_ii, 1.0, fused_out))
    err = float(np.abs(fused_out - ours).max())

    threads = numba.get_num_threads()
    speedup, ratio = loop_s / engine_s, engine_s / fused_s
    print(f"engine: simulate {learners:,} learners x {weeks} weeks ({threads} threads)")
    print(f"  numpy engine (blocks, in place)   {engine_s:8.2f} s")
    print(
        f"  python loop, extrapolated         {loop_s:8.1f} s   engine {speedup:,.0f}x faster"
        f"  (goal at least {GOAL_LOOP:,.0f}x)"
    )
    print(
        f"  fused numba loop, parallel        {fused_s:8.2f} s   engine / fused = {ratio:.2f}"
        f"  (goal at most {GOAL_FUSED})"
    )
    print(f"  largest difference engine vs fused {err:.1e}")


def run_batch(
    learners: int = 100_000,
    weeks: int = 26,
    draws: int = 200,
    horizon: int = 52,
    what_if_learners: int = 2_000,
) -> None:
    """Calibrate a large cohort, forecast it, and time the dashboard's what-if."""
    cohort = simulated_cohort(n=learners, weeks=weeks, seed=1)
    obs = cohort.obs
    groups = np.arange(obs.n) // 250  # cohorts of 250
    started = time.perf_counter()
    cal = calibrate(obs, groups)
    calibrate_s = time.perf_counter() - started

    tracemalloc.start()
    started = time.perf_counter()
    fc = forecast(cal, obs, 12, groups, draws=draws, horizon_weeks=horizon)
    forecast_s = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    full_path_gb = draws * learners * (horizon + 1) * 4 * 8 / 1e9

    small = simulated_cohort(n=what_if_learners, weeks=weeks, seed=2)
    small_cal = calibrate(small.obs)
    starts = draw_starts(small_cal, small.obs, draws=draws, horizon_weeks=horizon)
    forecast(small_cal, small.obs, 12, starts=starts, horizon_weeks=horizon)  # warm

    def what_if():
        return forecast(
            small_cal, small.obs, 12, starts=starts, horizon_weeks=horizon, effort_multiplier=1.25
        )

    what_if_s = _best_of(3, what_if)

    print(f"engine: calibrate and forecast {learners:,} learners x {weeks} weeks of answers")
    print(
        f"  calibration (batched, empirical Bayes)  {calibrate_s:8.1f} s   (goal under 60 s)"
        f"   converged {cal.converged.mean():.1%}"
    )
    print(
        f"  forecast {draws} draws x {horizon} weeks        {forecast_s:8.1f} s   "
        f"peak memory {peak / 1e9:.2f} GB (all paths at once would be {full_path_gb:.0f} GB)"
    )
    print(
        f"  what-if, {what_if_learners:,} learners, effort x1.25 {what_if_s:8.2f} s   "
        f"(goal at most {GOAL_WHAT_IF_S:.0f} s; {draws} draws x {horizon} weeks)"
    )
    assert np.isfinite(fc.p_mastery_by_target).all()


def run() -> None:
    run_simulate()
    run_batch()
