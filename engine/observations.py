"""What the engine learns from: per learner, week and domain, answers and study effort.

The rows of dbt's ``marts.learner_domain_weekly`` become dense arrays on a grid of consecutive
weeks. Each learner's series is left-aligned: index 0 is the learner's first active week, so a
learner's own weeks are ``0 .. n_weeks[i] - 1`` and everything after is padding (no answers,
no hours). ``first_week[i]`` maps a learner's index back to the shared calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.model import DOMAINS, N_DOMAINS

# Seed 004's predict_time_to_mastery: study saturates at 10 hours a week, and an average
# stimulus quality of 0.85. Stimulus S = quality * min(hours / 10, 1).
FULL_EFFORT_HOURS = 10.0
STIMULUS_QUALITY = 0.85


def stimulus_from_hours(hours: np.ndarray, quality: float = STIMULUS_QUALITY) -> np.ndarray:
    """Weekly stimulus in [0, 1] from weekly study hours (any shape)."""
    return quality * np.minimum(np.maximum(hours, 0.0) / FULL_EFFORT_HOURS, 1.0)


@dataclass(frozen=True)
class Observations:
    """Dense, left-aligned observations of n learners over at most ``weeks`` weeks.

    learner_ids: (n,); week_starts: (weeks,) datetime64[D] Mondays of the shared calendar;
    first_week: (n,) calendar index of each learner's first active week; n_weeks: (n,) weeks
    observed per learner (>= 1); n_answers, n_correct: (n, weeks, 4) int; hours: (n, weeks).
    """

    learner_ids: np.ndarray
    week_starts: np.ndarray
    first_week: np.ndarray
    n_weeks: np.ndarray
    n_answers: np.ndarray
    n_correct: np.ndarray
    hours: np.ndarray
    items: ItemAnswers | None = None

    @property
    def n(self) -> int:
        return len(self.learner_ids)

    @property
    def as_of(self) -> np.datetime64:
        """The Monday after the last observed week: the first day the forecast is about."""
        return self.week_starts[-1] + np.timedelta64(7, "D")

    def stimulus(self) -> np.ndarray:
        """(n, weeks) stimulus of each observed week (0 in the padding)."""
        return stimulus_from_hours(self.hours)

    def recent_hours(self, weeks: int) -> np.ndarray:
        """(n, weeks) hours of each learner's last ``weeks`` observed weeks (NaN if fewer)."""
        idx = self.n_weeks[:, None] - weeks + np.arange(weeks)[None, :]
        got = np.take_along_axis(self.hours, np.clip(idx, 0, None), axis=1)
        return np.where(idx >= 0, got, np.nan)

    def subset(self, keep: np.ndarray) -> Observations:
        """Only the learners where ``keep`` (n,) is true, same calendar."""
        return Observations(
            self.learner_ids[keep],
            self.week_starts,
            self.first_week[keep],
            self.n_weeks[keep],
            self.n_answers[keep],
            self.n_correct[keep],
            self.hours[keep],
            None if self.items is None else self.items.subset(keep),
        )

    def cut(self, weeks_before_end: int) -> Observations:
        """The same learners as they were ``weeks_before_end`` weeks earlier.

        Learners who had not started by then are dropped.
        """
        end = len(self.week_starts) - weeks_before_end
        if end < 1:
            raise ValueError(f"cannot cut {weeks_before_end} weeks from {len(self.week_starts)}")
        n_weeks = np.minimum(self.n_weeks, end - self.first_week)
        keep = n_weeks >= 1
        width = int(n_weeks[keep].max(initial=1))
        mask = np.arange(width)[None, :] < n_weeks[keep][:, None]
        return Observations(
            learner_ids=self.learner_ids[keep],
            week_starts=self.week_starts[:end],
            first_week=self.first_week[keep],
            n_weeks=n_weeks[keep],
            n_answers=np.where(mask[..., None], self.n_answers[keep, :width], 0),
            n_correct=np.where(mask[..., None], self.n_correct[keep, :width], 0),
            hours=np.where(mask, self.hours[keep, :width], 0.0),
            items=None if self.items is None else self.items.subset(keep, n_weeks[keep]),
        )

    def with_items(self, items: ItemAnswers) -> Observations:
        """The same observations, with their answers question by question."""
        return replace(self, items=items)


@dataclass(frozen=True)
class ItemAnswers:
    """The answers question by question: one row per learner, week, question (flat arrays,
    sorted by learner), so that each question's own difficulty, discrimination and guessing can
    enter the fit (engine/items.py).

    learner: row of the learner in the observations; week: index into the learner's own
    (left-aligned) weeks; domain: index into DOMAINS; item: index into ``item_ids``; n, k:
    answers and correct answers. item_kind: (items,) the kind of each question (its labelled
    level and type): questions of one kind share a prior.
    """

    learner: np.ndarray
    week: np.ndarray
    domain: np.ndarray
    item: np.ndarray
    n: np.ndarray
    k: np.ndarray
    item_ids: np.ndarray
    item_kind: np.ndarray

    def rows(self, keep: np.ndarray) -> ItemAnswers:
        """Only the rows where ``keep`` (rows,) is true."""
        return ItemAnswers(
            self.learner[keep],
            self.week[keep],
            self.domain[keep],
            self.item[keep],
            self.n[keep],
            self.k[keep],
            self.item_ids,
            self.item_kind,
        )

    def subset(self, keep: np.ndarray, n_weeks: np.ndarray | None = None) -> ItemAnswers:
        """The rows of the learners where ``keep`` (n,) is true, renumbered; with ``n_weeks``
        (one per learner kept), only the weeks before each learner's n_weeks."""
        new_row = np.cumsum(keep) - 1
        rows = keep[self.learner]
        out = self.rows(rows)
        out = replace(out, learner=new_row[out.learner])
        if n_weeks is not None:
            out = out.rows(out.week < n_weeks[out.learner])
        return out

    def positions(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the learners ``rows`` (any order) have their rows, learner by learner, and the
        position in ``rows`` of each."""
        lo = np.searchsorted(self.learner, rows)
        hi = np.searchsorted(self.learner, rows, side="right")
        counts = hi - lo
        take = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        return take, np.repeat(np.arange(len(rows)), counts)

    def of_learners(self, rows: np.ndarray) -> ItemAnswers:
        """The rows of the learners ``rows``, renumbered 0 .. len(rows) - 1 in that order."""
        take, learner = self.positions(rows)
        return replace(self.rows(take), learner=learner)


def items_from_rows(
    obs: Observations,
    learner_id: np.ndarray,
    week_start: np.ndarray,
    domain: np.ndarray,
    question_id: np.ndarray,
    item_kind: np.ndarray,
    n_answers: np.ndarray,
    n_correct: np.ndarray,
) -> ItemAnswers:
    """Question-level rows (one per learner, week and question) on the grid of ``obs``; rows
    of learners or weeks that ``obs`` does not hold are left out."""
    weeks = np.asarray(week_start).astype("datetime64[D]")
    idx = np.searchsorted(obs.learner_ids, learner_id)
    idx = np.minimum(idx, obs.n - 1)
    known = obs.learner_ids[idx] == learner_id
    calendar = ((weeks - obs.week_starts[0]) // np.timedelta64(7, "D")).astype(np.int64)
    rel = calendar - obs.first_week[idx]
    known &= (rel >= 0) & (rel < obs.n_weeks[idx])
    question_id, item_kind = np.asarray(question_id), np.asarray(item_kind)
    ids, first, item = np.unique(question_id, return_index=True, return_inverse=True)
    domain = np.asarray(domain).astype(str)
    domain_idx = _DOMAIN_ORDER[np.searchsorted(np.array(DOMAINS)[_DOMAIN_ORDER], domain)]
    order = np.lexsort((item, rel, idx))
    order = order[known[order]]
    return ItemAnswers(
        learner=idx[order],
        week=rel[order],
        domain=domain_idx[order],
        item=item.reshape(-1)[order],
        n=np.asarray(n_answers, dtype=np.int64)[order],
        k=np.asarray(n_correct, dtype=np.int64)[order],
        item_ids=ids,
        item_kind=item_kind[first],
    )


def from_weekly_rows(
    learner_id: np.ndarray,
    week_start: np.ndarray,
    domain: np.ndarray,
    n_answers: np.ndarray,
    n_correct: np.ndarray,
    study_minutes: np.ndarray,
    last_week: np.datetime64 | None = None,
) -> Observations:
    """Build observations from long rows (one per learner, week and domain).

    Weeks after ``last_week`` (a Monday; default the latest present) are left out, so a
    partial current week does not read as a week of low effort.
    """
    weeks = np.asarray(week_start).astype("datetime64[D]")
    if last_week is not None:
        keep = weeks <= np.datetime64(last_week, "D")
        learner_id, weeks, domain = learner_id[keep], weeks[keep], domain[keep]
        n_answers, n_correct, study_minutes = n_answers[keep], n_correct[keep], study_minutes[keep]
    if len(weeks) == 0:
        raise ValueError("no weekly observations to learn from")
    first, last = weeks.min(), weeks.max()
    calendar = np.arange(first, last + np.timedelta64(7, "D"), np.timedelta64(7, "D"))
    week_idx = ((weeks - first) // np.timedelta64(7, "D")).astype(np.int64)
    ids, learner_idx = np.unique(np.asarray(learner_id), return_inverse=True)
    domain = np.asarray(domain).astype(str)
    unknown = sorted(set(np.unique(domain)) - set(DOMAINS))
    if unknown:
        raise ValueError(f"unknown competency domains {unknown}; expected {list(DOMAINS)}")
    domain_idx = _DOMAIN_ORDER[np.searchsorted(np.array(DOMAINS)[_DOMAIN_ORDER], domain)]
    n = len(ids)
    first_week = np.full(n, len(calendar), dtype=np.int64)
    np.minimum.at(first_week, learner_idx, week_idx)
    rel = week_idx - first_week[learner_idx]
    width = len(calendar) - int(first_week.min())
    answers = np.zeros((n, width, N_DOMAINS), dtype=np.int64)
    correct = np.zeros((n, width, N_DOMAINS), dtype=np.int64)
    minutes = np.zeros((n, width))
    np.add.at(answers, (learner_idx, rel, domain_idx), np.asarray(n_answers, dtype=np.int64))
    np.add.at(correct, (learner_idx, rel, domain_idx), np.asarray(n_correct, dtype=np.int64))
    # Study minutes repeat on each domain's row of a week; take them once.
    minutes[learner_idx, rel] = np.asarray(study_minutes, dtype=float)
    return Observations(
        learner_ids=ids,
        week_starts=calendar,
        first_week=first_week,
        n_weeks=len(calendar) - first_week,
        n_answers=answers,
        n_correct=correct,
        hours=minutes / 60.0,
    )


_DOMAIN_ORDER = np.argsort(np.array(DOMAINS))
