"""Disengagement risk: will a learner's activity stop within the next 8 weeks?

A learner *disengages* when 28 days or more pass without activity (a statement, a mission
attempt or an assessment attempt). From each learner's daily activity up to the as-of date this
module builds features at weekly landmarks (the as-of date, and every 7 days before it), fits a
discrete-time hazard model on the learner-weeks whose outcome is known, and turns the weekly
hazards into ``p_disengage_8w``: the probability that a 28-day quiet spell starts within the 8
weeks after the landmark.

The hazard model is a logistic regression (scikit-learn) on person-periods: one row per
landmark and week ahead j = 1..8 while the learner has not yet stopped, with the landmark's
features and the week ahead as covariates. Only rows whose outcome the data already shows are
used (the week and the 27 days after it), so no outside history is needed and nothing is peeked
at. Everything is arrays over all learners at once: no Python loop over learners.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from engine.blocks import Runner, runner_or_default

QUIET_DAYS = 28  # days without activity that make a disengagement
HORIZON_WEEKS = 8  # p_disengage_8w: a quiet spell starting within this many weeks
CONFIRM_DAYS = QUIET_DAYS - 1  # days after a spell's first day that confirm it

FEATURES = (
    "hours_last_2w",  # mean weekly study hours over the last 2 weeks
    "hours_weeks_3_6",  # mean weekly study hours over the 4 weeks before those
    "hours_trend",  # log(1 + last 2 weeks) - log(1 + weeks 3-6): below 0 when fading
    "active_days_last_2w",
    "active_days_weeks_3_6",
    "days_since_active",  # log(1 + days) in the model
    "longest_gap_8w",  # the longest run of days without activity in the last 8 weeks
    "idle_weeks_12w",  # of the last 12 weeks (7-day blocks back from the landmark), those idle
    "failed_attempts_4w",  # failed mission and assessment attempts decided in 4 weeks
    "retries_4w",  # attempts numbered 2 or more started in 4 weeks
    "passed_attempts_4w",
    "tenure_weeks",  # weeks since the learner's first activity
    "missions_passed",  # distinct missions passed so far
    "tier_reached",  # 0 beginner .. 3 mastery, the highest tier attempted
    "assessment_score",  # mean percentage (0-1) of graded assessment attempts so far
    "weeks_to_target",  # weeks until the cohort's target date (clipped to [-8, 52])
)
LOGGED = {
    "hours_last_2w",
    "hours_weeks_3_6",
    "days_since_active",
    "longest_gap_8w",
    "tenure_weeks",
    "missions_passed",
}


@dataclass(frozen=True)
class DailyActivity:
    """Per learner (n) and day (T, the last one the as-of date) of the warehouse's history."""

    learner_ids: np.ndarray  # (n,)
    first_day: np.datetime64  # the calendar day of column 0
    active: np.ndarray  # (n, T) bool: any statement or attempt that day
    study_minutes: np.ndarray  # (n, T) float
    failed: np.ndarray  # (n, T) int: attempts decided as failed that day
    passed: np.ndarray  # (n, T) int: attempts decided as passed that day
    retries: np.ndarray  # (n, T) int: attempts numbered 2 or more started that day
    missions_passed: np.ndarray  # (n, T) int: missions passed for the first time that day
    tier: np.ndarray  # (n, T) int: highest tier (0-3) of a mission attempted that day, -1 none
    score_sum: np.ndarray  # (n, T) float: sum of graded assessment percentages (0-1)
    score_n: np.ndarray  # (n, T) int: graded assessment attempts
    target_day: np.ndarray  # (n,) int: day index of the cohort's target date (huge when none)

    @property
    def n_days(self) -> int:
        return self.active.shape[1]

    def day(self, index: int) -> np.datetime64:
        return self.first_day + np.timedelta64(int(index), "D")


def _cumulative(x: np.ndarray) -> np.ndarray:
    """(n, T + 1): C[:, i] is the sum over days before i."""
    out = np.zeros((x.shape[0], x.shape[1] + 1), dtype=float)
    np.cumsum(x, axis=1, out=out[:, 1:])
    return out


def _window(c: np.ndarray, end: np.ndarray | int, days: int) -> np.ndarray:
    """Sums over the ``days`` days ending on day ``end`` (inclusive), clipped at day 0."""
    end = np.asarray(end)
    hi = end + 1
    lo = np.maximum(hi - days, 0)
    rows = np.arange(c.shape[0])
    return c[rows, hi] - c[rows, lo] if end.ndim else c[:, hi] - c[:, lo]


class _Prepared:
    """Cumulative sums and run lengths computed once, read at any landmark."""

    def __init__(self, d: DailyActivity):
        self.d = d
        act = d.active
        n, t = act.shape
        self.c_active = _cumulative(act)
        self.c_minutes = _cumulative(d.study_minutes)
        self.c_failed = _cumulative(d.failed)
        self.c_passed = _cumulative(d.passed)
        self.c_retries = _cumulative(d.retries)
        self.c_missions = _cumulative(d.missions_passed)
        self.c_score = _cumulative(d.score_sum)
        self.c_score_n = _cumulative(d.score_n)
        days = np.arange(t)
        # Day of the latest activity on or before each day (-1 before the first).
        last = np.where(act, days[None, :], -1)
        self.last_active = np.maximum.accumulate(last, axis=1)
        first = np.where(act.any(axis=1), act.argmax(axis=1), t)
        self.first_active = first
        # Days since the latest activity, on each day (large before the first).
        self.since = np.where(self.last_active >= 0, days[None, :] - self.last_active, 10_000)
        self.tier_reached = np.maximum.accumulate(d.tier, axis=1)
        # quiet[i, s]: no activity on days s .. s + 27 (known only when s + 27 <= T - 1).
        known = max(t - CONFIRM_DAYS, 0)  # spell starts 0 .. known - 1 can be confirmed
        counts = self.c_active[:, QUIET_DAYS : QUIET_DAYS + known] - self.c_active[:, :known]
        self.quiet = np.zeros((n, t), bool)
        self.quiet[:, :known] = counts == 0
        self.known_through = known - 1  # the last spell start whose outcome is known

    def features(self, landmark: int) -> np.ndarray:
        """(n, len(FEATURES)) at the end of day ``landmark``, from that day and before only."""
        L = landmark
        week = 7
        h2 = _window(self.c_minutes, L, 2 * week) / 60 / 2
        h36 = (_window(self.c_minutes, L, 6 * week) / 60 - 2 * h2) / 4
        d2 = _window(self.c_active, L, 2 * week)
        d36 = _window(self.c_active, L, 6 * week) - d2
        since = self.since[:, L].astype(float)
        lo = max(L - 8 * week + 1, 0)
        gap = self.since[:, lo : L + 1].max(axis=1).astype(float)
        gap = np.minimum(gap, np.minimum(8 * week, L + 1))
        # Whole 7-day blocks without activity among the last 12, counted from the first one.
        ends = [L - 7 * b for b in range(12) if L - 7 * b >= 0]
        blocks = np.stack([_window(self.c_active, end, 7) for end in ends], axis=1)
        begun = np.stack([self.first_active <= end for end in ends], axis=1)
        idle = ((blocks == 0) & begun).sum(axis=1)
        fails = _window(self.c_failed, L, 4 * week)
        retries = _window(self.c_retries, L, 4 * week)
        passes = _window(self.c_passed, L, 4 * week)
        tenure = np.maximum(L - self.first_active, 0) / 7
        missions = self.c_missions[:, L + 1]
        tier = np.maximum(self.tier_reached[:, L], 0)
        score_n = self.c_score_n[:, L + 1]
        score = np.where(score_n > 0, self.c_score[:, L + 1] / np.maximum(score_n, 1), 0.5)
        to_target = np.clip((self.d.target_day - L) / 7, -8, 52)
        return np.column_stack(
            [
                h2,
                h36,
                np.log1p(h2) - np.log1p(np.maximum(h36, 0)),
                d2,
                d36,
                since,
                gap,
                idle,
                fails,
                retries,
                passes,
                tenure,
                missions,
                tier,
                score,
                to_target,
            ]
        )

    def engaged(self, landmark: int) -> np.ndarray:
        """Learners who have started and were active in the 28 days up to the landmark."""
        return (self.first_active <= landmark) & (self.since[:, landmark] < QUIET_DAYS)

    def first_stop_week(self, landmark: int) -> tuple[np.ndarray, np.ndarray]:
        """Per learner: the week ahead (1..8) in which the first quiet spell after the landmark
        starts (0: none within 8 weeks), and how many weeks ahead are known."""
        n, t = self.d.active.shape
        starts = np.arange(landmark + 1, landmark + 1 + 7 * HORIZON_WEEKS)
        inside = starts[starts < t]
        quiet = np.zeros((n, len(starts)), bool)
        quiet[:, : len(inside)] = self.quiet[:, inside]
        first = np.where(quiet.any(axis=1), quiet.argmax(axis=1), -1)
        week = np.where(first >= 0, first // 7 + 1, 0)
        known_weeks = int(np.clip((self.known_through - landmark) // 7, 0, HORIZON_WEEKS))
        return week, np.full(n, known_weeks)


def _design(x: np.ndarray) -> np.ndarray:
    """Model inputs from raw features: logs where a count is long-tailed."""
    x = x.copy()
    for i, name in enumerate(FEATURES):
        if name in LOGGED:
            x[:, i] = np.log1p(np.maximum(x[:, i], 0))
    return x


def _person_periods(
    p: _Prepared, landmarks: list[int]
) -> tuple[dict[tuple[int, int], tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Every known learner-week-ahead of these learners, by (landmark's position, week ahead
    j = 1..8): (design) features at the landmark and whether the first stop started in week
    j, learners in order; and which learners were engaged at some landmark."""
    periods = {}
    seen = np.zeros(p.d.active.shape[0], bool)
    for i, landmark in enumerate(landmarks):
        engaged = p.engaged(landmark)
        seen |= engaged
        if not engaged.any():
            continue
        x = _design(p.features(landmark))[engaged]
        week, known = p.first_stop_week(landmark)
        week, known = week[engaged], known[engaged]
        for j in range(1, HORIZON_WEEKS + 1):
            # Only weeks whose every day could start a confirmed stop: an event seen early in
            # a half-known week, without the non-events beside it, would bias the hazard up.
            observed = ((week == 0) | (week >= j)) & (j <= known)
            if observed.any():
                periods[i, j] = x[observed], (week[observed] == j).astype(int)
    return periods, seen


def _periods_task(d: DailyActivity, landmarks: list[int]):
    """A block of learners' person-periods (a task), and how many were ever engaged."""
    periods, seen = _person_periods(_Prepared(d), landmarks)
    return periods, int(seen.sum())


def _stack(parts: list[dict], landmarks: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The blocks' person-periods as one design, ordered by landmark, week ahead, learner:
    the same rows in the same order as from all learners at once."""
    xs, js, ys = [], [], []
    for i in range(len(landmarks)):
        for j in range(1, HORIZON_WEEKS + 1):
            for part in parts:
                if (i, j) in part:
                    x, y = part[i, j]
                    xs.append(x)
                    js.append(np.full(len(y), j))
                    ys.append(y)
    if not xs:
        return np.empty((0, len(FEATURES))), np.empty(0, int), np.empty(0, int)
    return np.vstack(xs), np.concatenate(js), np.concatenate(ys)


def _lateness(j: np.ndarray) -> np.ndarray:
    """0 for the first week ahead, 1 for the last: how far the features' pull has faded."""
    return (np.asarray(j) - 1) / (HORIZON_WEEKS - 1)


@dataclass(frozen=True)
class HazardModel:
    """A fitted weekly hazard. For the week ahead j, with z = (x - mean) / scale:
    logit h_j = intercept + week_effects[j] + z . (coef + lateness_j * coef_late),
    lateness_j = (j - 1) / 7: a feature's pull may fade (or grow) over the 8 weeks, which is
    what keeps the compounded 8-week probability calibrated for the riskiest learners."""

    as_of: np.datetime64
    intercept: float
    week_effects: np.ndarray  # (8,) added to the intercept for the week ahead (week 1: 0)
    coef: np.ndarray  # (features,) per standard deviation, in the first week ahead
    coef_late: np.ndarray  # (features,) the change of coef by the eighth week ahead
    mean: np.ndarray
    scale: np.ndarray
    n_rows: int
    n_events: int
    n_learners: int
    trained_through: np.datetime64 | None  # latest landmark with a known week ahead

    def hazards(self, x_design: np.ndarray) -> np.ndarray:
        """(n, 8) weekly hazards given the landmark's (design) features."""
        z = (x_design - self.mean) / self.scale
        late = _lateness(np.arange(1, HORIZON_WEEKS + 1))
        logit = (
            self.intercept
            + self.week_effects[None, :]
            + _dot(z, self.coef)[:, None]
            + _dot(z, self.coef_late)[:, None] * late[None, :]
        )
        return 1 / (1 + np.exp(-logit))

    def p_disengage(self, x_design: np.ndarray) -> np.ndarray:
        return 1 - np.prod(1 - self.hazards(x_design), axis=1)

    def contributions(self, x_design: np.ndarray) -> np.ndarray:
        """(n, features): each feature's push on the first week's logit against the average
        learner."""
        return (x_design - self.mean) / self.scale * self.coef


def _dot(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x (n, k) @ w (k,), row by row in one fixed order: a BLAS product may round a row
    differently with the number of rows or threads, and scores must not depend on either."""
    return np.einsum("nk,k->n", x, w)


def training_landmarks(p: _Prepared, through: int) -> list[int]:
    """Weekly landmarks ending at ``through`` going back, whose first week ahead is known."""
    return _landmarks(p.known_through, through)


def _known_through(n_days: int) -> int:
    """The last day a quiet spell can start and be confirmed by the data (see _Prepared)."""
    return max(n_days - CONFIRM_DAYS, 0) - 1


def _landmarks(known_through: int, through: int) -> list[int]:
    last = min(through, known_through - 7)
    if last < 0:
        return []
    # Aligned with the scoring landmark: the same weekday as ``through``.
    last -= (last - through) % 7
    return list(range(last, -1, -7))


def fit(
    d: DailyActivity, through: int | None = None, c: float = 1.0, runner: Runner | None = None
) -> HazardModel | None:
    """Fit on the learner-weeks known by day ``through`` (default: the last day). None when
    the history shows no stop yet, or only stops: there is nothing to learn from.

    The person-periods are built per block of learners, the blocks being tasks of ``runner``
    (default: here); the fit itself runs here, on the rows in the order of one whole pass."""
    through = d.n_days - 1 if through is None else through
    sub = _truncate(d, through)
    landmarks = _landmarks(_known_through(sub.n_days), through)
    tasks = ((_rows(sub, rows), landmarks) for rows in _blocks(len(sub.learner_ids)))
    results = list(runner_or_default(runner).map(_periods_task, tasks, name="disengagement-fit"))
    x, j, y = _stack([periods for periods, _ in results], landmarks)
    if len(y) == 0 or y.min() == y.max():
        return None
    k = len(FEATURES)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    onehot = np.eye(HORIZON_WEEKS)[j - 1]
    design = np.hstack([z, onehot[:, 1:], z * _lateness(j)[:, None]])
    model = LogisticRegression(C=c, max_iter=3000)
    model.fit(design, y)
    coef = model.coef_[0]
    week = np.concatenate([[0.0], coef[k : k + HORIZON_WEEKS - 1]])
    return HazardModel(
        as_of=sub.day(through),
        intercept=float(model.intercept_[0]),
        week_effects=week,
        coef=coef[:k],
        coef_late=coef[k + HORIZON_WEEKS - 1 :],
        mean=mean,
        scale=scale,
        n_rows=len(y),
        n_events=int(y.sum()),
        n_learners=sum(seen for _, seen in results),
        trained_through=sub.day(landmarks[0]) if landmarks else None,
    )


BLOCK_LEARNERS = 4096  # learners per task: their (learners, days) arrays stay small


def _blocks(n: int) -> list[slice]:
    size = BLOCK_LEARNERS
    return [slice(lo, min(lo + size, n)) for lo in range(0, n, size)] or [slice(0, 0)]


def _rows(d: DailyActivity, rows: slice) -> DailyActivity:
    """These learners' history only."""
    return DailyActivity(
        learner_ids=d.learner_ids[rows],
        first_day=d.first_day,
        active=d.active[rows],
        study_minutes=d.study_minutes[rows],
        failed=d.failed[rows],
        passed=d.passed[rows],
        retries=d.retries[rows],
        missions_passed=d.missions_passed[rows],
        tier=d.tier[rows],
        score_sum=d.score_sum[rows],
        score_n=d.score_n[rows],
        target_day=d.target_day[rows],
    )


def _truncate(d: DailyActivity, through: int) -> DailyActivity:
    """The history as it was known at the end of day ``through``."""
    cut = slice(0, through + 1)
    return DailyActivity(
        learner_ids=d.learner_ids,
        first_day=d.first_day,
        active=d.active[:, cut],
        study_minutes=d.study_minutes[:, cut],
        failed=d.failed[:, cut],
        passed=d.passed[:, cut],
        retries=d.retries[:, cut],
        missions_passed=d.missions_passed[:, cut],
        tier=d.tier[:, cut],
        score_sum=d.score_sum[:, cut],
        score_n=d.score_n[:, cut],
        target_day=d.target_day,
    )


@dataclass(frozen=True)
class RiskScores:
    """Per learner at a landmark: status, p_disengage_8w, raw features, contributions."""

    learner_ids: np.ndarray
    status: np.ndarray  # active | disengaged | not_started
    p_disengage_8w: np.ndarray  # NaN for the disengaged (they have already stopped)
    features: np.ndarray  # (n, features), raw (hours, days, counts)
    contributions: np.ndarray  # (n, features), logit pushes; 0 where no model
    days_since_active: np.ndarray


def score(
    d: DailyActivity, model: HazardModel | None, landmark: int, runner: Runner | None = None
) -> RiskScores:
    """Scores at day ``landmark``. The model scores the active; the disengaged have already
    stopped and a learner who has not started has no history: both get NaN here (the marts
    give a newcomer the cohort's mean, pipelines' learner_readiness). Blocks of learners are
    tasks of ``runner`` (default: here)."""
    tasks = ((_rows(d, rows), model, landmark) for rows in _blocks(len(d.learner_ids)))
    parts = list(runner_or_default(runner).map(_score_task, tasks, name="disengagement-score"))
    status, prob, raw, contrib, since = (np.concatenate(p) for p in zip(*parts, strict=True))
    return RiskScores(d.learner_ids, status, prob, raw, contrib, since)


def _score_task(d: DailyActivity, model: HazardModel | None, landmark: int):
    """One block's scores (a task): status, probability, features, contributions, days."""
    p = _Prepared(_truncate(d, landmark))
    raw = p.features(landmark)
    engaged = p.engaged(landmark)
    started = p.first_active <= landmark
    status = np.where(~started, "not_started", np.where(engaged, "active", "disengaged"))
    x = _design(raw)
    if model is not None:
        prob = np.where(engaged, model.p_disengage(x), np.nan)
        contrib = np.where(engaged[:, None], model.contributions(x), 0.0)
    else:
        prob = np.full(len(raw), np.nan)
        contrib = np.zeros_like(raw)
    return status, prob, raw, contrib, p.since[:, landmark]


def outcome(d: DailyActivity, landmark: int) -> tuple[np.ndarray, bool]:
    """Per learner: did a quiet spell start within 8 weeks after the landmark; and whether the
    data shows all 8 weeks and the 27 days that confirm a spell starting in the last of them."""
    p = _Prepared(d)
    week, known = p.first_stop_week(landmark)
    return week > 0, bool(known[0] >= HORIZON_WEEKS) if len(known) else False


@dataclass(frozen=True)
class MethodScore:
    method: str
    n_scored: int
    base_rate: float
    auc: float | None
    brier: float | None
    brier_base_rate: float
    flagged_share: float
    precision: float | None
    recall: float | None
    lift: float | None
    deciles: list[tuple[int, int, float, float]]  # (decile, n, mean predicted, observed)


def flag_top(scores: np.ndarray, threshold: float, capacity: float) -> np.ndarray:
    """At or above ``threshold``, and at most the top ``capacity`` share by score."""
    n = len(scores)
    flagged = scores >= threshold
    limit = int(np.floor(capacity * n))
    if flagged.sum() > limit:
        order = np.argsort(-scores, kind="stable")
        keep = np.zeros(n, bool)
        keep[order[:limit]] = True
        flagged &= keep
    return flagged


def score_method(
    method: str,
    scores: np.ndarray,
    flagged: np.ndarray,
    happened: np.ndarray,
    probabilities: bool,
) -> MethodScore:
    """AUC of the score, Brier and deciles (when it is a probability), and the flag's
    precision, recall and lift over the base rate."""
    n = len(happened)
    base = float(happened.mean()) if n else 0.0
    both = n and 0 < happened.sum() < n
    auc = float(roc_auc_score(happened, scores)) if both else None
    brier = float(np.mean((scores - happened) ** 2)) if probabilities and n else None
    deciles = []
    if probabilities and n >= 10:
        order = np.argsort(scores, kind="stable")
        for i, part in enumerate(np.array_split(order, 10)):
            deciles.append(
                (i + 1, len(part), float(scores[part].mean()), float(happened[part].mean()))
            )
    k = int(flagged.sum())
    precision = float(happened[flagged].mean()) if k else None
    recall = float(happened[flagged].sum() / happened.sum()) if happened.sum() else None
    lift = precision / base if precision is not None and base > 0 else None
    return MethodScore(
        method,
        n,
        base,
        auc,
        brier,
        base * (1 - base),
        k / n if n else 0.0,
        precision,
        recall,
        lift,
        deciles,
    )


@dataclass(frozen=True)
class TriageBacktest:
    cut_date: np.datetime64
    as_of: np.datetime64
    cut_weeks: int
    model: HazardModel | None
    methods: list[MethodScore]


def backtest(
    d: DailyActivity,
    cut_weeks: int,
    threshold: float,
    capacity: float,
    runner: Runner | None = None,
) -> TriageBacktest | None:
    """Fit on what was known ``cut_weeks`` before the last day, score the engaged learners at
    the cut, and compare with what happened next, beside the 7-day-inactivity rule. None when
    the history is shorter than the cut plus the 8 weeks and 27 days an outcome needs. Blocks
    of learners are tasks of ``runner`` (default: here)."""
    last = d.n_days - 1
    cut = last - 7 * cut_weeks
    if cut < 0 or cut + 7 * HORIZON_WEEKS + CONFIRM_DAYS > last:
        return None
    model = fit(d, through=cut, runner=runner)
    if model is None:
        return TriageBacktest(d.day(cut), d.day(last), cut_weeks, model, [])
    tasks = ((_rows(d, rows), model, cut) for rows in _blocks(len(d.learner_ids)))
    parts = list(runner_or_default(runner).map(_held_out_task, tasks, name="disengagement-test"))
    prob, happened, since = (np.concatenate(p) for p in zip(*parts, strict=True))
    if not len(prob):
        return TriageBacktest(d.day(cut), d.day(last), cut_weeks, model, [])
    methods = [
        score_method("hazard model", prob, flag_top(prob, threshold, capacity), happened, True),
        score_method("inactive 7+ days", since, since >= 7, happened, False),
    ]
    return TriageBacktest(d.day(cut), d.day(last), cut_weeks, model, methods)


def _held_out_task(d: DailyActivity, model: HazardModel, cut: int):
    """One block's engaged learners at the cut (a task): their predicted probability, whether
    they stopped within 8 weeks, and their days since activity at the cut."""
    past = _Prepared(_truncate(d, cut))
    engaged = past.engaged(cut)
    prob = model.p_disengage(_design(past.features(cut))[engaged])
    happened, _ = outcome(d, cut)
    return prob, happened[engaged], past.since[engaged, cut].astype(float)
