"""The four-domain competency model of seed 004 (PRODUCT.md section 4), vectorized over learners.

State ``C`` has shape ``(n, 4)``: one row per learner, columns in :data:`DOMAINS` order, each in
[0, 1]. One step of ``dt`` weeks with stimulus quality ``S`` (shape ``(n,)``):

    diffusion_i = D_ii * sum_{j != i} (C_j - C_i)
    gain        = V_max * S * (1 - C) / (K_m + (1 - C))   (times optional per-domain weights)
    decay       = lambda * C
    C          <- clip(C + (diffusion + gain - decay) * dt, 0, 1)

:func:`step` advances one week; :func:`simulate` and :func:`simulate_path` run many weeks for
whole cohorts, in cache-sized blocks of learners updated in place, on every core.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from engine.blocks import thread_count

DOMAINS: tuple[str, ...] = ("knowledge", "skills", "application", "ethics")
N_DOMAINS = len(DOMAINS)
BASELINE_COMPETENCY = 0.20

# Cross-domain coefficients as seed 004 gives them; the update uses the diagonal only.
SEED_DIFFUSION = np.array(
    [
        [0.15, 0.12, 0.10, 0.18],
        [0.12, 0.15, 0.14, 0.10],
        [0.10, 0.14, 0.15, 0.12],
        [0.18, 0.10, 0.12, 0.15],
    ]
)

# observe(week, rows=slice, state=(4, b) array): see simulate().
Observer = Callable[..., None]

# Learners per block: a block's few (4, b) working arrays (about 10 MB at 49,152) stay in the
# 32 MB shared L3 while each numpy call is long enough to release the GIL (the sizes tried:
# benchmarks/RESULTS.md).
BLOCK_LEARNERS = 49_152


@dataclass(frozen=True)
class CompetencyModel:
    """Parameters of the seed 004 model, with the seed's defaults.

    ``v_max`` (V_max, gain per week at full stimulus), ``k_m`` (K_m, half-saturation gap) and
    ``decay`` (lambda, forgetting per week) may be per-learner arrays of shape (n,).
    ``diffusion`` is D (4, 4); the update uses its diagonal. A learner has mastered when the
    mean of C is at least ``mastery_mean`` and its population variance at most
    ``mastery_variance``.
    """

    v_max: float | np.ndarray = 1.0
    k_m: float | np.ndarray = 0.5
    decay: float | np.ndarray = 0.05
    diffusion: np.ndarray = field(default_factory=lambda: SEED_DIFFUSION.copy())
    mastery_mean: float = 0.80
    mastery_variance: float = 0.01


def _per_learner(value: float | np.ndarray) -> float | np.ndarray:
    """Scalars broadcast as they are; per-learner vectors (n,) become columns (n, 1)."""
    arr = np.asarray(value, dtype=float)
    return arr[:, None] if arr.ndim == 1 else float(arr)


def step(
    competency: np.ndarray,
    stimulus: np.ndarray | float,
    model: CompetencyModel = CompetencyModel(),
    dt_weeks: float = 1.0,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Advance every learner one step.

    competency: (n, 4) in [0, 1]; stimulus: (n,) or scalar in [0, 1];
    weights: None, (4,) or (n, 4) multipliers of the gain. Returns a new (n, 4) array.
    """
    c = np.asarray(competency, dtype=float)
    d_ii = np.diag(model.diffusion)
    laplacian = c.sum(axis=1, keepdims=True) - N_DOMAINS * c
    gap = 1.0 - c
    gain = _per_learner(model.v_max) * _per_learner(stimulus) * gap / (model.k_m + gap)
    if weights is not None:
        gain = gain * weights
    rate = d_ii * laplacian + gain - _per_learner(model.decay) * c
    return np.clip(c + rate * dt_weeks, 0.0, 1.0)


def is_mastered(competency: np.ndarray, model: CompetencyModel = CompetencyModel()) -> np.ndarray:
    """Mastery per learner: mean >= threshold and (population) variance <= threshold.

    competency: (..., 4). Returns a bool array of shape (...).
    """
    mean, variance = mean_and_variance(competency)
    return (mean >= model.mastery_mean) & (variance <= model.mastery_variance)


def mean_and_variance(competency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population variance over the last axis (the 4 domains), shape (...).

    Written as sums of the four slices: numpy's reductions over a last axis of length 4 are
    several times slower, and forecasts call this on every simulated week.
    """
    c = np.asarray(competency, dtype=float)
    parts = [c[..., d] for d in range(c.shape[-1])]
    mean = sum(parts[1:], parts[0]) / len(parts)
    variance = sum(((x - mean) ** 2 for x in parts[1:]), (parts[0] - mean) ** 2) / len(parts)
    return mean, variance


def simulate(
    initial: np.ndarray,
    stimulus: np.ndarray,
    model: CompetencyModel = CompetencyModel(),
    dt_weeks: float = 1.0,
    weights: np.ndarray | None = None,
    *,
    workers: int | None = None,
    observe: Observer | None = None,
) -> np.ndarray:
    """Run ``weeks`` steps for every learner; return the final state.

    initial: (n, 4); stimulus: (n, weeks), one stimulus per learner and week;
    weights: None, (4,) or (n, 4). Returns (n, 4). Equal to applying :func:`step` week by week.

    observe(week, rows, state), if given, sees every block's state after every week (week 0 is
    the initial state): rows is the block's slice of learners, state its (4, len(rows)) array,
    domain-major, valid only during the call. Blocks run on several threads, so calls for
    different blocks may overlap; an observer writes only into its rows. Summaries computed
    this way never hold the whole path in memory.
    """
    return _run(initial, stimulus, model, dt_weeks, weights, workers, None, observe)


def simulate_path(
    initial: np.ndarray,
    stimulus: np.ndarray,
    model: CompetencyModel = CompetencyModel(),
    dt_weeks: float = 1.0,
    weights: np.ndarray | None = None,
    *,
    workers: int | None = None,
    domain_major: bool = False,
) -> np.ndarray:
    """Like :func:`simulate`, keeping every state: returns (weeks + 1, n, 4), row 0 = initial.

    domain_major: return (weeks + 1, 4, n) instead, the layout the simulation works in (cheaper
    to write, and per-domain rows are contiguous for whoever reduces over domains next).
    """
    layout = "domain" if domain_major else "learner"
    return _run(initial, stimulus, model, dt_weeks, weights, workers, layout, None)


def _learner_vector(value: float | np.ndarray, n: int, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), not {arr.shape}")
    return arr


def _run(initial, stimulus, model, dt_weeks, weights, workers, keep_path, observe):
    c0 = np.asarray(initial, dtype=float)
    stim = np.asarray(stimulus, dtype=float)
    if c0.ndim != 2 or c0.shape[1] != N_DOMAINS:
        raise ValueError(f"initial must have shape (n, {N_DOMAINS}), not {c0.shape}")
    n = c0.shape[0]
    if stim.ndim != 2 or stim.shape[0] != n:
        raise ValueError(f"stimulus must have shape ({n}, weeks), not {stim.shape}")
    weeks = stim.shape[1]
    v_max = _learner_vector(model.v_max, n, "v_max")
    k_m = _learner_vector(model.k_m, n, "k_m")
    decay = _learner_vector(model.decay, n, "decay")
    w = None
    if weights is not None:
        w = np.broadcast_to(np.asarray(weights, dtype=float), (n, N_DOMAINS))
    d_ii = np.diag(np.asarray(model.diffusion, dtype=float))

    shapes = {"learner": (weeks + 1, n, N_DOMAINS), "domain": (weeks + 1, N_DOMAINS, n)}
    out = np.empty(shapes.get(keep_path, (n, N_DOMAINS)))
    n_workers = max(1, workers or thread_count())
    # Equal blocks, a multiple of the workers in number, none larger than BLOCK_LEARNERS.
    n_blocks = -(-max(n, 1) // BLOCK_LEARNERS)
    n_blocks = -(-n_blocks // n_workers) * n_workers if n >= n_workers * 8192 else 1
    size = -(-n // n_blocks) if n else 1
    blocks = [slice(lo, min(lo + size, n)) for lo in range(0, n, size)]

    def run_block(rows: slice) -> None:
        path = None
        if keep_path is not None:
            path = out[:, :, rows] if keep_path == "domain" else out[:, rows]
        final = _advance_block(
            c0[rows],
            stim[rows],
            v_max[rows],
            k_m[rows],
            decay[rows],
            None if w is None else w[rows],
            d_ii,
            dt_weeks,
            path,
            keep_path == "domain",
            None if observe is None else functools.partial(observe, rows=rows),
        )
        if keep_path is None:
            out[rows] = final

    n_workers = min(n_workers, len(blocks))
    if n_workers <= 1:
        for rows in blocks:
            run_block(rows)
    else:
        # numpy releases the GIL inside each ufunc, so threads share the blocks across cores.
        with ThreadPoolExecutor(n_workers) as pool:
            list(pool.map(run_block, blocks))
    return out


def _advance_block(c0, stim, v_max, k_m, decay, w, d_ii, dt, path, path_domain_major, observe):
    """All weeks for one block of b learners, in place on preallocated buffers.

    The block is held domain-major, (4, b), so the sum over domains is three vector adds.
    Rearranged update: C <- C * (1 - dt * (4 D_ii + lambda)) + dt * D_ii * sum(C)
    + G * (1 - C) / (K_m + 1 - C) with G = dt * V_max * S [* w], then clipped to [0, 1].
    """
    b = c0.shape[0]
    c = np.array(c0.T, dtype=float, order="C")  # (4, b)
    keep = 1.0 - dt * (N_DOMAINS * d_ii[:, None] + decay[None, :])  # (4, b)
    spread = dt * d_ii[:, None]  # (4, 1)
    gain_scale = np.ascontiguousarray((dt * v_max[:, None] * stim).T)  # (weeks, b)
    k_m_plus_1 = (k_m + 1.0)[None, :]
    w_t = None if w is None else np.ascontiguousarray(w.T)
    # Clipping changes nothing when no value can leave [0, 1]: C stays >= 0 while keep >= 0,
    # and stays <= 1 while G * max(w) <= K_m * (1 - 3 dt max(D_ii)) (bound the gain by G/K_m
    # per unit of gap and the inflow from the other three domains by 3 dt D_ii). The check is
    # per week and block, so the result is bit-identical to clipping every time.
    max_w = 1.0 if w_t is None else float(w_t.max(initial=0.0))
    safe_gain = float(k_m.min(initial=np.inf)) * (1.0 - 3.0 * dt * float(d_ii.max())) / max_w
    never_negative = bool((keep >= 0.0).all())
    week_is_safe = never_negative & (gain_scale.max(axis=1, initial=0.0) <= safe_gain)
    gap = np.empty((N_DOMAINS, b))
    den = np.empty((N_DOMAINS, b))
    total = np.empty((1, b))
    if path is not None:
        path[0] = c if path_domain_major else c.T
    if observe is not None:
        observe(0, state=c)
    for t in range(gain_scale.shape[0]):
        np.add(c[0], c[1], out=total[0])
        np.add(total[0], c[2], out=total[0])
        np.add(total[0], c[3], out=total[0])
        np.subtract(1.0, c, out=gap)
        np.subtract(k_m_plus_1, c, out=den)
        np.divide(gap, den, out=gap)
        np.multiply(gap, gain_scale[t], out=gap)
        if w_t is not None:
            np.multiply(gap, w_t, out=gap)
        np.multiply(c, keep, out=c)
        np.add(c, gap, out=c)
        np.multiply(spread, total, out=den)
        np.add(c, den, out=c)
        if not week_is_safe[t]:
            np.clip(c, 0.0, 1.0, out=c)
        if path is not None:
            path[t + 1] = c if path_domain_major else c.T
        if observe is not None:
            observe(t + 1, state=c)
    return c.T
