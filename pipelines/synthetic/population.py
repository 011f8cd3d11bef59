"""Organizations, cohorts and learners, with each learner's hidden (latent) parameters.

Latent parameters are drawn per learner in bulk; they drive everything the learner later does.
Rates are calibrated so that, under the seed 004 model, a steady learner reaches mastery in
months (roughly 12 to 40 weeks), a slow one never does, and effort matters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from ..contract import BASELINE_COMPETENCY, DOMAINS, N_DOMAINS, SUBSCRIPTION_TIERS
from .catalog import TRACKS

ORG_NAMES = (
    ("Northwind Security", "northwind.example", 0),
    ("Contoso Defense", "contoso.example", -5),
    ("Globex Cyber Operations", "globex.example", 1),
    ("Initech Risk Group", "initech.example", 4),
    ("Umbrella Resilience", "umbrella.example", -8),
    ("Soylent Assurance", "soylent.example", 9),
)
FIRST_NAMES = [
    "Ada",
    "Amir",
    "Bea",
    "Caleb",
    "Chen",
    "Dara",
    "Eli",
    "Esra",
    "Femi",
    "Gus",
    "Hana",
    "Ines",
    "Ivo",
    "Jae",
    "Kai",
    "Lena",
    "Luis",
    "Maya",
    "Mika",
    "Nadia",
    "Noor",
    "Omar",
    "Pia",
    "Quinn",
    "Rafa",
    "Rosa",
    "Sam",
    "Sina",
    "Tariq",
    "Uma",
    "Vera",
    "Wen",
    "Yara",
    "Yusuf",
    "Zoe",
]
LAST_NAMES = [
    "Abara",
    "Bauer",
    "Costa",
    "Dubois",
    "Eze",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Mendes",
    "Novak",
    "Okafor",
    "Park",
    "Quispe",
    "Rossi",
    "Silva",
    "Tanaka",
    "Uddin",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhou",
]
SUBSCRIPTIONS = SUBSCRIPTION_TIERS
LEARNERS_PER_COHORT = 250
LEARNERS_PER_MENTOR = 25
ENGAGEMENT_MEDIAN = 1.2  # median baseline engagement (the simulation's reference level)


@dataclass(frozen=True)
class Population:
    organizations: pl.DataFrame
    cohorts: pl.DataFrame
    learners: pl.DataFrame  # landing columns only
    latent: pl.DataFrame  # hidden truth, one row per learner

    # Simulation arrays, one entry per learner (n,) unless stated.
    track: np.ndarray  # index into TRACKS
    start_week: np.ndarray  # first week (from the program start) the learner's cohort runs
    entry_tier: np.ndarray
    initial: np.ndarray  # (n, 4) competency before the first week
    v_max: np.ndarray
    decay: np.ndarray
    aptitude: np.ndarray  # (n, 4) gain weights, mean 1 per learner
    quality: np.ndarray  # stimulus quality of an hour of study
    effort_hours: np.ndarray  # median weekly study hours
    effort_volatility: np.ndarray
    stall_rate: np.ndarray  # weekly chance of entering a stall (at the reference engagement)
    dropout_hazard: np.ndarray  # weekly chance of leaving for good however engaged (life events)
    engagement_baseline: np.ndarray  # the level the learner's engagement reverts to
    engagement_drift: np.ndarray  # per week of the program: slow gain or loss of interest
    engagement_volatility: np.ndarray  # weekly noise of engagement
    fade_rate: np.ndarray  # weekly chance of entering a fading phase (at the reference engagement)
    fade_speed: np.ndarray  # how fast engagement's target falls per week while fading
    day_rate: np.ndarray  # chance a day is a study day, per hour of weekly study
    weekend_factor: np.ndarray
    study_hour: np.ndarray  # local hour a session usually starts
    utc_offset: np.ndarray  # hours
    reflection_rate: np.ndarray
    hint_rate: np.ndarray
    mentor: np.ndarray  # mentor index, for review speed
    mentor_speed: np.ndarray  # per mentor: median review hours
    registration: pl.Series  # xAPI context.registration (UUID) per learner


def uuid_strings(rng: np.random.Generator, n: int) -> pl.Series:
    """n random version-4 UUID strings, drawn in bulk and formatted without a Python loop."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hex_digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    nibble_cols = [c for c in range(36) if c not in (8, 13, 18, 23)]
    text[:, nibble_cols[0::2]] = hex_digits[raw >> 4]
    text[:, nibble_cols[1::2]] = hex_digits[raw & 0x0F]
    # Fixed-width ASCII with no NUL bytes, so the bytes view loses nothing.
    return pl.Series(np.ascontiguousarray(text).view("S36").ravel()).cast(pl.String)


def build_population(seed: int, n_learners: int, n_orgs: int, program_start: dt.date) -> Population:
    rng = np.random.default_rng([seed, 0x9E0])
    n_orgs = max(1, min(n_orgs, len(ORG_NAMES), n_learners))
    organizations = pl.DataFrame(
        {
            "org_id": [f"ORG{o + 1:02d}" for o in range(n_orgs)],
            "name": [ORG_NAMES[o][0] for o in range(n_orgs)],
        }
    )

    # Learners are spread over organizations unevenly, then over that organization's cohorts.
    org_share = rng.dirichlet(np.full(n_orgs, 6.0))
    org = np.sort(rng.choice(n_orgs, size=n_learners, p=org_share))
    cohort_rows, cohort_of = [], np.empty(n_learners, dtype=np.int32)
    cohort_start_week, cohort_track = [], []
    track_names = list(TRACKS)
    for o in range(n_orgs):
        members = np.flatnonzero(org == o)
        n_cohorts = max(1, round(len(members) / LEARNERS_PER_COHORT))
        for c, part in enumerate(np.array_split(members, n_cohorts)):
            track = int(rng.integers(len(track_names))) if c else o % len(track_names)
            # Cohorts start over the first weeks; the first one on the program's first day.
            start_week = int(rng.integers(0, 7)) if (o, c) != (0, 0) else 0
            start = program_start + dt.timedelta(weeks=start_week)
            target = start + dt.timedelta(weeks=int(rng.integers(30, 41)))
            cohort_of[part] = len(cohort_rows)
            cohort_start_week.append(start_week)
            cohort_track.append(track)
            cohort_rows.append(
                {
                    "cohort_id": f"C{o + 1:02d}{c + 1:03d}",
                    "org_id": f"ORG{o + 1:02d}",
                    "name": f"{ORG_NAMES[o][0].split()[0]} {track_names[track].title()} "
                    f"{start:%b %Y} #{c + 1}",
                    "track": track_names[track],
                    "start_date": start,
                    "target_mastery_date": target,
                }
            )
    cohorts = pl.DataFrame(cohort_rows)
    start_week = np.asarray(cohort_start_week, dtype=np.int32)[cohort_of]
    track = np.asarray(cohort_track, dtype=np.int32)[cohort_of]

    n = n_learners
    ids = np.char.add("L", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    first = np.asarray(FIRST_NAMES)[rng.integers(len(FIRST_NAMES), size=n)]
    last = np.asarray(LAST_NAMES)[rng.integers(len(LAST_NAMES), size=n)]
    domains = np.asarray([ORG_NAMES[o][1] for o in range(n_orgs)])[org]
    emails = np.char.add(
        np.char.add(np.char.add(np.char.lower(first), "."), np.char.lower(last)),
        np.char.add(np.char.mod("%d@", np.arange(1, n + 1)), domains),
    )
    subscription = rng.choice(3, size=n, p=(0.45, 0.35, 0.20))
    enrol_offset_s = rng.integers(0, 14 * 86400, size=n)
    program_epoch = dt.datetime.combine(program_start, dt.time(), tzinfo=dt.UTC).timestamp()
    enrolled_ms = ((program_epoch + start_week * 7 * 86400 - enrol_offset_s) * 1000).astype(
        np.int64
    )
    # Mentors are per organization, about one per LEARNERS_PER_MENTOR learners.
    mentor = np.empty(n, dtype=np.int32)
    mentor_ids = np.empty(n, dtype=object)
    n_mentors_total = 0
    for o in range(n_orgs):
        members = np.flatnonzero(org == o)
        k = max(1, len(members) // LEARNERS_PER_MENTOR)
        local = rng.integers(k, size=len(members))
        mentor[members] = n_mentors_total + local
        mentor_ids[members] = [f"MEN{o + 1:02d}{j + 1:03d}" for j in local]
        n_mentors_total += k
    mentor_speed = rng.lognormal(np.log(30.0), 0.45, size=n_mentors_total)

    # Latent learning parameters (see docs/generator.md).
    entry_tier = rng.choice(3, size=n, p=(0.5, 0.3, 0.2))
    initial = np.clip(
        BASELINE_COMPETENCY + 0.12 * entry_tier[:, None] + rng.normal(0, 0.03, (n, N_DOMAINS)),
        0.05,
        0.65,
    )
    aptitude = rng.lognormal(0.0, 0.12, (n, N_DOMAINS))
    aptitude /= aptitude.mean(axis=1, keepdims=True)
    latent = {
        "v_max": rng.lognormal(np.log(0.19), 0.15, n),
        "decay": np.clip(rng.lognormal(np.log(0.03), 0.25, n), 0.005, 0.12),
        "quality": rng.beta(8.0, 2.0, n),
        "effort_hours": rng.lognormal(np.log(6.5), 0.35, n),
        "effort_volatility": rng.uniform(0.15, 0.45, n),
        "stall_rate": rng.beta(1.0, 49.0, n),
        "dropout_hazard": rng.lognormal(np.log(0.00075), 0.6, n),
        "day_rate": rng.lognormal(np.log(0.03), 0.35, n),
        "weekend_factor": rng.uniform(0.3, 1.3, n),
        "study_hour": np.choose(
            rng.choice(3, size=n, p=(0.25, 0.15, 0.60)),
            (rng.uniform(6.5, 9.0, n), rng.uniform(11.5, 13.5, n), rng.uniform(18.0, 22.0, n)),
        ),
        "reflection_rate": rng.beta(6.0, 2.0, n),
        "hint_rate": rng.gamma(2.0, 0.35, n),
    }
    # Engagement (see docs/generator.md): keen learners sit higher; low effort goes with less.
    latent["engagement_baseline"] = rng.normal(ENGAGEMENT_MEDIAN, 0.3, n) + 0.4 * np.log(
        latent["effort_hours"] / 6.5
    )
    latent["engagement_drift"] = rng.normal(-0.008, 0.015, n)
    latent["engagement_volatility"] = rng.uniform(0.12, 0.3, n)
    latent["fade_rate"] = rng.beta(1.2, 75.0, n)
    latent["fade_speed"] = rng.uniform(0.075, 0.225, n)
    utc_offset = np.asarray([ORG_NAMES[o][2] for o in range(n_orgs)], dtype=float)[org]

    learners = pl.DataFrame(
        {
            "learner_id": ids,
            "org_id": organizations["org_id"].to_numpy()[org],
            "cohort_id": cohorts["cohort_id"].to_numpy()[cohort_of],
            "display_name": np.char.add(np.char.add(first, " "), last),
            "email": emails,
            "subscription_tier": np.asarray(SUBSCRIPTIONS)[subscription],
            "enrolled_at": pl.Series(enrolled_ms).cast(pl.Datetime("ms", "UTC")),
            "mentor_id": mentor_ids.astype(str),
        }
    )
    latent_frame = pl.DataFrame(
        {
            "learner_id": ids,
            "entry_tier": entry_tier,
            **{f"initial_{d}": initial[:, i] for i, d in enumerate(DOMAINS)},
            **{f"aptitude_{d}": aptitude[:, i] for i, d in enumerate(DOMAINS)},
            **latent,
            "utc_offset_hours": utc_offset,
        }
    )
    return Population(
        organizations=organizations,
        cohorts=cohorts,
        learners=learners,
        latent=latent_frame,
        track=track,
        start_week=start_week,
        entry_tier=entry_tier.astype(np.int32),
        initial=initial,
        aptitude=aptitude,
        utc_offset=utc_offset,
        mentor=mentor,
        mentor_speed=mentor_speed,
        registration=uuid_strings(rng, n),
        **latent,
    )
