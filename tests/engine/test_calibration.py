import dataclasses

import numpy as np

from engine.calibration import calibrate, from_parameters
from tests.engine.conftest import make_cohort, truth_now


def test_calibration_recovers_competency_and_rates(model_cohort):
    cal = calibrate(model_cohort.obs)
    now = truth_now(model_cohort)
    assert cal.converged.mean() > 0.97
    assert np.abs(cal.competency_now - now).mean() < 0.065
    # Rates: the ordering of learners is recovered, and the 80 % intervals cover about 80 %.
    assert np.corrcoef(np.log(cal.v_max), np.log(model_cohort.v_max))[0, 1] > 0.5
    lo, hi = cal.interval(4)
    coverage = ((model_cohort.v_max >= lo) & (model_cohort.v_max <= hi)).mean()
    assert 0.65 <= coverage <= 0.95


def test_learners_with_little_data_are_shrunk_toward_their_group():
    cohort = make_cohort(n=300, weeks=12, seed=5)
    obs = cohort.obs
    silent = np.arange(obs.n) < 30
    answers = obs.n_answers.copy()
    answers[silent] = 0
    correct = np.where(silent[:, None, None], 0, obs.n_correct)
    quiet = dataclasses.replace(obs, n_answers=answers, n_correct=correct)
    cal = calibrate(quiet)
    # With no answers at all, a learner's parameters are the prior mean, their uncertainty the
    # prior's; with answers, they are their own and tighter.
    np.testing.assert_allclose(cal.theta[silent], cal.prior_mean[silent], atol=1e-3)
    sd = np.sqrt(np.diagonal(cal.covariance, axis1=1, axis2=2))
    assert sd[silent, 4].mean() > 1.2 * sd[~silent, 4].mean()


def test_batching_changes_nothing(model_cohort):
    whole = calibrate(model_cohort.obs, rounds=2)
    blocks = calibrate(model_cohort.obs, rounds=2, block_learners=97)
    np.testing.assert_allclose(blocks.theta, whole.theta, atol=1e-6)
    np.testing.assert_allclose(blocks.covariance, whole.covariance, atol=1e-6)


def test_a_stored_calibration_rebuilds_the_same_state(model_cohort):
    cal = calibrate(model_cohort.obs, rounds=1)
    again = from_parameters(model_cohort.obs, cal.theta, cal.covariance)
    np.testing.assert_allclose(again.competency_now, cal.competency_now, atol=1e-12)
