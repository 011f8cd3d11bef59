"""Blocks are the unit of work and of randomness: wherever and in whatever order a runner
computes them, the batch's results are the same, bit for bit."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from engine import disengagement as de
from engine.backtest import backtest
from engine.blocks import IN_PROCESS, threads
from engine.calibration import calibrate
from engine.effort import effort_plan
from engine.forecast import forecast
from tests.engine.test_disengagement import _fading_program


class Scrambled:
    """A stand-in for a cluster: every task's arguments and result go through pickle, tasks run
    last first on one thread, and the results still come back in task order."""

    where = "scrambled"

    def __init__(self) -> None:
        self.tasks = 0

    def map(self, fn, tasks, *, name):
        sent = [pickle.dumps(args) for args in tasks]
        self.tasks += len(sent)
        results = {}
        with threads(1):
            for i in reversed(range(len(sent))):
                results[i] = pickle.dumps(fn(*pickle.loads(sent[i])))
        for i in range(len(sent)):
            yield pickle.loads(results[i])


def assert_same(a, b) -> None:
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=field.name, strict=True)
        elif dataclasses.is_dataclass(x):
            assert_same(x, y)
        else:
            assert x == y or (x != x and y != y), field.name


@pytest.fixture(scope="module")
def cohort(model_cohort):
    obs = model_cohort.obs
    org = np.array(["ORG-B", "ORG-A", "ORG-C"])[np.arange(obs.n) % 3]
    groups = np.arange(obs.n) % 7  # cohorts spread over organizations: blocks follow both
    return obs, org, groups


def test_calibration_is_the_same_wherever_its_blocks_run(cohort):
    obs, org, groups = cohort
    scrambled = Scrambled()
    here = calibrate(obs, groups, strata=org, rounds=2, block_learners=90)
    there = calibrate(obs, groups, strata=org, rounds=2, block_learners=90, runner=scrambled)
    assert scrambled.tasks == 2 * 3 * 3  # rounds x organizations x blocks of each
    assert_same(here, there)


def test_forecast_and_backtest_are_the_same_wherever_their_blocks_run(cohort):
    obs, org, groups = cohort
    cal = calibrate(obs, groups, strata=org, rounds=1)
    kwargs = dict(draws=30, horizon_weeks=12, seed=5, strata=org, block_learners=40)
    here = forecast(cal, obs, 8, groups, **kwargs)
    there = forecast(cal, obs, 8, groups, **kwargs, runner=Scrambled())
    assert_same(here, there)
    assert np.isfinite(here.group_mean).all() and not np.isnan(here.group_fan).any()
    a = backtest(obs, 4, groups, draws=30, strata=org)
    b = backtest(obs, 4, groups, draws=30, strata=org, runner=Scrambled())
    assert_same(a, b)


def test_an_organization_forecast_alone_gets_the_rows_it_gets_among_all(cohort):
    obs, org, groups = cohort
    cal = calibrate(obs, groups, strata=org, rounds=2)
    everyone = forecast(cal, obs, 8, groups, draws=30, horizon_weeks=12, strata=org)
    alone = org == "ORG-A"
    sub = obs.subset(alone)
    sub_cal = calibrate(sub, groups[alone], strata=org[alone], rounds=2)
    np.testing.assert_array_equal(sub_cal.theta, cal.theta[alone])
    one = forecast(sub_cal, sub, 8, groups[alone], draws=30, horizon_weeks=12, strata=org[alone])
    np.testing.assert_array_equal(one.p_mastery_by_target, everyone.p_mastery_by_target[alone])
    np.testing.assert_array_equal(one.weeks_to_mastery, everyone.weeks_to_mastery[alone])


def test_the_effort_plan_is_the_same_wherever_its_chunks_run(cohort):
    obs, org, groups = cohort
    cal = calibrate(obs, groups, strata=org, rounds=1)
    ask = np.arange(obs.n) % 4 == 0
    target = np.full(obs.n, 10)
    kwargs = dict(draws=20, horizon_weeks=12, strata=org)
    assert_same(
        effort_plan(cal, obs, target, ask, **kwargs),
        effort_plan(cal, obs, target, ask, **kwargs, runner=Scrambled()),
    )


def test_the_disengagement_model_is_the_same_wherever_its_blocks_run(monkeypatch):
    d = _fading_program(n=400, days=180)
    whole = de.backtest(d, 12, 0.5, 0.2)  # fits the model as of the cut, then scores it
    monkeypatch.setattr(de, "BLOCK_LEARNERS", 64)
    scrambled = Scrambled()
    blocks = de.backtest(d, 12, 0.5, 0.2, runner=scrambled)
    assert scrambled.tasks == 2 * 7  # person-periods, then held-out scores; 7 blocks each
    assert_same(blocks, whole)
    assert_same(
        de.score(d, whole.model, 179, runner=scrambled),
        de.score(d, whole.model, 179, runner=IN_PROCESS),
    )


def test_in_process_runs_each_task_as_it_is_reached():
    seen = []

    def tasks():
        for i in range(3):
            seen.append(i)
            yield (i,)

    results = IN_PROCESS.map(abs, tasks(), name="t")
    assert next(results) == 0 and seen == [0], "the next task waits for the first's result"
