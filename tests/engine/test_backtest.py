"""The backtest's coverage check: a small program's sampling noise passes, a miscalibrated
forecast (intervals inflated or shrunk) fails."""

from __future__ import annotations

import numpy as np
import pytest

from engine.backtest import backtest, coverage_band, interval_coverage
from engine.calibration import calibrate
from engine.forecast import forecast
from engine.simulated import simulated_cohort

SMALL_PROGRAM = 50
CUT_WEEKS = 6


def test_the_band_widens_with_the_sampling_noise_of_few_learners():
    small_low, small_high = coverage_band(SMALL_PROGRAM)
    large_low, large_high = coverage_band(2000)
    # The case: 0.69 on 50 learners is noise; on 2,000 learners it is drift.
    assert small_low <= 0.69 <= small_high
    assert not large_low <= 0.69 <= large_high
    assert 0.73 < large_low < 0.75 and 0.85 < large_high < 0.87
    assert coverage_band(10**9) == pytest.approx((0.75, 0.85), abs=1e-4)


@pytest.mark.parametrize("seed", range(4))
def test_a_50_learner_program_passes_the_check(seed):
    cohort = simulated_cohort(n=SMALL_PROGRAM, seed=seed)
    truth = cohort.path[cohort.obs.n_weeks, np.arange(cohort.obs.n)]
    report = backtest(cohort.obs, CUT_WEEKS, truth_competency=truth, draws=100)
    low, high = coverage_band(report.n_coverage_scored)
    assert report.n_coverage_scored == SMALL_PROGRAM
    assert low <= report.coverage_80 <= high, (report.coverage_80, low, high)


@pytest.mark.parametrize("seed", range(2))
def test_intervals_inflated_or_shrunk_fail_the_check_on_50_learners(seed):
    """The same forecast as the backtest's, its 80 % intervals scaled about their median."""
    cohort = simulated_cohort(n=SMALL_PROGRAM, seed=seed)
    obs = cohort.obs
    truth = cohort.path[obs.n_weeks, np.arange(obs.n)].mean(axis=1)
    cut = obs.cut(CUT_WEEKS)
    fc = forecast(calibrate(cut), cut, CUT_WEEKS, horizon_weeks=CUT_WEEKS, draws=100)
    lo, mid, hi = (fc.competency_at_target[:, i, 4] for i in range(3))
    low, high = coverage_band(obs.n)

    def coverage(scale):
        return interval_coverage(truth, mid - scale * (mid - lo), mid + scale * (hi - mid))

    assert low <= coverage(1.0) <= high
    assert coverage(3.0) > high, "intervals three times too wide cover nearly everyone"
    assert coverage(0.3) < low, "intervals a third as wide miss too often"
