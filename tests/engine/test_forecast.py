import dataclasses

import numpy as np
import pytest

from engine.calibration import calibrate
from engine.forecast import FAN_SERIES, draw_starts, forecast
from engine.model import is_mastered


@pytest.fixture(scope="module")
def calibrated(model_cohort):
    return calibrate(model_cohort.obs)


def test_one_seed_one_forecast(model_cohort, calibrated):
    a = forecast(calibrated, model_cohort.obs, 10, draws=50, seed=3, horizon_weeks=20)
    b = forecast(calibrated, model_cohort.obs, 10, draws=50, seed=3, horizon_weeks=20)
    c = forecast(calibrated, model_cohort.obs, 10, draws=50, seed=4, horizon_weeks=20)
    np.testing.assert_array_equal(a.p_mastery_by_target, b.p_mastery_by_target)
    np.testing.assert_array_equal(a.group_fan, b.group_fan)
    assert not np.array_equal(a.p_mastery_by_target, c.p_mastery_by_target)


def test_forecast_shapes_and_orderings(model_cohort, calibrated):
    obs = model_cohort.obs
    groups = np.arange(obs.n) % 3
    fc = forecast(calibrated, obs, 8, groups, draws=40, horizon_weeks=16, block_learners=37)
    assert fc.weeks_to_mastery.shape == (obs.n, 3)
    assert fc.group_fan.shape == (3, 17, len(FAN_SERIES), 5)
    assert ((fc.p_mastery_by_target >= 0) & (fc.p_mastery_by_target <= 1)).all()
    w = fc.weeks_to_mastery
    assert ((w[:, 0] <= w[:, 1]) & (w[:, 1] <= w[:, 2])).all()  # inf beyond the horizon
    finite = np.isfinite(w)
    assert (w[finite] >= 0).all() and (w[finite] <= 16).all()
    assert (np.diff(fc.group_fan, axis=-1) >= -1e-12).all()
    assert (np.diff(fc.competency_at_target, axis=1) >= -1e-12).all()
    # Mastered now means mastered by any target: week 0 of every future is the posterior's now.
    assert (fc.mastered_now == is_mastered(calibrated.competency_now)).all()


def test_learners_at_mastery_now_and_learners_who_stopped(model_cohort, calibrated):
    obs = model_cohort.obs
    fc = forecast(calibrated, obs, 12, draws=60, horizon_weeks=12)
    sure = fc.weeks_to_mastery[:, 2] == 0  # at mastery in 90 % of the futures right now
    assert (fc.p_mastery_by_target[sure] >= 0.9).all()
    # Nobody studies any more: no one who is far from mastery gets there.
    stopped = dataclasses.replace(obs, hours=np.zeros_like(obs.hours))
    idle = forecast(calibrated, stopped, 12, draws=60, horizon_weeks=12)
    far = calibrated.competency_now.mean(axis=1) < 0.6
    assert idle.p_mastery_by_target[far].max() == 0.0


def test_more_study_means_better_odds_for_the_same_futures(model_cohort, calibrated):
    obs = model_cohort.obs
    starts = draw_starts(calibrated, obs, draws=60, seed=9)
    base = forecast(calibrated, obs, 10, starts=starts, horizon_weeks=20)
    more = forecast(calibrated, obs, 10, starts=starts, horizon_weeks=20, effort_multiplier=1.5)
    less = forecast(calibrated, obs, 10, starts=starts, horizon_weeks=20, effort_multiplier=0.5)
    assert more.p_mastery_by_target.mean() > base.p_mastery_by_target.mean()
    assert less.p_mastery_by_target.mean() < base.p_mastery_by_target.mean()
    m = FAN_SERIES.index("mean")
    assert more.group_mean[0, -1, m] > base.group_mean[0, -1, m] > less.group_mean[0, -1, m]


def test_forecast_interval_covers_the_truth_about_as_promised(model_cohort):
    """The cohort's model is the engine's own: the 80 % intervals should hold about 80 %."""
    from engine.backtest import backtest

    cohort = model_cohort
    weeks = 6
    truth = cohort.path[cohort.obs.n_weeks, np.arange(cohort.obs.n)]
    report = backtest(cohort.obs, weeks, truth_competency=truth, draws=100)
    assert 0.7 <= report.engine.coverage_80 <= 0.92
    assert 0.7 <= report.engine.observed_coverage_80 <= 0.92
    assert report.engine.coverage_80 > report.seed_method.coverage_80
    assert report.engine.competency_mae < 0.08


def test_starts_drawn_ahead_give_the_same_forecast(model_cohort, calibrated):
    obs = model_cohort.obs
    plain = draw_starts(calibrated, obs, draws=30, seed=5)
    ahead = draw_starts(calibrated, obs, draws=30, seed=5, horizon_weeks=12)
    a = forecast(calibrated, obs, 6, starts=plain, horizon_weeks=12, effort_multiplier=1.3)
    b = forecast(calibrated, obs, 6, starts=ahead, horizon_weeks=12, effort_multiplier=1.3)
    np.testing.assert_array_equal(a.p_mastery_by_target, b.p_mastery_by_target)
    np.testing.assert_array_equal(a.weeks_to_mastery, b.weeks_to_mastery)
