"""The four-domain competency model of seed 004 (PRODUCT.md section 4), vectorized over learners.

State ``C`` has shape ``(n, 4)``: one row per learner, columns in :data:`DOMAINS` order, each in
[0, 1]. One step of ``dt`` weeks with stimulus quality ``S`` (shape ``(n,)``):

    diffusion_i = D_ii * sum_{j != i} (C_j - C_i)
    gain        = V_max * S * (1 - C) / (K_m + (1 - C))   (times optional per-domain weights)
    decay       = lambda * C
    C          <- clip(C + (diffusion + gain - decay) * dt, 0, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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


@dataclass(frozen=True)
class CompetencyModel:
    """Parameters of the seed 004 model. ``v_max`` and ``decay`` may be per-learner arrays (n,)."""

    v_max: float | np.ndarray = 1.0
    k_m: float = 0.5
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
    """Mastery per learner: mean >= threshold and (population) variance <= threshold. (n,) bool."""
    c = np.asarray(competency, dtype=float)
    return (c.mean(axis=-1) >= model.mastery_mean) & (c.var(axis=-1) <= model.mastery_variance)
