"""Backtest: forecast from k weeks ago and compare with what happened since.

Each learner's history is cut ``weeks`` before the end; the engine calibrates and forecasts
from the cut, and the forecast is scored against (1) the answers actually given after the cut
and (2), when the generator's ground truth is at hand, the true competency at the end and
whether mastery was reached. Seed 004's own method runs on the same cut for comparison: from
the same current competency and rates, a straight line at its net learning rate, and an
interval of plus or minus 20 % on the time to mastery (so 1/1.2 to 1/0.8 of the gain).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from engine.blocks import Runner
from engine.calibration import Calibration, MeasurementModel, calibrate_with_items
from engine.forecast import DRAWS, forecast
from engine.model import CompetencyModel
from engine.observations import ItemAnswers, Observations, stimulus_from_hours

INTERVAL = (0.10, 0.90)  # the 80 % interval scored
NOMINAL_COVERAGE = INTERVAL[1] - INTERVAL[0]
# Coverage outside this band, beyond sampling noise, is miscalibration.
COVERAGE_BAND = (0.75, 0.85)
COVERAGE_Z = 2.0  # binomial standard errors of sampling noise allowed around the band
SEED_METHOD = "linear, ±20 %"  # what it does, not the document it comes from
SEED_TIME_SPREAD = 0.20  # seed 004: "Confidence interval (±20% based on historical variance)"


@dataclass(frozen=True)
class MethodScores:
    """How one method did. Competency scores are on mean competency at the end (the one
    quantity both methods predict); NaN where the truth is not available."""

    method: str
    n_learners: int
    competency_mae: float
    coverage_80: float
    interval_width: float
    mastery_brier: float
    answer_log_loss: float
    observed_coverage_80: float
    n_scored_truth: int  # learners behind coverage_80 (truth known)
    n_scored_answers: int  # learners behind observed_coverage_80 (with held-out answers)


@dataclass(frozen=True)
class BacktestReport:
    cut_weeks: int
    cut_date: np.datetime64
    end_date: np.datetime64
    truth_available: bool
    engine: MethodScores
    seed_method: MethodScores
    domain_coverage_80: float  # engine, per learner and domain, against the truth

    @property
    def coverage_80(self) -> float:
        """The coverage the asset check holds in `coverage_band`: against the ground truth when
        there is one, else of the held-out answers."""
        return self.engine.coverage_80 if self.truth_available else self.engine.observed_coverage_80

    @property
    def n_coverage_scored(self) -> int:
        """How many learners `coverage_80` was measured on."""
        engine = self.engine
        return engine.n_scored_truth if self.truth_available else engine.n_scored_answers

    def rows(self) -> list[dict]:
        return [asdict(self.engine), asdict(self.seed_method)]


def backtest(
    obs: Observations,
    weeks: int = 8,
    groups: np.ndarray | None = None,
    truth_competency: np.ndarray | None = None,
    truth_mastered: np.ndarray | None = None,
    model: CompetencyModel = CompetencyModel(),
    measurement: MeasurementModel = MeasurementModel(),
    *,
    draws: int = DRAWS,
    seed: int = 0,
    strata: np.ndarray | None = None,
    runner: Runner | None = None,
) -> BacktestReport:
    """Cut ``weeks`` before the end of ``obs`` and score both methods on what followed.

    groups: (n,) as for calibrate; truth_competency: (n, 4) true C at ``obs.as_of`` (NaN rows
    for unknown); truth_mastered: (n,) whether mastery was reached after the cut. strata and
    runner: as for calibrate and forecast (the calibration and forecast from the cut run
    their blocks there).
    """
    cut = obs.cut(weeks)
    kept = np.searchsorted(obs.learner_ids, cut.learner_ids)
    cut_groups = None if groups is None else np.asarray(groups)[kept]
    cut_strata = None if strata is None else np.asarray(strata)[kept]
    cal = calibrate_with_items(
        cut, cut_groups, model, measurement, strata=cut_strata, runner=runner
    )
    rel = cut.n_weeks[:, None] + np.arange(weeks)[None, :]
    inside = rel < obs.n_weeks[kept][:, None]
    rel = np.minimum(rel, obs.n_answers.shape[1] - 1)
    answers = np.where(inside[..., None], obs.n_answers[kept[:, None], rel], 0)
    correct = np.where(inside[..., None], obs.n_correct[kept[:, None], rel], 0)
    held_items = None
    if obs.items is not None and cal.measurement.items is not None:
        held_items = _held_out_items(obs.items.subset(np.isin(np.arange(obs.n), kept)), cut)
    fc = forecast(
        cal,
        cut,
        weeks,
        horizon_weeks=weeks,
        draws=draws,
        seed=seed,
        holdout=(answers, correct),
        holdout_items=held_items,
        strata=cut_strata,
        runner=runner,
    )

    truth_c = None if truth_competency is None else np.asarray(truth_competency)[kept]
    truth_m = None if truth_mastered is None else np.asarray(truth_mastered)[kept]
    known = np.ones(cut.n, bool) if truth_c is None else ~np.isnan(truth_c).any(axis=1)
    lo, mid, hi = (fc.competency_at_target[:, i, 4] for i in range(3))
    seed_mid, seed_lo, seed_hi, seed_mastered, seed_path = _seed_method(cal, cut, weeks)

    def log_loss(p_answers):
        """Per held-out answer: question by question where the questions are known."""
        if held_items is None:
            return _log_loss(p_answers, answers, correct)
        return _log_loss(p_answers, held_items.n, held_items.k)

    def scores(method, mid_, lo_, hi_, p_mastery, p_answers, pit):
        mae = coverage = brier = observed = np.nan
        n_truth = n_answers = 0
        if truth_c is not None:
            truth_mean = truth_c.mean(axis=1)
            mae = _mean(np.abs(mid_ - truth_mean)[known])
            coverage = interval_coverage(truth_mean[known], lo_[known], hi_[known])
            n_truth = int(known.sum())
        if truth_m is not None:
            brier = _mean((p_mastery - truth_m) ** 2)
        if pit is not None:
            scored = pit[~np.isnan(pit)]
            observed = _mean((scored >= INTERVAL[0]) & (scored <= INTERVAL[1]))
            n_answers = int(scored.size)
        return MethodScores(
            method=method,
            n_learners=int(cut.n),
            competency_mae=mae,
            coverage_80=coverage,
            interval_width=_mean(hi_ - lo_),
            mastery_brier=brier,
            answer_log_loss=log_loss(p_answers),
            observed_coverage_80=observed,
            n_scored_truth=n_truth,
            n_scored_answers=n_answers,
        )

    engine = scores(
        "engine (Monte Carlo)",
        mid,
        lo,
        hi,
        fc.p_mastery_by_target,
        fc.p_correct_ahead if held_items is None else fc.p_holdout_items,
        fc.holdout_pit,
    )
    if held_items is None:
        seed_p = np.repeat(cal.measurement.p_correct(seed_path)[:, :, None], 4, axis=2)
    else:
        seed_c = seed_path[held_items.learner, held_items.week]
        seed_p = cal.measurement.p_answer(seed_c, cal.measurement.items.aligned(held_items))
    seed_scores = scores(
        SEED_METHOD,
        seed_mid,
        seed_lo,
        seed_hi,
        seed_mastered.astype(float),
        seed_p,
        None,
    )
    domain_cov = np.nan
    if truth_c is not None:
        d_lo, d_hi = fc.competency_at_target[:, 0, :4], fc.competency_at_target[:, 2, :4]
        domain_cov = _mean(((truth_c >= d_lo) & (truth_c <= d_hi))[known])
    return BacktestReport(
        weeks, cut.as_of, obs.as_of, truth_c is not None, engine, seed_scores, domain_cov
    )


def _held_out_items(items: ItemAnswers, cut: Observations) -> ItemAnswers:
    """The question-level answers after each learner's cut (rows of the cut's learners),
    their weeks counted from the cut."""
    ahead = items.week - cut.n_weeks[items.learner]
    kept = items.rows(ahead >= 0)
    return replace(kept, week=ahead[ahead >= 0])


def interval_coverage(truth: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of ``truth`` inside [lo, hi] (all of shape (n,)); NaN when n is 0."""
    return _mean((truth >= lo) & (truth <= hi))


def coverage_band(
    n_scored: int,
    low: float = COVERAGE_BAND[0],
    high: float = COVERAGE_BAND[1],
    z: float = COVERAGE_Z,
    nominal: float = NOMINAL_COVERAGE,
) -> tuple[float, float]:
    """The coverages of an 80 % interval, measured on ``n_scored`` learners, that do not show
    miscalibration: [low, high] widened by z binomial standard errors at the nominal 0.8. On
    50 learners the standard error is 0.057, so a fixed band fails a sound forecast by chance;
    on 2,000 it is 0.009 and the band closes in on [low, high]."""
    se = float(np.sqrt(nominal * (1 - nominal) / max(n_scored, 1)))
    return low - z * se, high + z * se


def _seed_method(cal: Calibration, cut: Observations, weeks: int):
    """Seed 004's predict_time_to_mastery, given the same state, rates and recent effort."""
    model = cal.model
    mean_now = cal.competency_now.mean(axis=1)
    # The seed takes an average stimulus quality; give it the learner's recent average.
    avg_stimulus = np.nanmean(stimulus_from_hours(cut.recent_hours(8)), axis=1)
    gap = 1.0 - mean_now
    rate = cal.v_max * avg_stimulus * gap / (model.k_m + gap) - cal.decay * mean_now
    ahead = np.arange(weeks)[None, :]
    path = np.clip(mean_now[:, None] + rate[:, None] * ahead, 0, 1)  # mean C at each week start
    gain = rate * weeks
    mid = np.clip(mean_now + gain, 0, 1)
    ends = np.clip(mean_now[:, None] + gain[:, None] * np.array([1 / 1.2, 1 / 0.8]), 0, 1)
    mastered_now = mean_now >= model.mastery_mean
    with np.errstate(divide="ignore", invalid="ignore"):
        to_mastery = np.where(rate > 0, (model.mastery_mean - mean_now) / rate, np.inf)
    mastered = mastered_now | (to_mastery <= weeks)
    return mid, ends.min(axis=1), ends.max(axis=1), mastered, path


def _mean(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=float)
    return float(values.mean()) if values.size else float("nan")


def _log_loss(p: np.ndarray, answers: np.ndarray, correct: np.ndarray) -> float:
    """Mean negative log-likelihood per held-out answer."""
    p = np.clip(p, 1e-9, 1 - 1e-9)
    total = answers.sum()
    if total == 0:
        return float("nan")
    ll = correct * np.log(p) + (answers - correct) * np.log1p(-p)
    return float(-ll.sum() / total)
