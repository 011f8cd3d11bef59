"""Week-by-week simulation of a whole program, vectorized over learners.

Each week every learner who has started and not dropped out draws study hours, study days and
sessions; their true competency advances by a week of the program's dynamics (.dynamics:
per-skill practice by default, or seed 004's model); and they watch
videos, finish modules, take assessments and work on missions. Everything a week produces comes
back as columnar event tables (numpy arrays), which :mod:`.render` turns into landing records.

Causality: week ``w`` draws only from its own random stream ``(seed, w)`` and from state left by
earlier weeks, and every event it makes is timestamped at or after the start of week ``w``. So a
longer horizon replays earlier weeks exactly and only appends — the landing files of an earlier
horizon stay byte-identical.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from ..contract import DOMAINS
from .catalog import (
    CAPSTONE_PHASES,
    MAX_SUBTASKS,
    MISSIONS_PER_TIER,
    MODULES_PER_TIER,
    RUBRIC_CATEGORIES,
    TIERS,
    TRACKS,
    VIDEOS_PER_MODULE,
    Catalog,
)
from .dynamics import DEFAULT_DYNAMICS, build_dynamics
from .population import ENGAGEMENT_MEDIAN, Population, uuid_strings

MINUTE = 60_000
HOUR = 3_600_000
DAY = 24 * HOUR
WEEK = 7 * DAY
MAX_HINTS = 6
MAX_TOOLS = 4
PASS_MARK = 70.0  # mentor score needed for approval
STALL_EXIT = 0.45  # weekly chance a stall ends, for a fully engaged learner
FULL_STIMULUS_HOURS = 10.0  # seed 004's hours_per_week at which stimulus saturates
CONTENT_SHARE = 0.45  # share of study time spent on videos and reading

# Mission attempts. Pairs are the (low, high) of a uniform draw.
SECOND_ATTEMPT_HOURS = 9.0  # weekly study hours that fit a second attempt into a week
START_DELAY_MINUTES = (1, 30)  # into the study session
NEED_BASE = 0.06  # competency a mission of true difficulty 0 demands
NEED_PER_DIFFICULTY = 0.15
TIME_SHARE = 0.45  # median share of the time limit an attempt takes
TIME_SHARE_SPREAD = 0.45  # log-normal sigma of that share
SHORTFALL_SLOWDOWN = 1.6  # an under-prepared learner is slower, and misses more deadlines
SHARE_SHAPE = 2.0  # gamma shape of the split over subtasks and phases: uneven, rarely extreme
SUBTASK_MINUTES = (40, 120)  # hands-on work per subtask
SHORTFALL_EFFORT = 2  # an under-prepared learner works longer
MISSED_REACH = (0.2, 1.0)  # share of subtasks reached when the deadline is missed
BASE_SCORE = 0.72  # mentor score (as a fraction) with competency exactly at the demand
# Planted for the tool, stage-time and path marts (truth: missions.parquet, learners.parquet).
KEY_TOOL_USE = (0.30, 0.85)  # chance a failed / passed attempt uses its mission's key tool
HEAVY_STAGE_WEIGHT = 3.0  # a mission's heavy stage takes this many times a stage's share
HEAVY_STAGE_STOP = 0.6  # chance a missed deadline stops at the heavy stage (if reached)
OUT_OF_ORDER_SHARE = 0.15  # learners who do each tier's 2nd and 3rd missions the other way
SCORE_PER_GAP = 1.0
RETRY_BONUS = 0.03  # per earlier attempt: the learner has seen the mission before
SCORE_NOISE = 0.08
MIN_SCORE = 5
REVISE_FLOOR = 55  # below this the mentor fails the work rather than ask for a revision
REVISE_MARGIN = 2  # work just over the pass mark is sometimes sent back too
REVISE_RATE = 0.65
REVISION_GAIN = (4, 14)  # score points
AI_REVIEW_MINUTES = (2, 30)
PICKUP_HOURS = (0.5, 12)  # in the mentor's queue before the review starts
REVIEW_SPREAD = 0.4  # log-normal sigma around the mentor's usual speed
RESUME_HOURS = (2, 36)
REVISION_HOURS = (3, 48)
SECOND_REVIEW_SHARE = (0.3, 0.8)  # of the first review's time: the mentor knows the work
FAILED_REFLECTION = 0.3  # relative chance to reflect after a failure
REFLECTION_HOURS = (1, 72)
PHASES_END = 0.98  # share of the elapsed time: the last capstone phase precedes submission
SUBTASK_SCORE_NOISE = 7
RUBRIC_NOISE = 0.07
HINTS_PER_SUBTASK = 0.25  # at a hint rate of 1
SHORTFALL_HINTS = 4  # an under-prepared learner asks for more hints
EXTRA_TOOL_P = 0.2  # chance of each tool beyond the first
TRACKED_SUBTASKS = 6  # subtask progress reaches telemetry only from missions this long
GIVE_UP_OPTIONAL = 0.5  # chance to move on after failing an optional mission
ASSIGN_AFTER_MS = 1000  # the next assignment sorts after the decision,
TIER_AFTER_MS = 2000  # and a tier change after that

# Engagement and dropout (docs/generator.md, "Engagement and dropout"). Engagement is a number
# around ENGAGEMENT_MEDIAN for a typical keen learner; it falls toward -2 as a learner fades.
REVERSION = 0.4  # weekly share of the gap to the target that engagement closes
FADE_SENSITIVITY = 0.6  # a fading phase starts more easily when engagement is already low
FADE_RECOVERY = 0.04  # weekly chance a fading phase ends
FADE_RELAX = 0.6  # after it ends, the remaining fall of the target shrinks by this factor a week
STALL_SENSITIVITY = 0.8  # a stall starts more easily when engagement is low
STALL_PULL = 0.06  # a week of stall lowers engagement by this much
MISSION_FAILED = -0.15  # a failed mission attempt (also a missed deadline)
MISSION_PASSED = 0.06
ASSESSMENT_FAILED = -0.08
ASSESSMENT_PASSED = 0.02
HOURS_SLOPE = 3.0  # study hours scale with logistic(HOURS_SLOPE * (engagement - HOURS_MID))
HOURS_MID = 0.6
HOURS_CAP = 1.15  # relative to a learner at the median engagement
ATTEND_SHARE = 0.75  # of that fall, the part that comes from skipping whole weeks
HAZARD_MAX = 0.6  # the hazard's rise above the floor, for engagement far below HAZARD_MID
HAZARD_SLOPE = 4.0
HAZARD_MID = -0.8
NEVER = np.iinfo(np.int64).max


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def hours_factor(engagement: np.ndarray) -> np.ndarray:
    """Share of a learner's usual study hours they put in at this engagement."""
    ref = _logistic(HOURS_SLOPE * (ENGAGEMENT_MEDIAN - HOURS_MID))
    return np.minimum(_logistic(HOURS_SLOPE * (engagement - HOURS_MID)) / ref, HOURS_CAP)


def dropout_hazard(engagement: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Weekly chance of deciding to leave for good, given engagement and the learner's floor."""
    return floor + (1 - floor) * HAZARD_MAX * _logistic(HAZARD_SLOPE * (HAZARD_MID - engagement))


@dataclass
class Events:
    """Columnar events of one week, by family. Each family is a list of dicts of equal-length
    arrays (one dict per kind of event), concatenated by the renderer."""

    xapi: list[dict[str, np.ndarray]] = field(default_factory=list)
    assigned: list[dict[str, np.ndarray]] = field(default_factory=list)  # not_started versions
    missions: list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]] = field(
        default_factory=list
    )  # (versions, attempt facts) per batch of attempts
    attempts: list[dict[str, np.ndarray]] = field(default_factory=list)
    answers: list[dict[str, np.ndarray]] = field(default_factory=list)


@dataclass
class _Attempts:
    """One batch of mission attempts (at most one per learner), filled in stage by stage by
    :meth:`ProgramSimulation._missions`. Every array has one entry per attempt."""

    idx: np.ndarray  # learners
    t0: np.ndarray  # start of each attempt
    mission: np.ndarray
    attempt_no: np.ndarray
    progress_id: np.ndarray
    subtasks: np.ndarray
    capstone: np.ndarray
    # _play_subtasks
    gap: np.ndarray = field(init=False)  # competency minus what the mission demands
    shortfall: np.ndarray = field(init=False)
    deadline: np.ndarray = field(init=False)
    missed: np.ndarray = field(init=False)
    elapsed: np.ndarray = field(init=False)
    stage_end: np.ndarray = field(init=False)
    stage_minutes: np.ndarray = field(init=False)
    reached: np.ndarray = field(init=False)
    drop_off: np.ndarray = field(init=False)
    # _mentor_review
    score1: np.ndarray = field(init=False)
    revise: np.ndarray = field(init=False)
    score2: np.ndarray = field(init=False)
    passed: np.ndarray = field(init=False)
    submitted1: np.ndarray = field(init=False)
    ai1: np.ndarray = field(init=False)
    pickup1: np.ndarray = field(init=False)
    reviewed1: np.ndarray = field(init=False)
    resumed: np.ndarray = field(init=False)
    submitted2: np.ndarray = field(init=False)
    ai2: np.ndarray = field(init=False)
    pickup2: np.ndarray = field(init=False)
    reviewed2: np.ndarray = field(init=False)
    final_at: np.ndarray = field(init=False)
    reflects: np.ndarray = field(init=False)
    reflected_at: np.ndarray = field(init=False)
    # _attempt_details
    phase_at: np.ndarray = field(init=False)
    phases_done: np.ndarray = field(init=False)
    sub_noise: np.ndarray = field(init=False)
    rub_noise: np.ndarray = field(init=False)
    n_hints: np.ndarray = field(init=False)
    hint_stage: np.ndarray = field(init=False)
    n_tools: np.ndarray = field(init=False)
    tool_rank: np.ndarray = field(init=False)


def _xapi(ts, learner, verb, kind, obj, **optional) -> dict[str, np.ndarray]:
    n = len(ts)
    row = {
        "ts": np.asarray(ts, dtype=np.int64),
        "learner": np.asarray(learner, dtype=np.int32),
        "verb": np.broadcast_to(np.asarray(verb, dtype=object), (n,)).copy(),
        "kind": np.full(n, kind, dtype=object),
        "object": np.asarray(obj, dtype=object),
    }
    for key, value in optional.items():
        row[key] = np.broadcast_to(np.asarray(value), (n,)).copy()
    return row


class ProgramSimulation:
    """Holds learner state between weeks; :meth:`run_week` advances everyone by one week."""

    def __init__(
        self,
        seed: int,
        program_start: dt.date,
        catalog: Catalog,
        pop: Population,
        dynamics: str = DEFAULT_DYNAMICS,
    ):
        self.seed = seed
        self.catalog = catalog
        self.pop = pop
        self.program_start_ms = int(
            dt.datetime.combine(program_start, dt.time(), tzinfo=dt.UTC).timestamp() * 1000
        )
        n = len(pop.track)
        self.n = n
        self.competency = pop.initial.copy()
        self.dynamics = build_dynamics(dynamics, seed, pop)
        self.dropped = np.zeros(n, bool)
        self.dropout_week = np.full(n, -1, np.int32)
        self.quitting = np.zeros(n, bool)  # decided to leave; gone once nothing is pending
        self.engagement = pop.engagement_baseline.copy()
        self.fading = np.zeros(n, bool)
        self.fade_depth = np.zeros(n)  # how far the fading phase has lowered the target
        self.hazard = np.zeros(n)  # of deciding to leave at the start of the next week
        self.shock = np.zeros(n)  # engagement change from outcomes known by the week's end
        self.pending_shock = np.zeros(n)  # from a mission decided after the week's end
        self.pending_at = np.full(n, NEVER, np.int64)
        self.week_end = 0
        self.stalled = np.zeros(n, bool)
        self.tier = pop.entry_tier.copy()
        self.mission_pos = np.zeros(n, np.int32)
        self.attempt_no = np.ones(n, np.int32)
        self.mission_busy = np.zeros(n, np.int64)  # until the current attempt is decided
        self.busy = np.zeros(n, np.int64)  # until every scheduled event of the learner is past
        self.progress_id = np.full(n, "", dtype=object)  # pre-allocated id of the next attempt
        self.module_pos = np.zeros(n, np.int32)
        self.module_hours = np.zeros(n)
        self.mission_hours = np.zeros(n)  # study time available for missions (can go negative)
        self.videos_seen = np.zeros(n, np.int64)
        self.finished = np.zeros(n, bool)  # every tier done

        m = catalog.missions
        self.m_ids = m["mission_id"].to_numpy().astype(object)
        self.m_required = m["required"].to_numpy()
        self.m_capstone = (m["mission_type"] == "capstone").to_numpy()
        self.m_subtasks = m["subtask_count"].to_numpy()
        self.m_hours = m["time_constraint_hours"].to_numpy().astype(float)
        self.m_weights = m.select([f"weight_{d}" for d in DOMAINS]).to_numpy()
        self.m_true = catalog.mission_truth["true_difficulty"].to_numpy()
        self.m_heavy = catalog.mission_truth["heavy_stage"].to_numpy()
        track_tools = {t: list(spec["tools"]) for t, spec in TRACKS.items()}
        self.m_key_tool = np.array(
            [
                track_tools[track].index(tool)
                for track, tool in zip(m["track"], catalog.mission_truth["key_tool"], strict=True)
            ]
        )
        # Its own stream: the existing draws of the program stay as they were.
        self.out_of_order = np.random.default_rng([seed, 0x0DD]).random(n) < OUT_OF_ORDER_SHARE
        md = catalog.modules
        self.mod_ids = md["module_id"].to_numpy().astype(object)
        self.mod_required = md["required"].to_numpy()
        self.mod_hours = md["content_hours"].to_numpy()
        a = catalog.assessments
        self.a_ids = a["assessment_id"].to_numpy().astype(object)
        self.a_pass = a["passing_score"].to_numpy()
        self.a_max = a["max_attempts"].fill_null(3).to_numpy()
        self.a_module = (
            md.with_row_index()
            .join(a.select("module_id"), on="module_id", how="right")["index"]
            .to_numpy()
        )
        q = catalog.questions.join(catalog.question_truth, on="question_id")
        self.q_assessment = (
            a.with_row_index()
            .join(q.select("assessment_id"), on="assessment_id", how="right")["index"]
            .to_numpy()
        )
        self.q_ids = q["question_id"].to_numpy().astype(object)
        domain_index = {d: i for i, d in enumerate(DOMAINS)}
        self.q_domain = q["competency_domain"].replace_strict(domain_index).to_numpy()
        self.q_points = q["points"].to_numpy().astype(float)
        self.q_b = q["true_difficulty"].to_numpy()
        self.q_a = q["discrimination"].to_numpy()
        self.q_guess = q["guessing"].to_numpy()
        # Questions of each assessment are contiguous in the catalog.
        self.a_q_start = np.searchsorted(self.q_assessment, np.arange(len(self.a_ids)))
        self.a_q_count = np.bincount(self.q_assessment, minlength=len(self.a_ids))
        self.track_names = np.array(list(TRACKS), dtype=object)
        self.tools = np.array([spec["tools"] for spec in TRACKS.values()], dtype=object)

    # ------------------------------------------------------------------ helpers
    def _mission_of(self, idx: np.ndarray) -> np.ndarray:
        tier = np.minimum(self.tier[idx], len(TIERS) - 1)
        pos = np.minimum(self.mission_pos[idx], MISSIONS_PER_TIER - 1)
        # Out-of-order learners take a tier's 2nd and 3rd missions (both required) swapped.
        swapped = self.out_of_order[idx] & ((pos == 1) | (pos == 2))
        pos = np.where(swapped, 3 - pos, pos)
        return self.catalog.mission_index[self.pop.track[idx], tier, pos]

    def _module_of(self, idx: np.ndarray) -> np.ndarray:
        tier = np.minimum(self.tier[idx], len(TIERS) - 1)
        pos = np.minimum(self.module_pos[idx], MODULES_PER_TIER - 1)
        return self.catalog.module_index[self.pop.track[idx], tier, pos]

    def _new_ids(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return uuid_strings(rng, n).to_numpy().astype(object)

    def _assign(self, idx: np.ndarray, at_ms: np.ndarray, rng, ev: Events) -> None:
        """Make the current mission of ``idx`` assigned: skip optional ones some learners pass
        over, allocate the attempt's id and record it as not started."""
        for _ in range(MISSIONS_PER_TIER):
            open_ = idx[self.mission_pos[idx] < MISSIONS_PER_TIER]
            mission = self._mission_of(open_)
            skip = ~self.m_required[mission] & (rng.random(len(open_)) < 0.35)
            if not skip.any():
                break
            self.mission_pos[open_[skip]] += 1
        open_mask = self.mission_pos[idx] < MISSIONS_PER_TIER
        idx, at_ms = idx[open_mask], at_ms[open_mask]
        ids = self._new_ids(rng, len(idx))
        self.progress_id[idx] = ids
        # Nobody starts a mission before it is assigned.
        self.mission_busy[idx] = np.maximum(self.mission_busy[idx], at_ms)
        self.attempt_no[idx] = 1
        mission = self._mission_of(idx)
        ev.assigned.append(
            {
                "ts": at_ms.astype(np.int64),
                "progress_id": ids,
                "learner": idx.astype(np.int32),
                "mission": mission.astype(np.int32),
            }
        )

    # ------------------------------------------------------------------ the week
    def run_week(self, week: int) -> tuple[Events, dict[str, np.ndarray]]:
        """Simulate week ``week`` (0-based from the program start). Returns its events and the
        true weekly state of every learner whose cohort has started."""
        rng = np.random.default_rng([self.seed, 0x5EED, week])
        self.planted = np.random.default_rng([self.seed, 0x7001, week])
        pop, n = self.pop, self.n
        ev = Events()
        week_start = self.program_start_ms + week * WEEK
        self.week_end = week_start + WEEK
        started = pop.start_week <= week
        first_week = np.flatnonzero(pop.start_week == week)
        if len(first_week):
            self._assign(first_week, np.full(len(first_week), week_start, np.int64), rng, ev)

        # Dropout: a learner decides to leave with last week's hazard (never in the first week),
        # starts nothing new from then on, and is gone from the first week start at which
        # nothing they began is pending: a learner leaves between missions, never mid-attempt.
        decide = (pop.start_week < week) & ~self.quitting & (rng.random(n) < self.hazard)
        self.quitting |= decide
        leaving = self.quitting & ~self.dropped & (self.busy < week_start)
        self.dropped |= leaving
        self.dropout_week[leaving] = week
        active_learner = started & ~self.quitting

        # Stalls start more easily, and end less often, as engagement falls.
        effort = hours_factor(self.engagement)
        enter = np.minimum(
            pop.stall_rate * np.exp(STALL_SENSITIVITY * (ENGAGEMENT_MEDIAN - self.engagement)),
            0.9,
        )
        self.stalled = np.where(
            self.stalled,
            rng.random(n) >= STALL_EXIT * np.minimum(effort, 1.0),
            rng.random(n) < enter,
        )

        # Study hours and study days. A disengaged learner skips whole weeks more often and
        # studies less in the others.
        shows_up = rng.random(n) < np.minimum(effort, 1.0) ** ATTEND_SHARE
        noise = rng.normal(0, 1, n) * pop.effort_volatility - pop.effort_volatility**2 / 2
        hours = pop.effort_hours * effort ** (1 - ATTEND_SHARE) * np.exp(noise) * shows_up
        hours *= np.where(self.stalled, 0.08, 1.0)
        hours *= np.where(self.finished, 0.3, 1.0)
        hours = np.where(active_learner, hours, 0.0)
        day_p = np.clip(pop.day_rate[:, None] * hours[:, None], 0.03, 0.95) * np.where(
            np.arange(7) >= 5, pop.weekend_factor[:, None], 1.0
        )
        days = (rng.random((n, 7)) < np.clip(day_p, 0, 0.97)) & (hours[:, None] >= 0.25)
        none = (hours >= 0.5) & ~days.any(axis=1)
        days[none, rng.integers(0, 7, none.sum())] = True
        n_days = days.sum(axis=1)
        hours = np.where(n_days > 0, hours, 0.0)

        # True competency: events of this week see the state at its start.
        c_start = self.competency
        stimulus = pop.quality * np.minimum(hours / FULL_STIMULUS_HOURS, 1.0)
        self.competency = self.dynamics.advance(week, stimulus, hours, started)

        # Sessions: one per study day, at the learner's usual hour (local time, written in UTC).
        hour_utc = np.mod(
            pop.study_hour[:, None] - pop.utc_offset[:, None] + rng.normal(0, 0.8, (n, 7)), 24.0
        )
        session_start = (
            week_start + np.arange(7)[None, :] * DAY + (np.minimum(hour_utc, 23.5) * HOUR)
        ).astype(np.int64)
        session_len = np.where(n_days > 0, hours / np.maximum(n_days, 1), 0.0)
        session_len = np.clip(session_len[:, None] * rng.lognormal(0, 0.25, (n, 7)), 0.1, 6.0)
        session_ms = (session_len * HOUR).astype(np.int64)
        li, di = np.nonzero(days)
        s_start, s_len = session_start[li, di], session_ms[li, di]
        track = self.track_names[pop.track[li]]
        ev.xapi.append(_xapi(s_start, li, "initialized", "course", track))
        ev.xapi.append(
            _xapi(
                s_start + s_len,
                li,
                "terminated",
                "course",
                track,
                duration_s=s_len // 1000,
                completion=True,
            )
        )

        self._content(week, rng, ev, li, s_start, s_len, hours, n_days, c_start, active_learner)
        # Mission work draws on the study time left after content; an attempt may overdraw it,
        # and the learner then waits until later weeks have paid it back.
        self.mission_hours += (1 - CONTENT_SHARE) * hours
        # Keen learners may fit a second mission attempt into a week.
        self._missions(rng, ev, days, session_start, c_start, hours > 0)
        self._missions(rng, ev, days, session_start, c_start, hours >= SECOND_ATTEMPT_HOURS)
        self._track_busy(ev)
        self._update_engagement(rng, week, started)

        gone = self.dropped[started]
        truth = {
            "learner": np.flatnonzero(started),
            "hours": hours[started],
            "stimulus": stimulus[started],
            "active": (n_days > 0)[started],
            "competency": self.competency[started],
            "engagement": np.where(gone, np.nan, self.engagement[started]),
            "dropout_hazard": np.where(gone, np.nan, self.hazard[started]),
        }
        return ev, truth

    # ------------------------------------------------------------------ engagement
    def _track_busy(self, ev: Events) -> None:
        """A learner is busy until the last event scheduled so far (sessions may run past
        midnight into the next week; reviews and reflections come days later)."""
        for rows in (*ev.xapi, *ev.attempts, *ev.assigned):
            np.maximum.at(self.busy, rows["learner"], rows["ts"])
        for versions, batch in ev.missions:
            np.maximum.at(self.busy, batch["learner"][versions["attempt"]], versions["ts"])

    def _update_engagement(self, rng, week: int, started: np.ndarray) -> None:
        """Engagement after the week: it reverts toward a target (the learner's baseline, their
        slow drift, minus the fall of a fading phase), with noise, and moves with the outcomes
        the learner learnt of this week and with stalls. Then the hazard of next week."""
        pop, n = self.pop, self.n
        due = self.pending_at < self.week_end
        shock = self.shock + np.where(due, self.pending_shock, 0.0) - STALL_PULL * self.stalled
        self.pending_shock[due] = 0.0
        self.pending_at[due] = NEVER
        self.shock[:] = 0.0

        e = self.engagement
        onset = pop.fade_rate * np.exp(FADE_SENSITIVITY * (ENGAGEMENT_MEDIAN - e))
        enter = rng.random(n) < np.minimum(onset, 0.5)
        recover = rng.random(n) < FADE_RECOVERY
        fading = np.where(self.fading, ~recover, enter)
        depth = np.where(fading, self.fade_depth + pop.fade_speed, self.fade_depth * FADE_RELAX)
        target = pop.engagement_baseline + pop.engagement_drift * (week - pop.start_week) - depth
        noise = rng.normal(0, 1, n) * pop.engagement_volatility
        live = started & ~self.quitting
        self.fading = np.where(live, fading, self.fading)
        self.fade_depth = np.where(live, depth, self.fade_depth)
        self.engagement = np.where(live, e + REVERSION * (target - e) + noise + shock, e)
        self.hazard = np.where(
            self.quitting, 1.0, dropout_hazard(self.engagement, pop.dropout_hazard)
        )

    def _learn_outcome(self, idx: np.ndarray, delta: np.ndarray, at: np.ndarray) -> None:
        """Engagement moves once the learner knows a mission's outcome: at this week's end, or
        at the end of the week the decision comes in."""
        # An earlier pending outcome was decided before this attempt started, so this week.
        self.shock[idx] += self.pending_shock[idx]
        now = at < self.week_end
        self.shock[idx[now]] += delta[now]
        self.pending_shock[idx] = np.where(now, 0.0, delta)
        self.pending_at[idx] = np.where(now, NEVER, at)

    # ------------------------------------------------------------------ content and assessments
    def _content(self, week, rng, ev, li, s_start, s_len, hours, n_days, c_start, active):
        n = self.n
        content_per_day = CONTENT_SHARE * hours[li] / np.maximum(n_days[li], 1)
        n_videos = np.minimum(rng.poisson(np.minimum(content_per_day * 0.9, 3.0)), 4)
        vi = np.repeat(np.arange(len(li)), n_videos)
        v_learner = li[vi]
        order = np.arange(len(vi)) - np.repeat(np.cumsum(n_videos) - n_videos, n_videos)
        v_len = rng.uniform(6, 20, len(vi)) * 60_000
        watched = np.clip(rng.beta(5, 1.2, len(vi)), 0.05, 1.0)
        v_ts = s_start[vi] + (order * 20 + rng.uniform(1, 10, len(vi))) * 60_000
        video_no = (self.videos_seen[v_learner] + order) % VIDEOS_PER_MODULE + 1
        np.add.at(self.videos_seen, v_learner, 1)
        module = self._module_of(v_learner)
        v_obj = self.mod_ids[module] + np.char.mod("/video-%d", video_no).astype(object)
        has_module = (self.tier[v_learner] < len(TIERS)) & (
            self.module_pos[v_learner] < MODULES_PER_TIER
        )
        keep = has_module
        ev.xapi.append(
            _xapi(
                v_ts[keep].astype(np.int64),
                v_learner[keep],
                "experienced",
                "video",
                v_obj[keep],
                duration_s=(v_len * watched / 1000).astype(np.int64)[keep],
                completion=(watched >= 0.9)[keep],
            )
        )
        # A quick knowledge check after some videos.
        check = keep & (rng.random(len(vi)) < 0.25)
        ci = np.flatnonzero(check)
        c_mean = c_start[v_learner[ci]].mean(axis=1)
        p = 1 / (1 + np.exp(-10 * (c_mean - 0.35)))
        success = rng.random(len(ci)) < p
        ev.xapi.append(
            _xapi(
                (v_ts[ci] + v_len[ci] * watched[ci] + 30_000).astype(np.int64),
                v_learner[ci],
                "answered",
                "check",
                v_obj[ci] + "/check",
                success=success,
                score=np.where(success, 1.0, 0.0),
            )
        )

        # Module progress: reading and videos accumulate; one module at most completes a week.
        learning = active & (hours > 0) & ~self.finished & (self.module_pos < MODULES_PER_TIER)
        idx = np.flatnonzero(learning)
        self.module_hours[idx] += CONTENT_SHARE * hours[idx]
        module = self._module_of(idx)
        done = self.module_hours[idx] >= self.mod_hours[module]
        idx, module = idx[done], module[done]
        if len(idx):
            # Completed at the end of the learner's last session of the week.
            last_session = np.full(n, -1, np.int64)
            np.maximum.at(last_session, li, s_start + s_len)
            at = last_session[idx]
            ok = at > 0
            idx, module, at = idx[ok], module[ok], at[ok]
            self.module_hours[idx] -= self.mod_hours[module]
            ev.xapi.append(
                _xapi(at, idx, "completed", "module", self.mod_ids[module], completion=True)
            )
            self._assessments(rng, ev, idx, module, at + 5 * 60_000, c_start)
            self.module_pos[idx] += 1
            # Optional modules are skipped by some learners.
            for _ in range(MODULES_PER_TIER):
                open_ = idx[self.module_pos[idx] < MODULES_PER_TIER]
                nxt = self._module_of(open_)
                skip = ~self.mod_required[nxt] & (rng.random(len(open_)) < 0.4)
                if not skip.any():
                    break
                self.module_pos[open_[skip]] += 1
            self._maybe_advance_tier(idx, at, rng, ev)

    def _assessments(self, rng, ev, learner, module, at, c_start):
        """Every assessment of the completed modules, retaken after a failure while allowed."""
        a_of = np.flatnonzero(np.isin(self.a_module, np.unique(module)))
        pair_l, pair_a = [], []
        for a in a_of:  # at most three assessments a module: a short loop over kinds
            sel = np.flatnonzero(self.a_module[a] == module)
            pair_l.append(sel)
            pair_a.append(np.full(len(sel), a))
        row = np.concatenate(pair_l)
        assess = np.concatenate(pair_a)
        learner, start = learner[row], at[row] + rng.integers(0, 3, len(row)) * 20 * 60_000
        failed_so_far = np.ones(len(row), bool)
        attempt_no = 0
        while failed_so_far.any():
            attempt_no += 1
            take = failed_so_far & (attempt_no <= self.a_max[assess])
            if attempt_no > 1:
                take &= rng.random(len(row)) < 0.85
            ti = np.flatnonzero(take)
            if not len(ti):
                break
            t_learner, t_assess = learner[ti], assess[ti]
            practice = 0.04 * (attempt_no - 1)
            q_count = self.a_q_count[t_assess]
            qi = np.repeat(np.arange(len(ti)), q_count)
            q = self.a_q_start[t_assess][qi] + (
                np.arange(len(qi)) - np.repeat(np.cumsum(q_count) - q_count, q_count)
            )
            c = c_start[t_learner[qi], self.q_domain[q]] + practice
            p = self.q_guess[q] + (1 - self.q_guess[q]) / (
                1 + np.exp(-self.q_a[q] * (c - self.q_b[q]))
            )
            correct = rng.random(len(q)) < p
            earned = np.where(correct, self.q_points[q], 0.0)
            score = np.bincount(qi, earned, len(ti))
            total = np.bincount(qi, self.q_points[q], len(ti))
            pct = np.round(100 * score / total, 2)
            passed = pct >= 100 * self.a_pass[t_assess] - 1e-9
            minutes = np.maximum(1, q_count * rng.uniform(0.8, 2.5, len(ti))).astype(np.int64)
            started_at = start[ti]
            submitted = started_at + minutes * 60_000
            abandoned = rng.random(len(ti)) < 0.015
            graded = submitted + rng.integers(1, 60, len(ti)) * 1000
            ids = self._new_ids(rng, len(ti))
            ev.attempts.append(
                {
                    "ts": np.where(abandoned, started_at, graded),
                    "attempt_id": ids,
                    "learner": t_learner.astype(np.int32),
                    "assessment": t_assess.astype(np.int32),
                    "attempt_number": np.full(len(ti), attempt_no, np.int32),
                    "abandoned": abandoned,
                    "started_at": started_at,
                    "submitted_at": submitted,
                    "graded_at": graded,
                    "score": score,
                    "percentage": pct,
                    "minutes": minutes,
                }
            )
            ev.answers.append(
                {
                    "attempt_id": ids[qi],
                    "question": q.astype(np.int32),
                    "correct": correct,
                    "earned": earned,
                    "abandoned": abandoned[qi],
                }
            )
            ev.xapi.append(
                _xapi(started_at, t_learner, "attempted", "assessment", self.a_ids[t_assess])
            )
            fin = ~abandoned
            ev.xapi.append(
                _xapi(
                    graded[fin],
                    t_learner[fin],
                    np.where(passed[fin], "passed", "failed"),
                    "assessment",
                    self.a_ids[t_assess][fin],
                    score=pct[fin] / 100,
                    success=passed[fin],
                    completion=True,
                    duration_s=minutes[fin] * 60,
                )
            )
            self.busy[t_learner] = np.maximum(self.busy[t_learner], graded)
            np.add.at(
                self.shock,
                t_learner[fin],
                np.where(passed[fin], ASSESSMENT_PASSED, ASSESSMENT_FAILED),
            )
            nxt = np.zeros(len(row), bool)
            nxt[ti] = ~passed | abandoned
            start = start.copy()
            start[ti] = graded + rng.integers(1, 4, len(ti)) * DAY
            failed_so_far = nxt

    # ------------------------------------------------------------------ missions
    def _missions(self, rng, ev, days, session_start, c_start, willing):
        """Start at most one attempt per eligible learner, on their first study day after their
        previous attempt was decided, and play the whole attempt out.

        The stages run in a fixed order because each draws from ``rng`` in turn; reordering them
        would change every later draw of the week."""
        att = self._choose_starters(rng, days, session_start, willing)
        if att is None:
            return
        self._play_subtasks(rng, att, c_start)
        self._mentor_review(rng, att)
        self._attempt_details(rng, att)
        self._record_versions(ev, att)
        self._record_telemetry(rng, ev, att)
        self._move_on(rng, ev, att)

    def _choose_starters(self, rng, days, session_start, willing) -> _Attempts | None:
        """Who starts an attempt, and when: the first study day after the previous attempt."""
        eligible = (
            willing
            & (self.mission_hours > 0)
            & ~self.quitting
            & ~self.finished
            & (self.mission_pos < MISSIONS_PER_TIER)
            & (self.tier < len(TIERS))
        )
        candidate = days & (session_start > self.mission_busy[:, None]) & eligible[:, None]
        idx = np.flatnonzero(candidate.any(axis=1))
        if not len(idx):
            return None
        day = candidate[idx].argmax(axis=1)
        t0 = session_start[idx, day] + rng.integers(*START_DELAY_MINUTES, len(idx)) * MINUTE
        mission = self._mission_of(idx)
        return _Attempts(
            idx=idx,
            t0=t0,
            mission=mission,
            attempt_no=self.attempt_no[idx],
            progress_id=self.progress_id[idx],
            subtasks=self.m_subtasks[mission],
            capstone=self.m_capstone[mission],
        )

    def _play_subtasks(self, rng, att: _Attempts, c_start) -> None:
        """Time taken against the limit, its split over subtasks, the effort spent (drawn from
        the learner's mission hours) and, if the deadline is missed, how far the learner got."""
        a, mission, subtasks = len(att.idx), att.mission, att.subtasks
        # Competency on the mission's domain mix against what its true difficulty demands.
        c = (c_start[att.idx] * self.m_weights[mission]).sum(axis=1)
        att.gap = c - (NEED_BASE + NEED_PER_DIFFICULTY * self.m_true[mission])
        att.shortfall = shortfall = np.maximum(0, -att.gap)

        limit_ms = (self.m_hours[mission] * HOUR).astype(np.int64)
        att.deadline = att.t0 + limit_ms
        frac = np.exp(
            rng.normal(np.log(TIME_SHARE) + SHORTFALL_SLOWDOWN * shortfall, TIME_SHARE_SPREAD, a)
        )
        att.missed = missed = frac > 1.0
        att.elapsed = (np.minimum(frac, 1.0) * limit_ms).astype(np.int64)
        # Stages: cumulative shares of the elapsed time; stage k ends at stage_end[:, k-1].
        shares = rng.gamma(SHARE_SHAPE, 1.0, (a, MAX_SUBTASKS)) * (
            np.arange(MAX_SUBTASKS) < subtasks[:, None]
        )
        heavy = np.arange(MAX_SUBTASKS)[None, :] == (self.m_heavy[mission] - 1)[:, None]
        shares *= np.where(heavy & (subtasks[:, None] > 1), HEAVY_STAGE_WEIGHT, 1.0)
        shares /= shares.sum(axis=1, keepdims=True)
        att.stage_end = att.t0[:, None] + (np.cumsum(shares, axis=1) * att.elapsed[:, None]).astype(
            np.int64
        )
        work_minutes = np.maximum(
            1, (subtasks * rng.uniform(*SUBTASK_MINUTES, a) * (1 + SHORTFALL_EFFORT * shortfall))
        )
        self.mission_hours[att.idx] -= work_minutes / 60
        att.stage_minutes = np.round(shares * work_minutes[:, None]).astype(np.int64)
        reach = np.minimum(
            subtasks, 1 + (subtasks * rng.uniform(*MISSED_REACH, a)).astype(np.int64)
        )
        stops_heavy = (self.planted.random(a) < HEAVY_STAGE_STOP) & (subtasks > 1)
        reach = np.where(stops_heavy, self.m_heavy[mission], reach)
        att.reached = np.where(missed, reach, subtasks)
        att.drop_off = np.where(missed, att.reached, -1)

    def _mentor_review(self, rng, att: _Attempts) -> None:
        """Mentor scores (a first review, then an optional revision cycle that lifts the score),
        the review timeline up to the decision, and the learner's optional reflection after it."""
        a, missed = len(att.idx), att.missed
        att.score1 = np.clip(
            100
            * (
                BASE_SCORE
                + SCORE_PER_GAP * att.gap
                + RETRY_BONUS * (att.attempt_no - 1)
                + rng.normal(0, SCORE_NOISE, a)
            ),
            MIN_SCORE,
            100,
        ).round(1)
        att.revise = revise = (
            ~missed
            & (att.score1 >= REVISE_FLOOR)
            & (att.score1 < PASS_MARK + REVISE_MARGIN)
            & (rng.random(a) < REVISE_RATE)
        )
        att.score2 = np.where(
            revise, np.minimum(100, att.score1 + rng.uniform(*REVISION_GAIN, a)), att.score1
        ).round(1)
        att.passed = ~missed & (att.score2 >= PASS_MARK)

        att.submitted1 = att.t0 + att.elapsed
        att.ai1 = att.submitted1 + rng.integers(*AI_REVIEW_MINUTES, a) * MINUTE
        review_wait = (
            self.pop.mentor_speed[self.pop.mentor[att.idx]]
            * rng.lognormal(0, REVIEW_SPREAD, a)
            * HOUR
        )
        att.pickup1 = att.ai1 + (rng.uniform(*PICKUP_HOURS, a) * HOUR).astype(np.int64)
        att.reviewed1 = att.pickup1 + review_wait.astype(np.int64)
        att.resumed = att.reviewed1 + (rng.uniform(*RESUME_HOURS, a) * HOUR).astype(np.int64)
        att.submitted2 = att.resumed + (rng.uniform(*REVISION_HOURS, a) * HOUR).astype(np.int64)
        att.ai2 = att.submitted2 + rng.integers(*AI_REVIEW_MINUTES, a) * MINUTE
        att.pickup2 = att.ai2 + (rng.uniform(*PICKUP_HOURS, a) * HOUR).astype(np.int64)
        att.reviewed2 = att.pickup2 + (review_wait * rng.uniform(*SECOND_REVIEW_SHARE, a)).astype(
            np.int64
        )
        att.final_at = np.where(
            missed, att.deadline, np.where(revise, att.reviewed2, att.reviewed1)
        )

        reflect_p = self.pop.reflection_rate[att.idx] * np.where(att.passed, 1.0, FAILED_REFLECTION)
        att.reflects = ~missed & (rng.random(a) < reflect_p)
        att.reflected_at = att.final_at + (rng.uniform(*REFLECTION_HOURS, a) * HOUR).astype(
            np.int64
        )

    def _attempt_details(self, rng, att: _Attempts) -> None:
        """Capstone phase times, the spread of subtask and rubric scores, hints and tools."""
        a, subtasks, n_phases = len(att.idx), att.subtasks, len(CAPSTONE_PHASES)
        phase_share = np.cumsum(rng.gamma(SHARE_SHAPE, 1.0, (a, n_phases)), axis=1)
        # Phases end in order, the last one shortly before the submission.
        att.phase_at = att.t0[:, None] + (
            phase_share / phase_share[:, -1:] * PHASES_END * att.elapsed[:, None]
        ).astype(np.int64)
        phases_done = np.where(
            att.missed,
            np.minimum(n_phases, (att.reached * n_phases) // np.maximum(subtasks, 1)),
            n_phases,
        )
        att.phases_done = np.where(att.capstone, phases_done, 0)

        att.sub_noise = rng.normal(0, SUBTASK_SCORE_NOISE, (a, MAX_SUBTASKS))
        att.rub_noise = rng.normal(0, RUBRIC_NOISE, (a, len(RUBRIC_CATEGORIES)))
        hint_mean = (
            self.pop.hint_rate[att.idx]
            * subtasks
            * HINTS_PER_SUBTASK
            * (1 + SHORTFALL_HINTS * att.shortfall)
        )
        att.n_hints = np.minimum(rng.poisson(hint_mean), MAX_HINTS)
        att.hint_stage = (
            rng.integers(0, MAX_SUBTASKS, (a, MAX_HINTS)) % np.maximum(att.reached, 1)[:, None] + 1
        )
        att.n_tools = 1 + rng.binomial(MAX_TOOLS - 1, EXTRA_TOOL_P, a)
        order = np.argsort(rng.random((a, self.tools.shape[1])), axis=1)
        # The mission's key tool: used by most passed attempts, few failed ones. It comes on
        # top of the tools drawn (so their shares do not move), or goes where it was drawn.
        key = self.m_key_tool[att.mission]
        uses_key = self.planted.random(a) < np.where(att.passed, *KEY_TOOL_USE[::-1])
        slot = (order == key[:, None]).argmax(axis=1)  # where the key tool is in the order
        drawn = slot < att.n_tools
        add = uses_key & ~drawn
        target = np.where(
            add,
            np.minimum(att.n_tools, MAX_TOOLS - 1),
            np.where(~uses_key & drawn, att.n_tools, slot),
        )
        rows = np.arange(a)
        order[rows, slot], order[rows, target] = order[rows, target], order[rows, slot]
        att.n_tools = np.where(add, np.minimum(att.n_tools + 1, MAX_TOOLS), att.n_tools)
        att.tool_rank = order[:, :MAX_TOOLS]

    def _record_versions(self, ev: Events, att: _Attempts) -> None:
        """The attempt-level facts for the renderer, and one row per progress version."""
        a = len(att.idx)
        track = self.pop.track[att.idx]
        batch = {
            "progress_id": att.progress_id,
            "learner": att.idx.astype(np.int32),
            "mission": att.mission.astype(np.int32),
            "attempt_number": att.attempt_no,
            "capstone": att.capstone,
            "subtasks": att.subtasks,
            "reached": att.reached,
            "drop_off": att.drop_off,
            "missed": att.missed,
            "revise": att.revise,
            "passed": att.passed,
            "score1": att.score1,
            "score2": att.score2,
            "sub1": np.clip(att.score1[:, None] + att.sub_noise, 0, 100).round(0),
            "sub2": np.clip(att.score2[:, None] + att.sub_noise, 0, 100).round(0),
            "rub1": np.clip(att.score1[:, None] / 100 + att.rub_noise, 0, 1).round(2),
            "rub2": np.clip(att.score2[:, None] / 100 + att.rub_noise, 0, 1).round(2),
            "stage_minutes": att.stage_minutes,
            "n_hints": att.n_hints,
            "hint_stage": att.hint_stage,
            "n_tools": att.n_tools,
            "tools": self.tools[track[:, None], att.tool_rank],
            "track": track,
            "phase_at": att.phase_at,
            "phases_done": att.phases_done,
            "t0": att.t0,
            "deadline": att.deadline,
            "submitted1": att.submitted1,
            "submitted2": att.submitted2,
            "reviewed1": att.reviewed1,
            "reviewed2": att.reviewed2,
        }
        submitted, revise, everyone = ~att.missed, att.revise, np.ones(a, bool)
        versions = [
            ("in_progress", att.t0, everyone),
            ("submitted", att.submitted1, submitted),
            ("ai_reviewed", att.ai1, submitted),
            ("mentor_review", att.pickup1, submitted),
            ("revision_requested", att.reviewed1, revise),
            ("in_progress_resumed", att.resumed, revise),
            ("submitted_again", att.submitted2, revise),
            ("ai_reviewed_again", att.ai2, revise),
            ("mentor_review_again", att.pickup2, revise),
            ("decided", att.final_at, everyone),
            ("reflected", att.reflected_at, att.reflects),
        ] + [
            (f"phase_{k + 1}", att.phase_at[:, k], att.capstone & (att.phases_done > k))
            for k in range(len(CAPSTONE_PHASES))
        ]
        rows_attempt, rows_ts, rows_kind = [], [], []
        for kind, ts, mask in versions:
            sel = np.flatnonzero(mask)
            rows_attempt.append(sel)
            rows_ts.append(ts[sel])
            rows_kind.append(np.full(len(sel), kind, dtype=object))
        ev.missions.append(
            (
                {
                    "ts": np.concatenate(rows_ts).astype(np.int64),
                    "attempt": np.concatenate(rows_attempt).astype(np.int64),
                    "version": np.concatenate(rows_kind),
                },
                batch,
            )
        )

    def _record_telemetry(self, rng, ev: Events, att: _Attempts) -> None:
        """xAPI statements of the attempt: launch, subtask progress, hints, tools, completion,
        the verdict and capstone phases."""
        learner, mission, attempt_no = att.idx, att.mission, att.attempt_no
        progress_id, elapsed, m_ids = att.progress_id, att.elapsed, self.m_ids
        ev.xapi.append(
            _xapi(
                att.t0,
                learner,
                "launched",
                "mission",
                m_ids[mission],
                progress=progress_id,
                attempt=attempt_no,
            )
        )
        # Subtask progress is tracked in telemetry for long missions only.
        tracked = np.where(
            att.subtasks >= TRACKED_SUBTASKS,
            np.where(att.missed, att.reached - 1, att.subtasks),
            0,
        )
        si, sk = np.nonzero(np.arange(MAX_SUBTASKS)[None, :] < tracked[:, None])
        ev.xapi.append(
            _xapi(
                att.stage_end[si, sk],
                learner[si],
                "progressed",
                "subtask",
                m_ids[mission[si]] + np.char.mod("/subtask-%d", sk + 1).astype(object),
                completion=True,
                progress=progress_id[si],
                attempt=attempt_no[si],
            )
        )
        hi, hk = np.nonzero(np.arange(MAX_HINTS)[None, :] < att.n_hints[:, None])
        hint_ts = att.t0[hi] + (rng.random(len(hi)) * elapsed[hi]).astype(np.int64)
        ev.xapi.append(
            _xapi(
                hint_ts,
                learner[hi],
                "hint-requested",
                "subtask",
                m_ids[mission[hi]]
                + np.char.mod("/subtask-%d", att.hint_stage[hi, hk]).astype(object),
                progress=progress_id[hi],
                attempt=attempt_no[hi],
            )
        )
        ti, tk = np.nonzero(np.arange(MAX_TOOLS)[None, :] < att.n_tools[:, None])
        tools = self.tools[self.pop.track[learner][ti], att.tool_rank[ti, tk]]
        tool_ts = att.t0[ti] + (rng.random(len(ti)) * elapsed[ti]).astype(np.int64)
        ev.xapi.append(
            _xapi(
                tool_ts,
                learner[ti],
                "tool-used",
                "lab",
                tools,
                progress=progress_id[ti],
                attempt=attempt_no[ti],
            )
        )
        sub = np.flatnonzero(~att.missed)
        ev.xapi.append(
            _xapi(
                att.submitted1[sub],
                learner[sub],
                "completed",
                "mission",
                m_ids[mission[sub]],
                completion=True,
                duration_s=elapsed[sub] // 1000,
                progress=progress_id[sub],
                attempt=attempt_no[sub],
            )
        )
        ev.xapi.append(
            _xapi(
                att.final_at[sub],
                learner[sub],
                np.where(att.passed[sub], "passed", "failed"),
                "mission",
                m_ids[mission[sub]],
                score=att.score2[sub] / 100,
                success=att.passed[sub],
                completion=True,
                progress=progress_id[sub],
                attempt=attempt_no[sub],
            )
        )
        for k in range(len(CAPSTONE_PHASES)):
            pk = np.flatnonzero(att.capstone & (att.phases_done > k))
            ev.xapi.append(
                _xapi(
                    att.phase_at[pk, k],
                    learner[pk],
                    "progressed",
                    "phase",
                    m_ids[mission[pk]] + f"/phase-{CAPSTONE_PHASES[k]}",
                    completion=True,
                    progress=progress_id[pk],
                    attempt=attempt_no[pk],
                )
            )

    def _move_on(self, rng, ev: Events, att: _Attempts) -> None:
        """Record the outcome on the learners: retry the mission, or move to the next one (and
        maybe the next tier)."""
        idx, passed, final_at = att.idx, att.passed, att.final_at
        end = np.where(att.reflects, att.reflected_at, final_at)
        self.mission_busy[idx] = final_at
        self.busy[idx] = np.maximum(self.busy[idx], end)
        self._learn_outcome(idx, np.where(passed, MISSION_PASSED, MISSION_FAILED), final_at)
        give_up = (
            ~passed & ~self.m_required[att.mission] & (rng.random(len(idx)) < GIVE_UP_OPTIONAL)
        )
        advance = passed | give_up
        retry = idx[~advance]
        self.attempt_no[retry] += 1
        self.progress_id[retry] = self._new_ids(rng, len(retry))
        moved = idx[advance]
        self.mission_pos[moved] += 1
        self._assign(moved, final_at[advance] + ASSIGN_AFTER_MS, rng, ev)
        self._maybe_advance_tier(moved, final_at[advance] + TIER_AFTER_MS, rng, ev)

    def _maybe_advance_tier(self, idx, at_ms, rng, ev) -> None:
        """A learner whose tier has no mission or module left moves up (or finishes)."""
        done = (self.mission_pos[idx] >= MISSIONS_PER_TIER) & (
            self.module_pos[idx] >= MODULES_PER_TIER
        )
        idx, at_ms = idx[done], at_ms[done]
        if not len(idx):
            return
        self.tier[idx] += 1
        last = self.tier[idx] >= len(TIERS)
        self.finished[idx[last]] = True
        nxt, at_ms = idx[~last], at_ms[~last]
        self.mission_pos[nxt] = 0
        self.module_pos[nxt] = 0
        self._assign(nxt, at_ms, rng, ev)
