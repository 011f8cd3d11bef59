"""How a learner's true competency moves from week to week: the generator's own processes.

The engine forecasts with seed 004's four-domain model; a generator that moved competency with
that same model would test the engine on its home ground. So there is another, published
account of learning here, and seed 004's model written out again (the generator imports no
engine code):

- ``practice`` (the default): each domain is three skills. A week's study time is practice, spread
  unevenly over the skills. Each skill's practice is remembered with exponential forgetting,
  and its performance follows the power law of practice (Newell & Rosenbloom 1981; the
  practice-with-decay form is ACT-R's, Anderson 1993): the error left, 1 - level, falls as
  (1 + rate * practice)^-EXPONENT from where the learner started. A domain's competency is the
  mean of its skills' levels. docs/generator.md, "True competency".
- ``seed004``: seed 004's update with the diagonal of D, Michaelis-Menten gain and linear
  decay, as the generator used before (its output is unchanged, byte for byte): the engine's
  own model, for the tests where the engine must be exact (``--dynamics seed004``).

Both work on state of shape (n, 4) per learner and domain (practice keeps (n, 4, 3) skills
behind it) and are advanced once a week for the learners whose cohort has started.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..contract import N_DOMAINS

if TYPE_CHECKING:  # the CLI imports this module for its choices: keep polars out of it
    from .population import Population

DYNAMICS = ("practice", "seed004")
DEFAULT_DYNAMICS = "practice"

# seed004: K_m and the diagonal of D, the seed's defaults.
SEED004_K_M = 0.5
SEED004_DIFFUSION_DIAGONAL = 0.15

# practice
SKILLS_PER_DOMAIN = 3
EXPONENT = 0.7  # of the power law; 0.2 to 1 in the skill-acquisition literature
# The law's scale of practice (hours times quality): a skill of typical rate has shed
# 1 - 2^-0.7, about 38 %, of its error after this much. Set so that, as under seed 004, a
# steady learner masters in months and about a fifth of a program within 26 weeks.
PRACTICE_SCALE = 1.5
TYPICAL_RATE = 0.19  # the population's median v_max: a learner's rate is v_max / this
SKILL_RATE_SPREAD = 0.35  # log-normal sigma of a skill's rate around its domain's
FORGETTING_SPREAD = 0.3  # log-normal sigma of a skill's forgetting around the learner's
FOCUS_SHAPE = 2.0  # gamma shape of a week's split of practice over the twelve skills


class Seed004:
    """Seed 004's step: C += D_ii * sum_j (C_j - C_i) + V_max S a (1-C)/(K_m + 1-C) - lambda C,
    clipped to [0, 1], with per-learner V_max, lambda and aptitude weights a (n, 4)."""

    def __init__(self, pop: Population):
        self.competency = np.asarray(pop.initial, dtype=float).copy()
        self.v_max = np.asarray(pop.v_max, dtype=float)[:, None]
        self.decay = np.asarray(pop.decay, dtype=float)[:, None]
        self.aptitude = pop.aptitude

    def advance(self, week: int, stimulus, hours, started) -> np.ndarray:
        c = self.competency
        # The operations of engine.model.step, in its order, so the floats are the same.
        laplacian = c.sum(axis=1, keepdims=True) - N_DOMAINS * c
        gap = 1.0 - c
        gain = self.v_max * np.asarray(stimulus, dtype=float)[:, None] * gap / (SEED004_K_M + gap)
        gain = gain * self.aptitude
        rate = SEED004_DIFFUSION_DIAGONAL * laplacian + gain - self.decay * c
        moved = np.clip(c + rate * 1.0, 0.0, 1.0)
        self.competency = np.where(started[:, None], moved, c)
        return self.competency


@dataclass
class Practice:
    """Per-skill practice with power-law learning and exponential forgetting.

    start: (n, 4, 3) level of each skill before any practice (the learner's entry
    competency); rate: (n, 4, 3) practice-to-progress rate; forgetting: (n, 4, 3) weekly
    rate at which remembered practice fades; practice: (n, 4, 3) remembered practice.
    """

    seed: int
    quality: np.ndarray  # (n,) practice an hour of study gives
    start: np.ndarray
    rate: np.ndarray
    forgetting: np.ndarray
    practice: np.ndarray

    @classmethod
    def for_population(cls, seed, pop: Population) -> Practice:
        initial, v_max, decay, aptitude = pop.initial, pop.v_max, pop.decay, pop.aptitude
        n = len(v_max)
        shape = (n, N_DOMAINS, SKILLS_PER_DOMAIN)
        rng = np.random.default_rng([seed, 0x5C1B])  # its own stream: others stay as they were
        rate = (
            (np.asarray(v_max) / TYPICAL_RATE)[:, None, None]
            * np.asarray(aptitude)[:, :, None]
            * rng.lognormal(0.0, SKILL_RATE_SPREAD, shape)
        )
        forgetting = np.asarray(decay)[:, None, None] * rng.lognormal(0.0, FORGETTING_SPREAD, shape)
        start = np.repeat(np.asarray(initial, dtype=float)[:, :, None], SKILLS_PER_DOMAIN, axis=2)
        return cls(seed, pop.quality, start, rate, forgetting, np.zeros(shape))

    @property
    def skills(self) -> np.ndarray:
        """(n, 4, 3) each skill's level on [0, 1]: the chance of performing it correctly."""
        remaining = (1.0 + self.rate * self.practice / PRACTICE_SCALE) ** -EXPONENT
        return 1.0 - (1.0 - self.start) * remaining

    @property
    def competency(self) -> np.ndarray:
        return self.skills.mean(axis=2)

    def advance(self, week: int, stimulus, hours, started) -> np.ndarray:
        """A week of study: ``hours`` (n,) of practice at the learner's quality (the seed's
        stimulus, which saturates at 10 hours, plays no part), split unevenly over skills."""
        n = len(hours)
        rng = np.random.default_rng([self.seed, 0x5C1B, week])
        focus = rng.gamma(FOCUS_SHAPE, 1.0, (n, N_DOMAINS * SKILLS_PER_DOMAIN))
        focus = (focus / focus.sum(axis=1, keepdims=True)).reshape(self.practice.shape)
        units = (self.quality * hours)[:, None, None] * focus
        fade = np.exp(-self.forgetting)
        self.practice = np.where(
            started[:, None, None], self.practice * fade + units, self.practice
        )
        return self.competency


def build_dynamics(name: str, seed: int, pop: Population) -> Seed004 | Practice:
    """The dynamics ``name`` (one of DYNAMICS) for a population's latent parameters."""
    if name == "seed004":
        return Seed004(pop)
    if name == "practice":
        return Practice.for_population(seed, pop)
    raise ValueError(f"unknown dynamics {name!r}: choose one of {', '.join(DYNAMICS)}")
