"""Per-learner parameters of the competency model, estimated from weekly answers and effort.

Each learner has six unknowns, theta = (logit C0 for the four domains, log V_max, log lambda):
the competency when they started and how fast they learn and forget. Given theta and the
learner's weekly stimulus (from study hours), the model gives the competency C at the start of
every week; a question of a domain is answered correctly with probability
``MeasurementModel.p_correct(C)``. Fitting maximises the binomial likelihood of the observed
answers plus a normal prior on theta, the prior being the cohort's own spread (empirical
Bayes): a learner with few answers gets parameters near their cohort's, one with many answers
their own.

The fit is batched: every Gauss-Newton (Fisher scoring) iteration simulates all learners of a
block at once, once per parameter for a forward-difference Jacobian, and solves one 6 x 6
system per learner with a batched solve; Levenberg-Marquardt damping per learner keeps steps
that improve. The posterior covariance (Laplace approximation) is the inverse of the Fisher
information plus the prior precision.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.special import expit, logit

from engine.blocks import Runner, runner_or_default
from engine.items import ItemParameters, fit_items, kind_curves
from engine.model import N_DOMAINS, CompetencyModel, simulate_path
from engine.observations import ItemAnswers, Observations

N_PARAMS = N_DOMAINS + 2
V_MAX, DECAY = N_DOMAINS, N_DOMAINS + 1  # columns of theta after the four logit C0
PARAM_NAMES = ("c0_knowledge", "c0_skills", "c0_application", "c0_ethics", "v_max", "decay")


@dataclass(frozen=True, eq=False)
class MeasurementModel:
    """How competency shows in answers: P(correct | C) = guess + (1 - guess) expit(slope (C - b)).

    One curve for the question bank as a whole (a three-parameter logistic item response
    curve), for answers not known question by question. The defaults were fitted by maximum
    likelihood against the ground-truth competency of a generated program of the default
    dynamics (2,000 learners, 26 weeks, seed 7; tests/pipelines/forecast/test_data.py refits
    them on the test program): answers mix easy knowledge checks with quiz questions of three
    levels, so the curve is flatter and higher than any single item's.
    """

    guess: float = 0.47
    slope: float = 5.1
    difficulty: float = 0.37
    # Each question's own curve (engine/items.py), for answers known question by question.
    items: ItemParameters | None = None

    def p_correct(self, competency: np.ndarray) -> np.ndarray:
        """The bank's curve: an answer to a question of the bank at large."""
        return self.guess + (1.0 - self.guess) * expit(self.slope * (competency - self.difficulty))

    def p_answer(self, competency: np.ndarray, item: np.ndarray) -> np.ndarray:
        """Answers to questions ``item`` (indices into ``items``; -1: a question it does not
        know, answered by the bank's curve)."""
        guess, slope, difficulty = self.curves(item)
        return guess + (1.0 - guess) * expit(slope * (competency - difficulty))

    def curves(self, item: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Guessing, slope and difficulty of the curve of each of the questions ``item``
        (as for p_answer), each of item's shape."""
        bank = (self.guess, self.slope, self.difficulty)
        if self.items is None:
            return tuple(np.full(np.shape(item), value) for value in bank)
        known = item >= 0
        at = np.where(known, item, 0)
        mine = (self.items.guess, self.items.slope, self.items.difficulty)
        return tuple(np.where(known, m[at], b) for m, b in zip(mine, bank, strict=True))


# Where the empirical-Bayes prior starts before the cohort has spoken: novice-ish competency
# (seed 004's novice baseline is 0.20; entrants at higher tiers start higher, so 80 % of
# starts within about 0.15 to 0.5), rates of seed-004 form scaled to weekly study (V_max
# about 0.2, lambda about 0.04, each within a factor of about 2). The answers say little
# about where a learner started, so that part of the prior moves little from here.
START_MEAN = np.array([logit(0.3)] * N_DOMAINS + [np.log(0.2), np.log(0.04)])
START_SD = np.array([0.6] * N_DOMAINS + [0.6, 0.6])
# A learner's fit has settled when no parameter moves by more than this (log/logit units; a
# posterior standard deviation is typically 0.3 or more).
STEP_TOLERANCE = 1e-3
# Learner-equivalents of weight the stratum's mean carries in a group's prior mean.
GROUP_SHRINKAGE = 20.0
# Empirical-Bayes rounds of the calibration the question fit starts from: its competencies
# only need to be good enough to fit the questions to (a third round changed nothing measured).
START_ROUNDS = 2
# Learners fitted together (one task): Fisher scoring is batched over them.
BLOCK_LEARNERS = 25_000


@dataclass(frozen=True)
class Calibration:
    """The fit, one row per learner (same order as the observations).

    theta: (n, 6) posterior mode; covariance: (n, 6, 6); prior_mean: (n, 6) the prior each
    learner was shrunk toward; prior_covariance: (strata, 6, 6), one per stratum (sorted);
    competency_now: (n, 4) C at the as-of
    date under the posterior mode; n_answers: (n,) answers the fit saw; converged: (n,) bool.
    """

    learner_ids: np.ndarray
    theta: np.ndarray
    covariance: np.ndarray
    prior_mean: np.ndarray
    prior_covariance: np.ndarray
    competency_now: np.ndarray
    n_answers: np.ndarray
    converged: np.ndarray
    model: CompetencyModel
    measurement: MeasurementModel

    @property
    def v_max(self) -> np.ndarray:
        return np.exp(self.theta[:, V_MAX])

    @property
    def decay(self) -> np.ndarray:
        return np.exp(self.theta[:, DECAY])

    @property
    def initial(self) -> np.ndarray:
        return expit(self.theta[:, :N_DOMAINS])

    def interval(self, column: int, z: float = 1.2815515655446004) -> tuple[np.ndarray, np.ndarray]:
        """Central 80 % (default z) posterior interval of one parameter, on its natural scale."""
        sd = np.sqrt(self.covariance[:, column, column])
        lo, hi = self.theta[:, column] - z * sd, self.theta[:, column] + z * sd
        inverse = expit if column < N_DOMAINS else np.exp
        return inverse(lo), inverse(hi)


def model_for(theta: np.ndarray, base: CompetencyModel) -> tuple[np.ndarray, CompetencyModel]:
    """Initial competency (n, 4) and a per-learner model from parameter rows theta (n, 6)."""
    rates = replace(base, v_max=np.exp(theta[:, V_MAX]), decay=np.exp(theta[:, DECAY]))
    return expit(theta[:, :N_DOMAINS]), rates


def competency_path(theta: np.ndarray, stimulus: np.ndarray, base: CompetencyModel) -> np.ndarray:
    """(weeks + 1, n, 4): C at the start of each observed week, and after the last."""
    initial, model = model_for(theta, base)
    return simulate_path(initial, stimulus, model)


def calibrate(
    obs: Observations,
    groups: np.ndarray | None = None,
    model: CompetencyModel = CompetencyModel(),
    measurement: MeasurementModel = MeasurementModel(),
    *,
    rounds: int = 3,
    iterations: int = 25,
    block_learners: int = BLOCK_LEARNERS,
    strata: np.ndarray | None = None,
    runner: Runner | None = None,
) -> Calibration:
    """Fit every learner of ``obs``; ``groups`` (n,) (e.g. cohort index) sets whose prior is whose.

    ``rounds`` of empirical Bayes: fit under the current prior, then re-estimate the prior's
    mean (per group, shrunk to the stratum's) and spread from the fits and their uncertainty.
    ``strata`` (n,) (e.g. organization ids): each stratum is calibrated apart, with a prior
    from its own learners and blocks of its own, so a stratum calibrated alone gets the same
    parameters as among all the others (default: one stratum). Blocks of at most
    ``block_learners`` are the tasks ``runner`` runs (default: in this process); the result
    is the same wherever they run.
    """
    n = obs.n
    runner = runner_or_default(runner)
    groups = np.zeros(n, dtype=np.int64) if groups is None else np.asarray(groups)
    labels, stratum = _strata(strata, n)
    blocks = [
        (rows, s)
        for s in range(len(labels))
        for rows in _cut(np.flatnonzero(stratum == s), block_learners)
    ]
    theta = np.tile(START_MEAN, (n, 1))
    prior_mean = np.tile(START_MEAN, (n, 1))
    prior_cov = np.tile(np.diag(START_SD**2), (len(labels), 1, 1))
    stimulus = obs.stimulus()
    covariance = np.zeros((n, N_PARAMS, N_PARAMS))
    converged = np.zeros(n, dtype=bool)
    now = np.empty((n, N_DOMAINS))
    for round_ in range(rounds):
        if round_:
            for s in range(len(labels)):
                rows = stratum == s
                prior_mean[rows], prior_cov[s] = _update_prior(
                    theta[rows], covariance[rows], groups[rows]
                )
        last = round_ == rounds - 1

        def tasks(last=last):
            for rows, s in blocks:
                width = max(int(obs.n_weeks[rows].max()), 1)
                yield (
                    theta[rows],
                    prior_mean[rows],
                    prior_cov[s],
                    stimulus[rows, :width],
                    answer_cells(obs, rows, measurement, width),
                    obs.n_weeks[rows],
                    model,
                    measurement,
                    iterations,
                    last,
                )

        results = runner.map(_calibrate_block, tasks(), name="calibrate")
        for (rows, _), (th, cov, done, at_now) in zip(blocks, results, strict=True):
            theta[rows], covariance[rows], converged[rows] = th, cov, done
            if last:
                now[rows] = at_now
    if rounds < 1:
        now = competency_path(theta, stimulus, model)[obs.n_weeks, np.arange(n)]
    return Calibration(
        learner_ids=obs.learner_ids,
        theta=theta,
        covariance=covariance,
        prior_mean=prior_mean,
        prior_covariance=prior_cov,
        competency_now=now,
        n_answers=obs.n_answers.sum(axis=(1, 2)),
        converged=converged,
        model=model,
        measurement=measurement,
    )


def calibrate_with_items(
    obs: Observations,
    groups: np.ndarray | None = None,
    model: CompetencyModel = CompetencyModel(),
    measurement: MeasurementModel = MeasurementModel(),
    *,
    items: ItemParameters | None = None,
    item_rounds: int = 1,
    **options,
) -> Calibration:
    """``calibrate`` with each question's own curve where ``obs`` has its answers question by
    question: the questions' curves are ``items`` when given (a run covering some of the
    learners reuses the curves fitted on all of them), else fitted here, alternating with the
    learners ``item_rounds`` times (engine/items.py). Without question-level answers: the
    bank's curve, as ``calibrate``."""
    if obs.items is None or len(obs.items.n) == 0:
        return calibrate(obs, groups, model, replace(measurement, items=None), **options)
    items = items if items is not None else measurement.items
    if items is None:
        items = fit_question_curves(obs, groups, model, measurement, rounds=item_rounds, **options)
    return calibrate(obs, groups, model, replace(measurement, items=items), **options)


def fit_question_curves(
    obs: Observations,
    groups: np.ndarray | None = None,
    model: CompetencyModel = CompetencyModel(),
    measurement: MeasurementModel = MeasurementModel(),
    *,
    rounds: int = 1,
    **options,
) -> ItemParameters:
    """Every question's curve, fitted alternately with the learners (engine/items.py): the
    learners calibrated with each question at its kind's curve, the questions fitted to them,
    ``rounds`` times. ``options`` as for ``calibrate``."""
    current = replace(measurement, items=kind_curves(obs.items))
    for _ in range(rounds):
        cal = calibrate(obs, groups, model, current, rounds=START_ROUNDS, **options)
        # Each answer row's competency: its week's start, in its question's domain.
        path = competency_path(cal.theta, obs.stimulus(), model)  # (weeks + 1, n, 4)
        fitted = fit_items(obs.items, path[obs.items.week, obs.items.learner, obs.items.domain])
        current = replace(measurement, items=fitted)
    return current.items


def answer_cells(obs: Observations, rows: np.ndarray, measurement: MeasurementModel, width: int):
    """The answers of learners ``rows`` (ascending) as flat cells, for the likelihood: learner
    (0 .. len(rows) - 1), week, domain, answers, correct, question (-1: the bank's curve).
    Question by question when both the observations and the measurement model have them,
    else per learner, week and domain."""
    if obs.items is not None and measurement.items is not None:
        mine: ItemAnswers = obs.items.of_learners(rows)
        item = measurement.items.aligned(mine)
        return mine.learner, mine.week, mine.domain, mine.n, mine.k, item
    answers, correct = obs.n_answers[rows, :width], obs.n_correct[rows, :width]
    observed = (np.arange(width)[None, :] < obs.n_weeks[rows][:, None])[..., None] & (answers > 0)
    li, ti, di = np.nonzero(observed)  # cells, grouped by learner
    n, k = answers[li, ti, di], correct[li, ti, di]
    return li, ti, di, n, k, np.full(len(li), -1, dtype=np.int64)


def _strata(strata: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct strata (sorted) and each learner's index into them."""
    if strata is None:
        return np.zeros(1, dtype=np.int64), np.zeros(n, dtype=np.int64)
    labels, index = np.unique(np.asarray(strata), return_inverse=True)
    return labels, index.reshape(-1)


def _cut(rows: np.ndarray, size: int) -> list[np.ndarray]:
    """``rows`` in consecutive pieces of at most ``size``."""
    return [rows[lo : lo + size] for lo in range(0, len(rows), max(int(size), 1))]


def _calibrate_block(theta, prior_mean, prior_cov, stim, cells, n_weeks, model, meas, iters, now):
    """One block's fit under its prior (a task); with ``now``, also its competency today."""
    theta, covariance, converged = _fit_block(
        theta.copy(), prior_mean, prior_cov, stim, cells, model, meas, iters
    )
    at_now = None
    if now:
        at_now = competency_path(theta, stim, model)[n_weeks, np.arange(len(theta))]
    return theta, covariance, converged, at_now


def from_parameters(
    obs: Observations,
    theta: np.ndarray,
    covariance: np.ndarray,
    model: CompetencyModel = CompetencyModel(),
    measurement: MeasurementModel = MeasurementModel(),
) -> Calibration:
    """A calibration stored earlier (theta (n, 6), covariance (n, 6, 6)), for obs' learners."""
    path = competency_path(theta, obs.stimulus(), model)
    return Calibration(
        learner_ids=obs.learner_ids,
        theta=theta,
        covariance=covariance,
        prior_mean=np.full_like(theta, np.nan),
        prior_covariance=np.full((1, N_PARAMS, N_PARAMS), np.nan),
        competency_now=path[obs.n_weeks, np.arange(obs.n)],
        n_answers=obs.n_answers.sum(axis=(1, 2)),
        converged=np.ones(obs.n, dtype=bool),
        model=model,
        measurement=measurement,
    )


def _update_prior(theta, covariance, groups):
    """Normal-normal empirical Bayes (one EM step): means per group, shrunk toward the
    program's; one full covariance for everyone, so that what the data says about one
    parameter (say, today's knowledge) informs the correlated others (the other domains)."""
    overall = theta.mean(axis=0)
    dev = theta - overall
    spread = dev.T @ dev / len(theta) + covariance.mean(axis=0)
    spread += np.eye(N_PARAMS) * 1e-6
    ids, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    sums = np.zeros((len(ids), N_PARAMS))
    np.add.at(sums, inverse, theta)
    group_mean = (sums + GROUP_SHRINKAGE * overall) / (counts[:, None] + GROUP_SHRINKAGE)
    return group_mean[inverse], spread


def _fit_block(theta, prior_mean, prior_cov, stim, cells, model, meas, iters):
    """Levenberg-Marquardt on the log posterior of each learner of one block, all at once.

    The answers (``answer_cells``: per learner, week, domain and perhaps question) enter the
    likelihood as flat arrays. Competency is simulated per (learner, week, domain) cell; an
    answer's probability is its curve at its cell's competency, so the Jacobian is the chain
    rule: the curve's slope per answer (exact) times the competency's derivative per cell
    (forward differences of the simulation), summed per cell before the per-learner sums.
    Learners whose steps have become negligible drop out of later iterations.
    """
    b = stim.shape[0]
    li, ti, di, n_ans, k_cor, item = cells
    n_ans, k_cor = n_ans.astype(float), k_cor.astype(float)
    curves = meas.curves(item)  # each answer's curve, looked up once
    # The (learner, week, domain) cells the answers fall in; answers are sorted by learner.
    width = int(ti.max(initial=0)) + 1
    keys, row_cell = np.unique((li * width + ti) * N_DOMAINS + di, return_inverse=True)
    row_cell = row_cell.reshape(-1)
    cell_li, cell_ti = keys // (width * N_DOMAINS), (keys // N_DOMAINS) % width
    cell_di = keys % N_DOMAINS
    precision = np.linalg.inv(prior_cov)
    pairs = [(p, q) for p in range(N_PARAMS) for q in range(p, N_PARAMS)]

    class Subset:
        """The learners still being fitted, their cells and answers, and where each cell sits
        in a path."""

        def __init__(self, learners: np.ndarray, cells: np.ndarray):
            self.learners, self.cells = learners, cells
            self.rows = cells[row_cell]  # their answers
            self.local = np.searchsorted(learners, cell_li[cells])  # cell -> row among learners
            # Flat position of each cell in a domain-major path (width + 1, 4, m).
            m = len(learners)
            self.flat = (cell_ti[cells] * N_DOMAINS + cell_di[cells]) * m + self.local
            self.cell_of = (np.cumsum(cells) - 1)[row_cell[self.rows]]  # answer -> cell here
            self.answer_local = self.local[self.cell_of]
            self.n, self.k = n_ans[self.rows], k_cor[self.rows]
            self.guess, self.slope, self.difficulty = (x[self.rows] for x in curves)

    def competency(th, sub):
        """C in the subset's cells for its learners' parameter rows th."""
        initial, rates = model_for(th, model)
        path = simulate_path(initial, stim[sub.learners], rates, domain_major=True)
        return path.reshape(-1)[sub.flat]

    def answer_curve(c, sub):
        """Each answer's P(correct), and its derivative in competency, at cell competency c."""
        s = expit(sub.slope * (c[sub.cell_of] - sub.difficulty))
        p = np.clip(sub.guess + (1.0 - sub.guess) * s, 1e-9, 1 - 1e-9)
        return p, (1.0 - sub.guess) * sub.slope * s * (1.0 - s)

    def neg_log_posterior(th, p, sub):
        terms = sub.k * np.log(p) + (sub.n - sub.k) * np.log1p(-p)
        ll = np.bincount(sub.answer_local, weights=terms, minlength=len(sub.learners))
        dev = th - prior_mean[sub.learners]
        return -ll + 0.5 * np.einsum("bp,pq,bq->b", dev, precision, dev)

    h = 1e-5
    everyone = Subset(np.arange(b), np.ones(len(keys), dtype=bool))
    damping = np.full(b, 1e-3)
    active = np.ones(b, dtype=bool)
    c_all = competency(theta, everyone)
    objective = neg_log_posterior(theta, answer_curve(c_all, everyone)[0], everyone)
    info = np.zeros((b, N_PARAMS, N_PARAMS))
    for iteration in range(iters + 1):
        last = iteration == iters or not active.any()
        # The last pass only evaluates the information (for the covariance) of everyone.
        sub = everyone if last or active.all() else Subset(np.flatnonzero(active), active[cell_li])
        learners, local = sub.learners, sub.local
        m, th, c = len(learners), theta[learners], c_all[sub.cells]
        n_cells = len(c)
        dc = np.empty((N_PARAMS, n_cells))
        for j in range(N_PARAMS):
            shifted = th.copy()
            shifted[:, j] += h
            dc[j] = (competency(shifted, sub) - c) / h
        p, slope = answer_curve(c, sub)
        variance = p * (1.0 - p)
        cell_weight = np.bincount(sub.cell_of, sub.n * slope * slope / variance, n_cells)
        cell_residual = np.bincount(sub.cell_of, slope * (sub.k - sub.n * p) / variance, n_cells)
        score = np.stack([np.bincount(local, dc[j] * cell_residual, m) for j in range(N_PARAMS)], 1)
        # Not `@`: a BLAS product may round a row differently with the rows or threads there
        # are, and a learner's fit must depend on nothing but their block.
        score -= np.einsum("bp,pq->bq", th - prior_mean[learners], precision)
        fisher = np.empty((m, N_PARAMS, N_PARAMS))
        for a, e in pairs:
            fisher[:, a, e] = fisher[:, e, a] = np.bincount(local, cell_weight * dc[a] * dc[e], m)
        fisher += precision
        info[learners] = fisher
        if last:
            break
        scale = np.diag(np.diagonal(fisher, axis1=1, axis2=2).mean(axis=0))
        lm = fisher + damping[learners, None, None] * scale
        delta = np.clip(np.linalg.solve(lm, score[..., None])[..., 0], -1.0, 1.0)
        trial = th + delta
        c_trial = competency(trial, sub)
        obj_trial = neg_log_posterior(trial, answer_curve(c_trial, sub)[0], sub)
        better = obj_trial <= objective[learners]
        theta[learners] = np.where(better[:, None], trial, th)
        c_all[sub.cells] = np.where(better[local], c_trial, c)
        objective[learners] = np.where(better, obj_trial, objective[learners])
        damping[learners] = np.where(better, damping[learners] / 3.0, damping[learners] * 4.0)
        damping.clip(1e-6, 1e6, out=damping)
        settled = better & (np.abs(delta).max(axis=1) < STEP_TOLERANCE)
        active[learners[settled]] = False
    covariance = np.linalg.inv(info)
    return theta, covariance, ~active
