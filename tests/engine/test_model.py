import numpy as np
import pytest

from engine.model import SEED_DIFFUSION, CompetencyModel, is_mastered, step


def seed_update(c, stimulus, v_max=1.0, k_m=0.5, decay=0.05, dt=1.0, weights=None):
    """Seed 004's per-learner update, written as a plain scalar loop."""
    c = [float(x) for x in c]
    new = []
    for i in range(4):
        laplacian = sum(c[j] - c[i] for j in range(4) if j != i)
        diffusion = SEED_DIFFUSION[i][i] * laplacian
        gap = 1.0 - c[i]
        gain = v_max * stimulus * gap / (k_m + gap)
        if weights is not None:
            gain *= weights[i]
        value = c[i] + (diffusion + gain - decay * c[i]) * dt
        new.append(min(1.0, max(0.0, value)))
    return new


def test_step_matches_the_seed_algorithm_learner_by_learner():
    rng = np.random.default_rng(0)
    n = 200
    c = rng.uniform(0, 1, (n, 4))
    s = rng.uniform(0, 1, n)
    v_max = rng.uniform(0.05, 1.5, n)
    decay = rng.uniform(0.0, 0.2, n)
    weights = rng.uniform(0.5, 1.5, (n, 4))
    got = step(c, s, CompetencyModel(v_max=v_max, decay=decay), 0.5, weights)
    for i in range(n):
        want = seed_update(c[i], s[i], v_max[i], 0.5, decay[i], 0.5, weights[i])
        np.testing.assert_allclose(got[i], want, rtol=0, atol=1e-12)


def test_step_with_seed_defaults_and_scalar_stimulus():
    c = np.full((3, 4), 0.2)
    got = step(c, 0.85)
    want = seed_update([0.2] * 4, 0.85)
    np.testing.assert_allclose(got, [want] * 3, atol=1e-12)


def test_step_keeps_competency_in_the_unit_interval():
    c = np.array([[0.0, 1.0, 0.99, 0.01]])
    out = step(c, 1.0, CompetencyModel(v_max=50.0), dt_weeks=3.0)
    assert ((out >= 0) & (out <= 1)).all()


@pytest.mark.parametrize(
    ("state", "mastered"),
    [([0.8, 0.8, 0.8, 0.8], True), ([0.95, 0.7, 0.9, 0.75], False), ([0.79, 0.8, 0.8, 0.8], False)],
)
def test_mastery_needs_a_high_mean_and_a_low_variance(state, mastered):
    assert bool(is_mastered(np.array([state]))[0]) is mastered
