"""What weekly study time would lift a learner's chance of mastery by the target to a goal?

The forecast's what-if, per learner: the same futures (parameters drawn from the posterior and
the recent weeks each future week replays: common random numbers) at a ladder of efforts, each
a multiple of the learner's recent weekly hours. The answer is the smallest rung whose chance
reaches the goal, within a weekly limit a working learner can keep; else none, and the chance
at the highest rung tried says how far off it stays.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from engine.blocks import Runner, runner_or_default
from engine.calibration import Calibration
from engine.forecast import DRAWS, HORIZON_WEEKS, SEED, draw_starts, forecast
from engine.observations import Observations

GOAL = 0.5  # the chance of mastery by the target the plan aims for
MULTIPLIERS = (1.25, 1.5, 2.0, 2.5, 3.0, 4.0)  # rungs of the ladder, times recent hours
MAX_WEEKLY_HOURS = 15.0  # more than this is not a plan a working learner keeps
MIN_RECENT_HOURS = 0.5  # below this a multiple of "recent" means nothing
RECENT_WEEKS = 8  # the weeks a future week replays (as the forecast)
CHUNK = 1000  # learners whose starting points are held at once


@dataclass(frozen=True)
class EffortPlan:
    """Per learner asked about: recent hours a week, the chance at that effort, and the
    smallest weekly hours (on the ladder) reaching the goal: NaN when none does."""

    learner_ids: np.ndarray
    recent_hours: np.ndarray
    p_now: np.ndarray
    hours_needed: np.ndarray
    p_at_hours: np.ndarray  # at hours_needed; else at the highest rung within the limit
    best_hours_tried: np.ndarray  # the highest rung within the limit (NaN: none)


def recent_weekly_hours(obs: Observations, weeks: int = RECENT_WEEKS) -> np.ndarray:
    hours = obs.recent_hours(weeks)
    seen = ~np.isnan(hours)
    total = np.where(seen, hours, 0.0).sum(axis=1)
    return np.where(seen.any(axis=1), total / np.maximum(seen.sum(axis=1), 1), 0.0)


def _subset(cal: Calibration, keep: np.ndarray) -> Calibration:
    return dataclasses.replace(
        cal,
        learner_ids=cal.learner_ids[keep],
        theta=cal.theta[keep],
        covariance=cal.covariance[keep],
        prior_mean=cal.prior_mean[keep],
        competency_now=cal.competency_now[keep],
        n_answers=cal.n_answers[keep],
        converged=cal.converged[keep],
    )


def effort_plan(
    cal: Calibration,
    obs: Observations,
    target_week: np.ndarray,
    ask: np.ndarray,
    *,
    goal: float = GOAL,
    multipliers: tuple[float, ...] = MULTIPLIERS,
    max_weekly_hours: float = MAX_WEEKLY_HOURS,
    horizon_weeks: int = HORIZON_WEEKS,
    draws: int = DRAWS,
    seed: int = SEED,
    strata: np.ndarray | None = None,
    runner: Runner | None = None,
) -> EffortPlan:
    """The plan for the learners where ``ask`` (n,) is true (those short of the goal, say).

    Learners go in chunks of CHUNK, each stratum's apart (as the forecast's blocks), each
    chunk a task of ``runner`` (default: here)."""
    runner = runner_or_default(runner)
    index = np.flatnonzero(ask)
    recent = recent_weekly_hours(obs)
    stratum = np.zeros(obs.n, np.int64)
    if strata is not None:
        stratum = np.unique(np.asarray(strata), return_inverse=True)[1].reshape(-1)
    chunks = [
        members[lo : lo + CHUNK]
        for s in np.unique(stratum[index])
        for members in [index[stratum[index] == s]]
        for lo in range(0, len(members), CHUNK)
    ]

    def tasks():
        for rows in chunks:
            keep = np.zeros(obs.n, bool)
            keep[rows] = True
            settings = (goal, multipliers, max_weekly_hours, horizon_weeks, draws, seed)
            yield obs.subset(keep), _subset(cal, keep), target_week[keep], recent[keep], settings

    out = {k: np.full(obs.n, np.nan) for k in ("p_now", "needed", "p_at", "best")}
    for rows, parts in zip(chunks, runner.map(_plan_chunk, tasks(), name="effort"), strict=True):
        for key, values in zip(out, parts, strict=True):
            out[key][rows] = values
    return EffortPlan(
        obs.learner_ids[index],
        recent[index],
        out["p_now"][index],
        out["needed"][index],
        out["p_at"][index],
        out["best"][index],
    )


def _plan_chunk(sub_obs, sub_cal, target, base, settings):
    """One chunk's ladder (a task): the chance now, and at each rung until the goal."""
    goal, multipliers, max_weekly_hours, horizon_weeks, draws, seed = settings
    starts = draw_starts(sub_cal, sub_obs, draws=draws, seed=seed, horizon_weeks=horizon_weeks)

    def chance(effort):
        return forecast(
            sub_cal,
            sub_obs,
            target,
            starts=starts,
            horizon_weeks=horizon_weeks,
            effort_multiplier=effort,
        ).p_mastery_by_target

    p_now = chance(1.0)
    found = np.full(len(base), np.nan)
    found_p = np.full(len(base), np.nan)
    tried, tried_p = np.full(len(base), np.nan), np.full(len(base), np.nan)
    for m in multipliers:
        allowed = (base >= MIN_RECENT_HOURS) & (m * base <= max_weekly_hours)
        open_ = allowed & np.isnan(found)
        if not open_.any():
            continue
        p = chance(m)
        tried = np.where(open_, m * base, tried)
        tried_p = np.where(open_, p, tried_p)
        hit = open_ & (p >= goal)
        found = np.where(hit, m * base, found)
        found_p = np.where(hit, p, found_p)
    return p_now, found, np.where(np.isnan(found), tried_p, found_p), tried
