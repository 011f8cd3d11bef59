"""Observations simulated by the engine's own model, with the truth behind every answer.

For tests and benchmarks of calibration and forecasts: when the data come from the model
itself, a calibrated forecast must recover the truth and its intervals must hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.calibration import MeasurementModel
from engine.model import CompetencyModel, simulate_path
from engine.observations import Observations, stimulus_from_hours


@dataclass(frozen=True)
class ModelCohort:
    obs: Observations
    initial: np.ndarray  # (n, 4)
    v_max: np.ndarray
    decay: np.ndarray
    path: np.ndarray  # (weeks + 1, n, 4) true competency at each week start


def simulated_cohort(n=600, weeks=20, quiz_rate=0.35, quiz_questions=10, seed=0) -> ModelCohort:
    """Learners who start over the first weeks and study noisy hours; in a week, with
    probability quiz_rate, they take a quiz of quiz_questions spread over the four domains
    (so about a quarter of learner-week-domain cells have answers, as in generated programs).
    Answers follow MeasurementModel exactly."""
    rng = np.random.default_rng(seed)
    start = rng.integers(0, 4, n)
    level = rng.choice([0.2, 0.32, 0.44], n, p=[0.5, 0.3, 0.2])
    initial = np.clip(level[:, None] + rng.normal(0, 0.03, (n, 4)), 0.05, 0.95)
    v_max = np.exp(rng.normal(np.log(0.17), 0.3, n))
    decay = np.exp(rng.normal(np.log(0.03), 0.3, n))
    own = weeks - start
    usual = np.exp(rng.normal(np.log(6.5), 0.4, n))
    hours = usual[:, None] * np.exp(rng.normal(0, 0.5, (n, weeks)))
    hours = np.where(np.arange(weeks)[None, :] < own[:, None], hours, 0.0)
    model = CompetencyModel(v_max=v_max, decay=decay)
    path = simulate_path(initial, stimulus_from_hours(hours), model)
    quiz = rng.random((n, weeks)) < quiz_rate
    asked = rng.multinomial(quiz_questions, [0.25] * 4, (n, weeks)) * quiz[..., None]
    asked = np.where((np.arange(weeks)[None, :] < own[:, None])[..., None], asked, 0)
    p = MeasurementModel().p_correct(path[:-1].transpose(1, 0, 2))
    correct = rng.binomial(asked, p)
    calendar = np.datetime64("2026-01-05") + 7 * np.arange(weeks).astype("timedelta64[D]")
    obs = Observations(
        learner_ids=np.array([f"L{i:05d}" for i in range(n)]),
        week_starts=calendar,
        first_week=start,
        n_weeks=own,
        n_answers=asked,
        n_correct=correct,
        hours=hours,
    )
    return ModelCohort(obs, initial, v_max, decay, path)
