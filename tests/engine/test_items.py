"""Each question's own answer curve (engine/items.py), and the answers question by question."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from engine.items import fit_items
from engine.observations import ItemAnswers


def known_bank(rng, n_items=60, answers_per_item=1500):
    """Answers to questions of known curves by learners of known competency (uniform on
    [0, 1]); kinds by guessing (open answers, multiple choice, true/false)."""
    kind = np.arange(n_items) % 3
    guess = np.array([0.0, 0.25, 0.5])[kind]
    slope = rng.lognormal(np.log(8.0), 0.3, n_items)
    difficulty = rng.choice([0.15, 0.32, 0.5], n_items) + rng.normal(0, 0.05, n_items)
    item = np.repeat(np.arange(n_items), answers_per_item)
    competency = rng.random(len(item))
    p = guess[item] + (1 - guess[item]) * expit(slope[item] * (competency - difficulty[item]))
    correct = (rng.random(len(item)) < p).astype(np.int64)
    answers = ItemAnswers(
        learner=np.zeros(len(item), np.int64),
        week=np.zeros(len(item), np.int64),
        domain=np.zeros(len(item), np.int64),
        item=item,
        n=np.ones(len(item), np.int64),
        k=correct,
        item_ids=np.array([f"Q{i:03d}" for i in range(n_items)], dtype=object),
        item_kind=np.array(["open", "choice", "true_false"], dtype=object)[kind],
    )
    return answers, competency, guess, slope, difficulty


def test_the_fit_recovers_known_question_curves():
    answers, competency, guess, slope, difficulty = known_bank(np.random.default_rng(3))
    fitted = fit_items(answers, competency)
    assert np.abs(fitted.difficulty - difficulty).mean() < 0.03
    assert np.abs(np.log(fitted.slope / slope)).mean() < 0.25
    assert np.abs(fitted.guess - guess).mean() < 0.08
    # the kinds' guessing is told apart: open answers < multiple choice < true/false
    by_kind = [
        fitted.guess[np.asarray(answers.item_kind) == g].mean()
        for g in ("open", "choice", "true_false")
    ]
    assert by_kind[0] < by_kind[1] < by_kind[2], by_kind
    # the curves' standard errors say how well each is known: few answers, wider
    few = fit_items(answers.rows(np.arange(len(answers.n)) % 10 == 0), competency[::10])
    assert (np.sqrt(few.covariance[:, 2, 2]) > np.sqrt(fitted.covariance[:, 2, 2])).all()


def test_a_question_with_few_answers_gets_its_kinds_curve():
    answers, competency, *_ = known_bank(np.random.default_rng(5))
    keep = (answers.item != 0) | (np.arange(len(answers.n)) % 1500 < 3)  # Q000: 3 answers
    fitted = fit_items(answers.rows(keep), competency[keep])
    same_kind = np.asarray(answers.item_kind) == answers.item_kind[0]
    kind_mean = np.median(fitted.difficulty[same_kind][1:])
    assert abs(fitted.difficulty[0] - kind_mean) < 0.1
    assert fitted.n_answers[0] == 3


def test_answers_of_learners_keep_their_rows_and_renumber():
    answers = ItemAnswers(
        learner=np.array([0, 0, 1, 2, 2, 2]),
        week=np.array([0, 1, 0, 0, 1, 1]),
        domain=np.zeros(6, np.int64),
        item=np.array([0, 1, 0, 1, 0, 1]),
        n=np.array([1, 2, 1, 1, 1, 3]),
        k=np.array([1, 1, 0, 1, 0, 2]),
        item_ids=np.array(["a", "b"], dtype=object),
        item_kind=np.array(["x", "x"], dtype=object),
    )
    mine = answers.of_learners(np.array([2, 0]))
    assert mine.learner.tolist() == [0, 0, 0, 1, 1] and mine.n.tolist() == [1, 1, 3, 1, 2]
    kept = answers.subset(np.array([True, False, True]), n_weeks=np.array([1, 1]))
    assert kept.learner.tolist() == [0, 1] and kept.k.tolist() == [1, 1]


def test_curves_stay_finite_on_questions_everyone_gets_right():
    answers, competency, *_ = known_bank(np.random.default_rng(9), n_items=6, answers_per_item=40)
    everyone = ItemAnswers(**{**answers.__dict__, "k": answers.n.copy()})
    fitted = fit_items(everyone, competency)
    for values in (fitted.guess, fitted.slope, fitted.difficulty, fitted.covariance):
        assert np.isfinite(values).all()
