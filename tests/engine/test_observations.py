import numpy as np
import pytest

from engine.observations import from_weekly_rows, stimulus_from_hours


def rows():
    # Two learners; L2 starts a week later. Study minutes repeat on every domain row.
    learner = np.array(["L1"] * 8 + ["L2"] * 4)
    week = np.array(["2026-01-05"] * 4 + ["2026-01-12"] * 4 + ["2026-01-12"] * 4, "datetime64[D]")
    domain = np.array(["knowledge", "skills", "application", "ethics"] * 3)
    answers = np.array([2, 0, 1, 0, 3, 1, 0, 0, 4, 4, 4, 4])
    correct = np.array([1, 0, 1, 0, 2, 1, 0, 0, 4, 3, 2, 1])
    minutes = np.array([300.0] * 4 + [600.0] * 4 + [120.0] * 4)
    return learner, week, domain, answers, correct, minutes


def test_rows_become_left_aligned_dense_arrays():
    obs = from_weekly_rows(*rows())
    assert list(obs.learner_ids) == ["L1", "L2"]
    assert list(obs.first_week) == [0, 1] and list(obs.n_weeks) == [2, 1]
    assert obs.n_answers.shape == (2, 2, 4)
    assert obs.n_answers[0, 0].tolist() == [2, 0, 1, 0]
    assert obs.n_correct[1, 0].tolist() == [4, 3, 2, 1]  # L2's first week is its index 0
    assert obs.hours.tolist() == [[5.0, 10.0], [2.0, 0.0]]
    assert obs.as_of == np.datetime64("2026-01-19")


def test_a_partial_last_week_can_be_left_out():
    obs = from_weekly_rows(*rows(), last_week=np.datetime64("2026-01-05"))
    assert list(obs.learner_ids) == ["L1"] and obs.as_of == np.datetime64("2026-01-12")


def test_cutting_drops_recent_weeks_and_learners_not_started():
    obs = from_weekly_rows(*rows()).cut(1)
    assert list(obs.learner_ids) == ["L1"] and list(obs.n_weeks) == [1]
    assert obs.hours.tolist() == [[5.0]]
    with pytest.raises(ValueError, match="cannot cut"):
        from_weekly_rows(*rows()).cut(2)


def test_recent_hours_are_nan_padded_in_front():
    recent = from_weekly_rows(*rows()).recent_hours(3)
    assert np.isnan(recent[0, 0]) and recent[0, 1:].tolist() == [5.0, 10.0]
    assert np.isnan(recent[1, :2]).all() and recent[1, 2] == 2.0


def test_unknown_domains_are_refused():
    learner, week, domain, *rest = rows()
    domain = domain.copy()
    domain[3] = "charisma"
    with pytest.raises(ValueError, match="charisma"):
        from_weekly_rows(learner, week, domain, *rest)


def test_stimulus_saturates_at_ten_hours_like_the_seed():
    assert stimulus_from_hours(np.array([0.0, 5.0, 10.0, 30.0])).tolist() == [0, 0.425, 0.85, 0.85]
