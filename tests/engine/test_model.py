import numpy as np
import pytest

from engine.model import (
    SEED_DIFFUSION,
    CompetencyModel,
    is_mastered,
    simulate,
    simulate_path,
    step,
)


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


def seed_trajectory(c, stimuli, v_max, k_m, decay, dt, weights):
    """The seed algorithm applied week after week to one learner."""
    path = [list(c)]
    for s in stimuli:
        path.append(seed_update(path[-1], s, v_max, k_m, decay, dt, weights))
    return path


@pytest.mark.parametrize("dt", [1.0, 0.5])
def test_simulate_matches_the_seed_loop_for_every_learner_and_week(dt):
    rng = np.random.default_rng(1)
    n, weeks = 5000, 12  # more than two blocks, so the threaded path runs
    c = rng.uniform(0, 1, (n, 4))
    s = rng.uniform(0, 1, (n, weeks))
    v_max = rng.uniform(0.05, 1.5, n)
    decay = rng.uniform(0.0, 0.2, n)
    weights = rng.uniform(0.5, 1.5, (n, 4))
    model = CompetencyModel(v_max=v_max, decay=decay)
    final = simulate(c, s, model, dt, weights)
    path = simulate_path(c, s, model, dt, weights)
    assert path.shape == (weeks + 1, n, 4)
    np.testing.assert_array_equal(path[-1], final)
    for i in rng.choice(n, 300, replace=False):
        want = seed_trajectory(c[i], s[i], v_max[i], 0.5, decay[i], dt, weights[i])
        np.testing.assert_allclose(path[:, i], want, rtol=0, atol=1e-12)


def test_simulate_with_scalar_parameters_and_no_weights_equals_stepping():
    rng = np.random.default_rng(2)
    c = rng.uniform(0, 1, (50, 4))
    s = rng.uniform(0, 1, (50, 7))
    want = c
    for t in range(7):
        want = step(want, s[:, t])
    np.testing.assert_allclose(simulate(c, s, workers=1), want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(simulate(c, s[:, :0]), c)


def test_simulate_refuses_shapes_that_do_not_fit():
    with pytest.raises(ValueError, match="initial"):
        simulate(np.zeros((3, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="stimulus"):
        simulate(np.zeros((3, 4)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="v_max"):
        simulate(np.zeros((3, 4)), np.zeros((3, 2)), CompetencyModel(v_max=np.ones(2)))


def test_simulate_skips_no_clip_it_needs_and_equals_stepping_when_gains_are_small():
    # Small gains take the path that proves clipping unnecessary; it must still equal step().
    rng = np.random.default_rng(3)
    c = rng.uniform(0, 1, (3000, 4))
    s = rng.uniform(0, 1, (3000, 9))
    model = CompetencyModel(v_max=0.2, decay=0.03)
    want = c
    for t in range(9):
        want = step(want, s[:, t], model)
    np.testing.assert_allclose(simulate(c, s, model), want, rtol=0, atol=1e-12)
