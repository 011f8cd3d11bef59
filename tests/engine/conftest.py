"""A cohort made by the engine's own model, so the truth behind every answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from engine.simulated import ModelCohort, simulated_cohort

make_cohort = simulated_cohort


@pytest.fixture(scope="session")
def model_cohort() -> ModelCohort:
    return simulated_cohort()


def truth_now(cohort: ModelCohort) -> np.ndarray:
    """True competency at each learner's as-of date (the start of the week after their last)."""
    return cohort.path[cohort.obs.n_weeks, np.arange(cohort.obs.n)]
