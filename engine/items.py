"""Each question's own answer curve: difficulty, discrimination and guessing (3PL).

One curve for the whole bank (``MeasurementModel``'s defaults) mixes easy knowledge checks with
hard quiz questions, so every answer looks alike and says little. Per question,
``P(correct | C) = guess + (1 - guess) expit(slope (C - difficulty))``; the three parameters are
estimated from the answers, jointly with the learners (joint maximum likelihood, alternating;
``calibration.fit_question_curves``):

1. calibrate the learners with every question at its kind's curve (``kind_curves``: its
   labelled level's difficulty, its format's chance of guessing, a typical slope);
2. given each learner's competency in each week (the posterior mode's path), fit every
   question's curve (``fit_items``): Levenberg-Marquardt per question, all questions at once,
   with a normal prior per kind whose mean is the kind's own (empirical Bayes) for the slope,
   so a question with few answers gets its kind's curve;
3. calibrate the learners again with each question's curve.

The kinds' difficulties and guessing stay at their anchors (``LEVEL_DIFFICULTY``,
``FORMAT_GUESS``): they say what a competency means, and without them the alternation keeps
whatever scale it starts from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

from engine.observations import ItemAnswers

N_ITEM_PARAMS = 3  # logit guess, log slope, difficulty
# The prior of a kind of question before its questions have spoken, and the spread of its
# questions around the kind's mean: guessing about 0.15 (0 to 0.5 covers open answers to
# true/false), slopes about 8 within a factor of 1.6, difficulties within 0.15.
START = np.array([logit(0.15), np.log(8.0), 0.35])
SPREAD = np.array([1.2, 0.5, 0.15])
# Questions of a kind: the kind's mean is shrunk toward the bank's with the weight of this many.
KIND_SHRINKAGE = 5.0
# What the competency scale means (standard setting): the competency at which a typical
# question of each labelled level is answered right half the time beyond guessing. Kinds of
# these levels keep these as their prior mean of difficulty, which pins the scale.
LEVEL_DIFFICULTY = {"beginner": 0.15, "intermediate": 0.32, "advanced": 0.50}
# The chance of guessing right, by format: one of four options, one of two. Open formats
# (short answers, scenarios, practical tasks) are not guessed.
FORMAT_GUESS = {"multiple_choice": 0.25, "true_false": 0.5}
OPEN_GUESS = 0.01
ITERATIONS = 25
STEP_TOLERANCE = 1e-3  # a question whose step is smaller (in each parameter's units) is settled
GUESS_BOUNDS = (1e-3, 0.7)


@dataclass(frozen=True, eq=False)
class ItemParameters:
    """Per question (index into ``item_ids``): guessing, slope, difficulty and the answers
    behind them; ``covariance`` (items, 3, 3) of (logit guess, log slope, difficulty)."""

    item_ids: np.ndarray
    item_kind: np.ndarray
    guess: np.ndarray
    slope: np.ndarray
    difficulty: np.ndarray
    n_answers: np.ndarray
    covariance: np.ndarray

    def aligned(self, answers: ItemAnswers) -> np.ndarray:
        """Each of ``answers``' question indices as an index into these parameters (-1 for a
        question they do not know)."""
        pos = np.searchsorted(self.item_ids, answers.item_ids)
        pos = np.minimum(pos, len(self.item_ids) - 1)
        found = self.item_ids[pos] == answers.item_ids
        return np.where(found, pos, -1)[answers.item]


def fit_items(
    answers: ItemAnswers,
    competency: np.ndarray,
    *,
    rounds: int = 3,
    iterations: int = ITERATIONS,
) -> ItemParameters:
    """Every question's curve given the competency (rows,) at each row of ``answers``.

    ``rounds`` of empirical Bayes: fit under the kinds' priors, then move each kind's prior
    mean to its questions' mean (shrunk toward the bank's).
    """
    n_items = len(answers.item_ids)
    kinds, kind = np.unique(answers.item_kind.astype(str), return_inverse=True)
    kind = kind.reshape(-1)
    item, n, k = answers.item, answers.n.astype(float), answers.k.astype(float)
    c = np.asarray(competency, dtype=float)
    precision = np.diag(1.0 / SPREAD**2)
    anchor, anchored = kind_priors(answers.item_kind)
    prior = anchor.copy()
    theta = prior.copy()
    info = np.zeros((n_items, N_ITEM_PARAMS, N_ITEM_PARAMS))
    for round_ in range(rounds):
        if round_:
            prior = np.where(anchored, anchor, _kind_means(theta, kind, len(kinds))[kind])
        theta, info = _fit(theta, prior, precision, item, n, k, c, n_items, iterations)
    guess = np.clip(expit(theta[:, 0]), *GUESS_BOUNDS)
    return ItemParameters(
        item_ids=answers.item_ids,
        item_kind=answers.item_kind,
        guess=guess,
        slope=np.exp(theta[:, 1]),
        difficulty=theta[:, 2],
        n_answers=np.bincount(item, n, n_items).astype(np.int64),
        covariance=np.linalg.inv(info),
    )


def kind_priors(item_kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each question's prior mean (items, 3) from its kind ("level/format"), and which of its
    entries are anchored (kept through the rounds): the level's difficulty and the format's
    chance of guessing, where the kind names a known level or format."""
    n_items = len(item_kind)
    mean = np.tile(START, (n_items, 1))
    anchored = np.zeros((n_items, N_ITEM_PARAMS), dtype=bool)
    for i, kind in enumerate(np.asarray(item_kind).astype(str)):
        level, _, form = kind.partition("/")
        if level in LEVEL_DIFFICULTY:
            mean[i, 2], anchored[i, 2] = LEVEL_DIFFICULTY[level], True
        if form:
            mean[i, 0], anchored[i, 0] = logit(FORMAT_GUESS.get(form, OPEN_GUESS)), True
    return mean, anchored


def kind_curves(answers: ItemAnswers) -> ItemParameters:
    """Every question at its kind's prior curve: where the alternation starts."""
    mean, _ = kind_priors(answers.item_kind)
    n_items = len(answers.item_ids)
    return ItemParameters(
        item_ids=answers.item_ids,
        item_kind=answers.item_kind,
        guess=expit(mean[:, 0]),
        slope=np.exp(mean[:, 1]),
        difficulty=mean[:, 2],
        n_answers=np.bincount(answers.item, answers.n, n_items).astype(np.int64),
        covariance=np.tile(np.diag(SPREAD**2), (n_items, 1, 1)),
    )


def _kind_means(theta: np.ndarray, kind: np.ndarray, kinds: int) -> np.ndarray:
    overall = theta.mean(axis=0)
    counts = np.bincount(kind, minlength=kinds)[:, None]
    sums = np.stack([np.bincount(kind, theta[:, j], kinds) for j in range(N_ITEM_PARAMS)], 1)
    return (sums + KIND_SHRINKAGE * overall) / (counts + KIND_SHRINKAGE)


def _curve(theta, item, c):
    """P(correct) and its gradient (3, rows) in (logit guess, log slope, difficulty)."""
    g = expit(theta[item, 0])
    slope = np.exp(theta[item, 1])
    gap = c - theta[item, 2]
    s = expit(slope * gap)
    p = g + (1.0 - g) * s
    ds = (1.0 - g) * s * (1.0 - s)
    grad = np.stack([g * (1.0 - g) * (1.0 - s), ds * slope * gap, -ds * slope])
    return np.clip(p, 1e-9, 1 - 1e-9), grad


def _objective(theta, prior, precision, item, n, k, c, n_items):
    """Each question's negative log posterior over the answer rows given."""
    p, _ = _curve(theta, item, c)
    ll = np.bincount(item, k * np.log(p) + (n - k) * np.log1p(-p), n_items)
    dev = theta - prior
    return -ll + 0.5 * np.einsum("ip,pq,iq->i", dev, precision, dev)


def _fit(theta, prior, precision, item, n, k, c, n_items, iterations):
    """Levenberg-Marquardt on each question's log posterior, all questions at once; questions
    whose steps have become negligible drop out (and their answers with them)."""
    theta = theta.copy()
    damping = np.full(n_items, 1e-2)
    objective = _objective(theta, prior, precision, item, n, k, c, n_items)
    pairs = [(a, b) for a in range(N_ITEM_PARAMS) for b in range(a, N_ITEM_PARAMS)]
    active = np.ones(n_items, dtype=bool)
    info = np.empty((n_items, N_ITEM_PARAMS, N_ITEM_PARAMS))
    for iteration in range(iterations + 1):
        last = iteration == iterations or not active.any()
        # The last pass only evaluates everyone's information (for the covariance).
        rows = slice(None) if last or active.all() else active[item]
        it, nr, kr, cr = item[rows], n[rows], k[rows], c[rows]
        p, grad = _curve(theta, it, cr)
        variance = p * (1.0 - p)
        residual = (kr - nr * p) / variance
        weight = nr / variance
        score = np.stack([np.bincount(it, grad[j] * residual, n_items) for j in range(3)], 1)
        score -= (theta - prior) @ precision
        fisher = np.empty((n_items, N_ITEM_PARAMS, N_ITEM_PARAMS))
        for a, b in pairs:
            fisher[:, a, b] = fisher[:, b, a] = np.bincount(it, weight * grad[a] * grad[b], n_items)
        fisher += precision
        moving = np.ones(n_items, dtype=bool) if last else active
        info[moving] = fisher[moving]
        if last:
            break
        scale = np.eye(N_ITEM_PARAMS) * np.diagonal(info, axis1=1, axis2=2).mean(axis=0)
        lm = info + damping[:, None, None] * scale
        step = np.clip(np.linalg.solve(lm, score[..., None])[..., 0], -1.0, 1.0)
        step[~active] = 0.0
        trial = theta + step
        obj_trial = _objective(trial, prior, precision, it, nr, kr, cr, n_items)
        better = active & (obj_trial <= objective)
        theta = np.where(better[:, None], trial, theta)
        objective = np.where(better, obj_trial, objective)
        damping = np.clip(np.where(better, damping / 3.0, damping * 4.0), 1e-6, 1e6)
        active &= ~(better & (np.abs(step).max(axis=1) < STEP_TOLERANCE))
    return theta, info
