"""The generator's dynamics are its own: it imports no engine code, seed 004's is written out
again (and agrees with the engine's step to the last bit), and per-skill practice learns with
practice and forgets without it."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import engine.model
from pipelines import contract
from pipelines.synthetic.dynamics import Practice, Seed004
from pipelines.synthetic.generator import GenerateOptions, generate
from pipelines.synthetic.population import build_population

GENERATOR_CODE = [
    *sorted(Path(contract.__file__).parent.joinpath("synthetic").glob("*.py")),
    Path(contract.__file__),
]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", GENERATOR_CODE, ids=lambda p: p.name)
def test_the_generator_imports_no_engine_code(path):
    engine_imports = {m for m in imported_modules(path) if m.split(".")[0] == "engine"}
    assert not engine_imports, f"{path.name} imports {engine_imports}"


def test_the_contract_and_the_engine_agree_on_domains_baseline_and_mastery():
    assert contract.DOMAINS == engine.model.DOMAINS
    assert contract.BASELINE_COMPETENCY == engine.model.BASELINE_COMPETENCY
    model = engine.model.CompetencyModel()
    assert (
        model.mastery_mean,
        model.mastery_variance,
    ) == (contract.MASTERY_MEAN, contract.MASTERY_VARIANCE)
    states = np.random.default_rng(1).uniform(0.6, 1.0, (5000, 4))
    np.testing.assert_array_equal(contract.is_mastered(states), engine.model.is_mastered(states))


@pytest.fixture(scope="module")
def population():
    return build_population(3, 500, 2, dt.date(2026, 1, 5))


def test_seed004_dynamics_is_the_engines_step_to_the_last_bit(population):
    pop = population
    dynamics = Seed004(pop)
    model = engine.model.CompetencyModel(v_max=pop.v_max, decay=pop.decay)
    rng = np.random.default_rng(0)
    state = pop.initial.copy()
    for week in range(30):
        stimulus = rng.uniform(0, 1, len(pop.v_max))
        started = rng.random(len(pop.v_max)) < 0.9
        expected = engine.model.step(state, stimulus, model, 1.0, pop.aptitude)
        state = np.where(started[:, None], expected, state)
        np.testing.assert_array_equal(dynamics.advance(week, stimulus, None, started), state)


def test_practice_learns_with_study_and_forgets_without_it(population):
    pop = population
    n = len(pop.v_max)
    dynamics = Practice.for_population(3, pop)
    everyone = np.ones(n, bool)
    np.testing.assert_allclose(dynamics.competency, pop.initial, atol=1e-12)
    hours = np.where(np.arange(n) % 2 == 0, 8.0, 2.0)  # even learners study four times more
    path = [dynamics.advance(week, None, hours, everyone) for week in range(20)]
    studied = path[-1]
    assert ((studied >= pop.initial) & (studied <= 1)).all()
    gain = (studied - pop.initial).mean(axis=1)
    assert gain[::2].mean() > 1.5 * gain[1::2].mean(), "more practice, more competency"
    # The power law: each ten weeks of the same practice gain less than the ten before.
    first, second = path[9] - pop.initial, path[19] - path[9]
    assert second.mean() < first.mean()
    idle = [dynamics.advance(20 + week, None, np.zeros(n), everyone) for week in range(20)]
    assert (idle[-1] <= studied + 1e-12).all() and (idle[-1] >= pop.initial - 1e-12).all()
    assert (studied - idle[-1]).mean() > 0.02, "twenty weeks without study: some is forgotten"
    # Learners who have not started do not move.
    nobody = np.zeros(n, bool)
    np.testing.assert_array_equal(dynamics.advance(40, None, hours, nobody), idle[-1])


def test_the_two_dynamics_give_other_truth_from_the_same_program(tmp_path):
    def truth(dynamics):
        opts = GenerateOptions(
            out=tmp_path / dynamics / "landing",
            learners=150,
            seed=4,
            weeks=8,
            start_date=dt.date(2026, 1, 5),
            dynamics=dynamics,
        )
        generate(opts)
        return pl.read_parquet(opts.truth_dir / "competency_weekly.parquet")

    practice, seed004 = truth("practice"), truth("seed004")
    assert practice["learner_id"].to_list() == seed004["learner_id"].to_list()
    assert practice.filter(pl.col("week") == 0)["mean"].to_list() != pytest.approx(
        seed004.filter(pl.col("week") == 0)["mean"].to_list()
    )
    for frame in (practice, seed004):
        assert (
            frame.select(
                pl.col("knowledge", "skills", "application", "ethics").is_between(0, 1).all()
            ).row(0)
            == (True,) * 4
        )
