"""Monte Carlo mastery forecasts: who reaches mastery, when, and how sure we are.

For each learner, ``draws`` futures are simulated. A future draws the learner's parameters from
their calibration posterior (so the current competency, which follows from them through the
learner's own history, is uncertain too) and a stimulus for every coming week resampled from
the learner's own recent weeks (a learner who stopped studying keeps not studying; a steady
one stays steady). Learners are processed in blocks, so memory holds ``block_learners x
draws`` trajectories at a time, never draws x learners x weeks.

Every block has two random streams spawned from one seed (and its stratum, an organization),
one for the parameters and one for the future weeks: the same seed gives the same forecast,
wherever its blocks run (engine/blocks.py), and a what-if (another effort) reuses the same
starting points and the same resampled weeks (common random numbers), so the difference it
shows is the effort's, not noise.
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass

import numpy as np

from engine.blocks import Runner, runner_or_default
from engine.calibration import Calibration, MeasurementModel, competency_path, model_for
from engine.model import N_DOMAINS, CompetencyModel, is_mastered, simulate
from engine.observations import ItemAnswers, Observations, stimulus_from_hours

QUANTILES = (0.10, 0.50, 0.90)
FAN_QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)
FAN_SERIES = ("knowledge", "skills", "application", "ethics", "mean")
FAN_DRAWS = 25  # futures per learner in the fan charts: with >= 100 learners, >= 2,500 a week
HISTOGRAM_BINS = 200  # competency resolution 0.005 for the fan charts
BLOCK_LEARNERS = 512
TASK_BLOCKS = 8  # blocks per task on a runner: 4,096 learners, a few seconds of one core
# The nightly batch's defaults: Monte Carlo futures per learner, weeks ahead, seed.
DRAWS = 200
HORIZON_WEEKS = 52
SEED = 2026
# A future week's study time is one of the learner's last RECENT_WEEKS weeks', at random. Ten
# rather than eight: on the backtests of the default dynamics (2,000 learners, seeds 7 and 8)
# competency MAE at 8 weeks fell from 0.073 to 0.069 and 0.068, coverage rose by 0.02-0.03;
# on seed 004's dynamics nothing moved by more than 0.008 (benchmarks/RESULTS.md).
RECENT_WEEKS = 10


@dataclass(frozen=True)
class BlockStart:
    """Where the futures of one block of b learners start: parameter rows (draws * b, 6) and
    the competency now they imply (draws * b, 4), draw-major (future j is draw j // b of
    learner j % b, so each draw's futures are contiguous); each learner's recent hours
    (b, recent), NaN-padded in front; the block's stream for future weeks; and, when drawn
    ahead, which recent week each future week replays, (horizon, draws * b) int8."""

    rows: np.ndarray
    theta: np.ndarray
    now: np.ndarray
    recent_hours: np.ndarray
    future_seed: np.random.SeedSequence
    draws: int
    picks: np.ndarray | None = None


@dataclass(frozen=True)
class Starts:
    """Every block's starting points, kept to run several forecasts (what-ifs) from them."""

    blocks: list[BlockStart]
    draws: int


@dataclass(frozen=True)
class Forecast:
    """Per learner (calibration order) and per group (cohort) over ``horizon_weeks``.

    mastered_now: (n,) at the posterior mode; p_mastery_by_target: (n,) share of futures at
    mastery at some week start up to the learner's target week; weeks_to_mastery: (n, 3)
    p10/p50/p90 of the first week at mastery (0 = now), +inf where the quantile lies beyond the
    horizon; competency_at_target: (n, 3, 5) p10/p50/p90 of each domain and of the mean at the
    target week; group_fan: (groups, horizon + 1, 5, 5) quantiles (FAN_QUANTILES) over the
    group's learners and their first FAN_DRAWS futures, per week and series (FAN_SERIES);
    group_mean: the means, (groups, horizon + 1, 5). With a holdout (backtests):
    p_correct_ahead (n, k, 4), the expected P(correct) in the k weeks ahead, and holdout_pit
    (n,), where the number of held-out answers a learner got right falls in its predictive
    distribution (randomized PIT in [0, 1]; NaN without held-out answers): an 80 % interval
    covers it when 0.1 <= PIT <= 0.9.
    """

    learner_ids: np.ndarray
    as_of: np.datetime64
    horizon_weeks: int
    draws: int
    effort_multiplier: float
    target_week: np.ndarray
    mastered_now: np.ndarray
    p_mastery_by_target: np.ndarray
    weeks_to_mastery: np.ndarray
    competency_at_target: np.ndarray
    group_fan: np.ndarray
    group_mean: np.ndarray
    p_correct_ahead: np.ndarray | None = None
    holdout_pit: np.ndarray | None = None
    p_holdout_items: np.ndarray | None = None


def draw_starts(
    calibration: Calibration,
    obs: Observations,
    *,
    draws: int = DRAWS,
    seed: int = 0,
    recent_weeks: int = RECENT_WEEKS,
    block_learners: int = BLOCK_LEARNERS,
    horizon_weeks: int | None = None,
) -> Starts:
    """Draw every learner's parameters and replay their history under each draw.

    horizon_weeks: also draw which recent week each future week replays, so that forecasts
    from these starts (what-ifs at other efforts) skip that step. Holds draws x learners x
    (10 doubles + horizon bytes): meant for a cohort, not for the whole program.
    """
    blocks = _block_starts(
        calibration, obs, draws, seed, recent_weeks, block_learners, horizon_weeks
    )
    return Starts(list(blocks), draws)


def _block_starts(cal, obs, draws, seed, recent_weeks, block_learners, horizon=None):
    """One BlockStart after another (learner order), each from its own spawned streams."""
    stimulus = obs.stimulus()
    recent = obs.recent_hours(recent_weeks)
    starts = range(0, obs.n, block_learners)
    for lo, block_seed in zip(starts, np.random.SeedSequence(seed).spawn(len(starts)), strict=True):
        params_seed, future_seed = block_seed.spawn(2)
        rows = np.arange(lo, min(lo + block_learners, obs.n))
        width = int(obs.n_weeks[rows].max())
        yield _start(
            rows,
            cal.theta[rows],
            cal.covariance[rows],
            stimulus[rows, :width],
            obs.n_weeks[rows],
            recent[rows],
            cal.model,
            draws,
            params_seed,
            future_seed,
            horizon,
        )


def _start(
    rows, theta, covariance, stimulus, n_weeks, recent, model, draws, params, future, horizon
):
    """A block's BlockStart: parameters drawn from each learner's posterior (b, 6), (b, 6, 6),
    their history (b, width) replayed under each draw."""
    b = len(rows)
    # theta + L z, L the Cholesky factor of the learner's posterior covariance.
    chol = np.linalg.cholesky(covariance)
    z = np.random.default_rng(params).standard_normal((draws, b, chol.shape[1]))
    drawn = (theta[None, :, :] + np.einsum("bpq,dbq->dbp", chol, z)).reshape(draws * b, -1)
    path = competency_path(drawn, np.tile(stimulus, (draws, 1)), model)
    now = path[np.tile(n_weeks, draws), np.arange(draws * b)]
    block = BlockStart(rows, drawn, now, recent, future, draws)
    if horizon is not None:
        block = dataclasses.replace(block, picks=_draw_picks(block, horizon))
    return block


def _draw_picks(block: BlockStart, horizon: int) -> np.ndarray:
    """How many weeks back from its learner's latest week each future week's study time
    comes from, (horizon, draws * b), uniformly over the recent weeks there are."""
    hours = block.recent_hours
    available = np.tile((~np.isnan(hours)).sum(axis=1), block.draws)
    rng = np.random.default_rng(block.future_seed)
    back = (rng.random((horizon, available.size), dtype=np.float32) * available).astype(np.int8)
    return np.minimum(back, (available - 1).astype(np.int8))


def forecast(
    calibration: Calibration,
    obs: Observations,
    target_week: np.ndarray | int | None = None,
    groups: np.ndarray | None = None,
    *,
    horizon_weeks: int = HORIZON_WEEKS,
    draws: int = DRAWS,
    seed: int = 0,
    effort_multiplier: float = 1.0,
    recent_weeks: int = RECENT_WEEKS,
    holdout: tuple[np.ndarray, np.ndarray] | None = None,
    holdout_items: ItemAnswers | None = None,
    starts: Starts | None = None,
    block_learners: int = BLOCK_LEARNERS,
    strata: np.ndarray | None = None,
    runner: Runner | None = None,
) -> Forecast:
    """Simulate ``draws`` futures per learner of ``horizon_weeks`` weeks from ``obs.as_of``.

    target_week: (n,) or scalar, weeks from the as-of date to each learner's target (clipped to
    [0, horizon]; default the horizon). groups: (n,) ints for the fan charts (default one
    group). effort_multiplier scales every future week's study hours (the what-if slider).
    starts: from :func:`draw_starts`, to reuse (then draws, seed, recent_weeks come from it).
    holdout: (answers, correct), each (n, k, 4), the answers actually given in the k weeks
    after the as-of date (backtests): the forecast then also predicts them. holdout_items:
    the same answers question by question (week: weeks after the as-of date), when the
    calibration's measurement model knows the questions: then each held-out answer gets its
    question's P(correct) (``p_holdout_items``, in the rows' order), and the PIT counts them.

    Blocks of ``block_learners`` are the unit of randomness: each stratum's learners (strata
    (n,), e.g. organization ids; default one stratum), ordered by group, are cut into blocks
    whose streams are spawned from (seed, stratum), so a stratum forecast alone gets the same
    futures as among all. ``runner`` runs the blocks, TASK_BLOCKS to a task, here (default) or
    on a cluster; the driver combines their results in block order, so the forecast is the
    same wherever they ran.
    """
    n, horizon = obs.n, int(horizon_weeks)
    runner = runner_or_default(runner)
    target = np.broadcast_to(
        np.asarray(horizon if target_week is None else target_week, dtype=np.int64), (n,)
    ).clip(0, horizon)
    groups = np.zeros(n, dtype=np.int64) if groups is None else np.asarray(groups, np.int64)
    ahead_weeks = 0 if holdout is None else holdout[0].shape[1]
    settings = _Settings(
        calibration.model, calibration.measurement, horizon, float(effort_multiplier), ahead_weeks
    )
    if starts is None:  # drawn block by block where the block runs: memory holds a block's futures
        plan = _plan(groups, strata, block_learners, seed)
        stimulus = obs.stimulus()
        recent = obs.recent_hours(recent_weeks)

        def task(chunk):
            inputs = []
            for rows, params, future, pit in chunk:
                width = int(obs.n_weeks[rows].max())
                inputs.append(
                    _BlockInput(
                        rows,
                        calibration.theta[rows],
                        calibration.covariance[rows],
                        stimulus[rows, :width],
                        obs.n_weeks[rows],
                        recent[rows],
                        target[rows],
                        groups[rows],
                        params,
                        future,
                        pit,
                        _holdout_of(holdout, holdout_items, rows),
                    )
                )
            return inputs, draws, settings

        chunks = [plan[i : i + TASK_BLOCKS] for i in range(0, len(plan), TASK_BLOCKS)]
        results = runner.map(_forecast_task, (task(c) for c in chunks), name="forecast")
        blocks = (block for chunk in results for block in chunk)
    else:  # a what-if from starts kept in this process
        draws = starts.draws
        pit_seeds = np.random.SeedSequence([seed, 1]).spawn(len(starts.blocks))
        blocks = (
            _run_block(
                start,
                target[start.rows],
                groups[start.rows],
                pit_seed,
                _holdout_of(holdout, holdout_items, start.rows),
                settings,
            )
            for start, pit_seed in zip(starts.blocks, pit_seeds, strict=True)
        )
    k = len(FAN_SERIES)
    p_mastery = np.empty(n)
    weeks_to = np.empty((n, len(QUANTILES)))
    at_target = np.empty((n, len(QUANTILES), k))
    ahead = np.empty((n, ahead_weeks, N_DOMAINS)) if holdout is not None else None
    pit = np.full(n, np.nan) if holdout is not None else None
    item_p = None if holdout_items is None else np.empty(len(holdout_items.n))
    fans = _Fans(groups, horizon)
    for block in blocks:
        rows = block.rows
        p_mastery[rows] = block.p_mastery
        weeks_to[rows] = block.weeks_to
        at_target[rows] = block.at_target
        if holdout is not None:
            ahead[rows] = block.ahead
            pit[rows] = block.pit
        if item_p is not None:
            item_p[holdout_items.positions(rows)[0]] = block.item_p
        fans.add(block)
    fan, group_mean = fans.result()
    return Forecast(
        learner_ids=calibration.learner_ids,
        as_of=obs.as_of,
        horizon_weeks=horizon,
        draws=draws,
        effort_multiplier=float(effort_multiplier),
        target_week=target,
        mastered_now=is_mastered(calibration.competency_now, calibration.model),
        p_mastery_by_target=p_mastery,
        weeks_to_mastery=weeks_to,
        competency_at_target=at_target,
        group_fan=fan,
        group_mean=group_mean,
        p_correct_ahead=ahead,
        holdout_pit=pit,
        p_holdout_items=item_p,
    )


def _holdout_of(holdout, holdout_items, rows):
    """A block's part of the held-out answers: (answers, correct[, question-level rows])."""
    if holdout is None:
        return None
    part = (holdout[0][rows], holdout[1][rows])
    return part if holdout_items is None else (*part, holdout_items.of_learners(rows))


def stratum_seed(seed: int, stratum: object | None, *salt: int) -> np.random.SeedSequence:
    """The root of a stratum's block streams: from the seed alone without strata, else from
    the seed and the stratum's label (a CRC of its text: the same whatever the other strata)."""
    if stratum is None:
        return np.random.SeedSequence([seed, *salt] if salt else seed)
    return np.random.SeedSequence([seed, *salt, zlib.crc32(str(stratum).encode())])


def _plan(groups, strata, block_learners, seed):
    """Every block, in order: (rows, parameter stream, future stream, holdout stream). Per
    stratum (sorted), its learners in group order, cut into blocks of block_learners."""
    n = len(groups)
    if strata is None:
        labels, index = [None], np.zeros(n, dtype=np.int64)
    else:
        labels, index = np.unique(np.asarray(strata), return_inverse=True)
        index = index.reshape(-1)
    plan = []
    for s, label in enumerate(labels):
        members = np.flatnonzero(index == s)
        members = members[np.argsort(groups[members], kind="stable")]
        pieces = [
            members[lo : lo + block_learners] for lo in range(0, len(members), block_learners)
        ]
        block_seeds = stratum_seed(seed, label).spawn(len(pieces))
        pit_seeds = stratum_seed(seed, label, 1).spawn(len(pieces))
        for rows, block_seed, pit_seed in zip(pieces, block_seeds, pit_seeds, strict=True):
            params, future = block_seed.spawn(2)
            plan.append((rows, params, future, pit_seed))
    return plan


@dataclass(frozen=True)
class _Settings:
    """What every block of one forecast shares."""

    model: CompetencyModel
    measurement: MeasurementModel
    horizon: int
    effort: float
    ahead_weeks: int


@dataclass(frozen=True)
class _BlockInput:
    """One block's inputs, as sent to where it runs (b learners, rows into the forecast's)."""

    rows: np.ndarray
    theta: np.ndarray  # (b, 6)
    covariance: np.ndarray  # (b, 6, 6)
    stimulus: np.ndarray  # (b, width): the observed weeks
    n_weeks: np.ndarray
    recent_hours: np.ndarray  # (b, recent)
    target: np.ndarray
    groups: np.ndarray
    params_seed: np.random.SeedSequence
    future_seed: np.random.SeedSequence
    pit_seed: np.random.SeedSequence
    holdout: tuple | None  # (answers, correct[, ItemAnswers])


@dataclass(frozen=True)
class _BlockResult:
    """What a block sends back: per learner, and its part of its groups' fans (groups (g,),
    hist (g, weeks, series, bins) int32 counts, sums (g, weeks, series), counts (g,) futures
    kept, members (g,) learners)."""

    rows: np.ndarray
    p_mastery: np.ndarray
    weeks_to: np.ndarray
    at_target: np.ndarray
    ahead: np.ndarray | None
    pit: np.ndarray | None
    item_p: np.ndarray | None
    groups: np.ndarray
    hist: np.ndarray
    sums: np.ndarray
    counts: np.ndarray
    members: np.ndarray


def _forecast_task(inputs: list[_BlockInput], draws: int, settings: _Settings):
    """A task: a few consecutive blocks, drawn, simulated and summarized one after another."""
    results = []
    for inp in inputs:
        start = _start(
            inp.rows,
            inp.theta,
            inp.covariance,
            inp.stimulus,
            inp.n_weeks,
            inp.recent_hours,
            settings.model,
            draws,
            inp.params_seed,
            inp.future_seed,
            None,
        )
        results.append(
            _run_block(start, inp.target, inp.groups, inp.pit_seed, inp.holdout, settings)
        )
    return results


def _run_block(block: BlockStart, target, groups, pit_seed, holdout, settings) -> _BlockResult:
    """Simulate one block's futures and keep what the forecast reports of them."""
    rows, draws, horizon = block.rows, block.draws, settings.horizon
    b, k = len(rows), len(FAN_SERIES)
    watch = _Watch(settings.model, target, draws, horizon, settings.ahead_weeks)
    _future(block, settings.model, horizon, settings.effort, watch)
    first = watch.first.reshape(draws, b).T
    p_mastery = (first <= target[:, None]).mean(axis=1)
    weeks_to = np.quantile(first, QUANTILES, axis=1, method="inverted_cdf").T
    values = watch.at_target.reshape(k, draws, b)
    at_target = np.quantile(values, QUANTILES, axis=1).transpose(2, 0, 1)
    ahead = pit = item_p = None
    if holdout is not None:
        p = settings.measurement.p_correct(watch.ahead)  # (k weeks, 4, draws * b)
        p = p.reshape(settings.ahead_weeks, N_DOMAINS, draws, b).swapaxes(2, 3)
        ahead = p.mean(axis=3).transpose(2, 0, 1)
        rng = np.random.default_rng(pit_seed)
        if len(holdout) == 3:
            item_p, pit = _holdout_items(watch.ahead, holdout, settings.measurement, draws, rng)
        else:
            pit = _holdout_pit(p, holdout[0], holdout[1], rng)
    sample = watch.sample.reshape(horizon + 1, k, -1, b).swapaxes(2, 3)
    ids, hist, sums, counts, members = _fan_part(sample, groups)
    return _BlockResult(
        rows, p_mastery, weeks_to, at_target, ahead, pit, item_p, ids, hist, sums, counts, members
    )


class _Watch:
    """What a forecast keeps of its futures (draw-major, see Starts), gathered week by week as
    they are simulated: the first week at mastery, the state at each learner's target week,
    the first weeks' states (backtests) and the first FAN_DRAWS draws (fan charts)."""

    def __init__(self, model, target, draws, horizon, ahead_weeks):
        b = len(target)
        m = b * draws
        self.model = model
        self.first = np.full(m, np.inf)
        self.at_target = np.empty((len(FAN_SERIES), m))
        # Futures reaching their target each week, ascending: found per block by bisection.
        futures = np.argsort(np.tile(target, draws), kind="stable")
        weeks = np.tile(target, draws)[futures]
        edges = np.searchsorted(weeks, np.arange(horizon + 2))
        self.at_week = [np.sort(futures[edges[w] : edges[w + 1]]) for w in range(horizon + 1)]
        self.ahead = np.empty((ahead_weeks, N_DOMAINS, m))
        self.kept = min(FAN_DRAWS, draws) * b  # the first draws' futures are a prefix
        self.sample = np.empty((horizon + 1, len(FAN_SERIES), self.kept))

    def __call__(self, week: int, rows: slice, state: np.ndarray) -> None:
        lo, hi = rows.start, rows.stop
        c0, c1, c2, c3 = state
        mean = c0 + c1
        mean += c2
        mean += c3
        mean /= N_DOMAINS
        # Mastery needs a high mean first: weeks where no future has one skip the variance.
        if mean.max() >= self.model.mastery_mean:
            square = c0 * c0
            square += c1 * c1
            square += c2 * c2
            square += c3 * c3
            square /= N_DOMAINS
            square -= mean * mean  # the variance
            mastered = (mean >= self.model.mastery_mean) & (square <= self.model.mastery_variance)
            first = self.first[lo:hi]
            first[mastered & (first > week)] = week
        hits = self.at_week[week]
        hits = hits[np.searchsorted(hits, lo) : np.searchsorted(hits, hi)]
        if hits.size:
            self.at_target[:N_DOMAINS, hits] = state[:, hits - lo]
            self.at_target[N_DOMAINS, hits] = mean[hits - lo]
        if week < self.ahead.shape[0]:
            self.ahead[week, :, lo:hi] = state
        if lo < self.kept:
            top = min(hi, self.kept)
            self.sample[week, :N_DOMAINS, lo:top] = state[:, : top - lo]
            self.sample[week, N_DOMAINS, lo:top] = mean[: top - lo]


def _holdout_pit(p, answers, correct, rng):
    """Randomized probability integral transform of each learner's held-out correct count.

    p: (k, 4, b, draws) P(correct) per future; answers, correct: (b, k, 4). Each future draws
    its own binomial answers, so both parameter and answer noise are in the distribution.
    """
    n = answers.transpose(1, 2, 0)[..., None]  # (k, 4, b, 1)
    simulated = rng.binomial(np.broadcast_to(n, p.shape), p).sum(axis=(0, 1))  # (b, draws)
    pit = _randomized_pit(simulated, correct.sum(axis=(1, 2)), rng)
    return np.where(answers.sum(axis=(1, 2)) > 0, pit, np.nan)


def _randomized_pit(simulated, observed, rng):
    """Where each observed count (b,) falls among its simulated ones (b, draws), ties broken
    uniformly at random."""
    observed = observed[:, None]
    below = (simulated < observed).mean(axis=1)
    equal = (simulated == observed).mean(axis=1)
    return below + rng.random(len(observed)) * equal


def _holdout_items(states, holdout, measurement, draws, rng):
    """Each held-out answer's P(correct) (mean over futures, by its question's curve), and
    each learner's randomized PIT of their held-out correct count (as ``_holdout_pit``).

    states: (k, 4, draws * b) competency per week ahead, domain and future (draw-major)."""
    answers, _, rows = holdout
    b = len(answers)
    future = np.arange(draws)[None, :] * b + rows.learner[:, None]  # (rows, draws)
    c = states[rows.week[:, None], rows.domain[:, None], future]
    p = measurement.p_answer(c, measurement.items.aligned(rows)[:, None])
    simulated = rng.binomial(np.broadcast_to(rows.n[:, None], p.shape), p)
    per_future = np.zeros(b * draws)
    np.add.at(per_future, future.ravel(), simulated.ravel())
    pit = _randomized_pit(per_future.reshape(draws, b).T, np.bincount(rows.learner, rows.k, b), rng)
    return p.mean(axis=1), np.where(np.bincount(rows.learner, rows.n, b) > 0, pit, np.nan)


def _future(block: BlockStart, base: CompetencyModel, horizon: int, effort: float, watch) -> None:
    """Simulate a block's futures for ``horizon`` weeks, ``watch`` seeing every week."""
    hours = block.recent_hours
    b, recent = hours.shape
    # Each future week takes the stimulus of one of the learner's recent weeks, at random.
    # Built week-major, (horizon, draws * b): its transpose is what simulate reads, for free.
    pool = stimulus_from_hours(np.nan_to_num(hours) * effort).ravel()  # (b * recent,)
    latest = np.tile(np.arange(1, b + 1) * recent - 1, block.draws)
    picks = block.picks
    if picks is None or picks.shape[0] < horizon:
        picks = _draw_picks(block, horizon)
    future = pool[latest - picks[:horizon]]
    _, model = model_for(block.theta, base)
    simulate(block.now, future.T, model, observe=watch)


def _fan_part(sample, groups):
    """A block's kept futures, sample (weeks, series, b, FAN_DRAWS), as its part of the fans
    of the groups (b,) it holds: histograms for the quantiles, sums for the means."""
    weeks, k, _, kept = sample.shape
    ids, local = np.unique(groups, return_inverse=True)
    local = local.reshape(-1)
    per_learner = sample.sum(axis=3)  # (weeks, series, b)
    sums = np.stack([per_learner[:, :, local == j].sum(axis=2) for j in range(len(ids))])
    members = np.bincount(local, minlength=len(ids))
    bins = np.minimum((sample * HISTOGRAM_BINS).astype(np.int64), HISTOGRAM_BINS - 1)
    cell = (local[None, None, :, None] * weeks + np.arange(weeks)[:, None, None, None]) * k
    flat = (cell + np.arange(k)[None, :, None, None]) * HISTOGRAM_BINS + bins
    size = len(ids) * weeks * k * HISTOGRAM_BINS
    hist = np.bincount(flat.ravel(), minlength=size).astype(np.int32)
    return ids, hist.reshape(len(ids), weeks, k, HISTOGRAM_BINS), sums, members * kept, members


class _Fans:
    """The groups' fans, added up block by block in block order. A group's histogram is
    turned into quantiles, and dropped, as soon as its last learner's block is in."""

    def __init__(self, groups: np.ndarray, horizon: int):
        n_groups = int(groups.max(initial=-1)) + 1
        k = len(FAN_SERIES)
        self.left = np.bincount(groups, minlength=n_groups)
        self.sums = np.zeros((n_groups, horizon + 1, k))
        self.counts = np.zeros(n_groups, dtype=np.int64)
        self.fan = np.full((n_groups, horizon + 1, k, len(FAN_QUANTILES)), np.nan)
        self.open: dict[int, np.ndarray] = {}

    def add(self, block: _BlockResult) -> None:
        for j, g in enumerate(block.groups.tolist()):
            hist = self.open.get(g)
            if hist is None:
                hist = self.open[g] = np.zeros(block.hist.shape[1:], dtype=np.int64)
            hist += block.hist[j]
            self.sums[g] += block.sums[j]
            self.counts[g] += block.counts[j]
            self.left[g] -= block.members[j]
            if self.left[g] == 0:
                self.fan[g] = _fan_from_histograms(self.open.pop(g)[None])[0]

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        mean = self.sums / np.maximum(self.counts, 1)[:, None, None]
        mean[self.counts == 0] = np.nan
        return self.fan, mean


def _fan_from_histograms(hist: np.ndarray) -> np.ndarray:
    """Quantiles by linear interpolation inside the histogram's bins; NaN where empty."""
    counts = hist.sum(axis=-1)
    cdf = np.cumsum(hist, axis=-1) / np.maximum(counts, 1)[..., None]
    fan = np.empty((*hist.shape[:-1], len(FAN_QUANTILES)))
    for i, q in enumerate(FAN_QUANTILES):
        idx = (cdf < q).sum(axis=-1).clip(0, HISTOGRAM_BINS - 1)
        below = np.where(idx > 0, np.take_along_axis(cdf, (idx - 1)[..., None], -1)[..., 0], 0.0)
        at = np.take_along_axis(cdf, idx[..., None], -1)[..., 0]
        within = np.where(at > below, (q - below) / np.maximum(at - below, 1e-12), 0.0)
        fan[..., i] = (idx + within) / HISTOGRAM_BINS
    fan[counts == 0] = np.nan
    return fan
