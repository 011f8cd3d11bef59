"""The program's reference data: tracks, missions, modules, assessments and questions.

The catalog depends on the seed only (never on the number of learners or the horizon), so every
batch of one program shares it. Hidden properties the generator uses (a mission's true difficulty,
a question's true difficulty and discrimination) are kept in the truth tables, not in the landing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ..contract import (  # noqa: F401  (re-exported for the simulation)
    CAPSTONE_PHASES,
    DOMAINS,
    MAX_SUBTASKS,
    QUESTION_LEVELS,
    RUBRIC_CATEGORIES,
    TIERS,
)

TRACKS: dict[str, dict] = {
    # code, emphasis over (knowledge, skills, application, ethics), tools seen in labs
    "defender": {
        "code": "DEF",
        "emphasis": (1.0, 1.6, 1.5, 0.7),
        "tools": ("splunk", "wireshark", "sysmon", "velociraptor", "suricata", "zeek"),
    },
    "offensive": {
        "code": "OFF",
        "emphasis": (0.9, 1.8, 1.4, 0.8),
        "tools": ("nmap", "burp_suite", "metasploit", "bloodhound", "ghidra", "hashcat"),
    },
    "grc": {
        "code": "GRC",
        "emphasis": (1.6, 0.8, 1.0, 1.5),
        "tools": ("nist_csf", "iso27001_toolkit", "risk_register", "archer", "vanta", "opa"),
    },
    "innovation": {
        "code": "INN",
        "emphasis": (1.1, 1.5, 1.7, 0.7),
        "tools": ("python", "jupyter", "terraform", "github_actions", "docker", "sigma"),
    },
    "leadership": {
        "code": "LEAD",
        "emphasis": (1.3, 0.8, 1.3, 1.6),
        "tools": ("tabletop_kit", "raci_matrix", "incident_playbook", "okr_board", "jira", "miro"),
    },
}
MISSIONS_PER_TIER = 6
MODULES_PER_TIER = 3
VIDEOS_PER_MODULE = 4

# Labelled difficulty of the six missions of each tier, in the order learners meet them: mixed,
# so that labelled difficulty is not confounded with how far into a tier a learner is.
TIER_DIFFICULTIES = {
    "beginner": (2, 1, 3, 1, 2, 1),
    "intermediate": (3, 2, 4, 2, 3, 2),
    "advanced": (4, 3, 5, 3, 4, 3),
    "mastery": (5, 4, 5, 4, 4, 5),
}
# The last two missions of a tier are optional, except in mastery where the last is the capstone.
TIER_SUBTASKS = {"beginner": (1, 3), "intermediate": (2, 5), "advanced": (4, 8), "mastery": (5, 8)}
TIER_HOURS = {
    "beginner": (2, 4, 8, 24),
    "intermediate": (8, 24, 48, 72),
    "advanced": (24, 48, 72, 120, 168),
    "mastery": (72, 120, 168),
}
# True difficulty (competency at which a typical item is answered correctly half the time).
QUESTION_LEVEL_DIFFICULTY = {"beginner": 0.15, "intermediate": 0.32, "advanced": 0.50}


@dataclass(frozen=True)
class Catalog:
    """Reference tables (as written to the landing zone) plus the arrays the simulation needs."""

    missions: pl.DataFrame
    modules: pl.DataFrame
    assessments: pl.DataFrame
    questions: pl.DataFrame
    mission_truth: pl.DataFrame
    question_truth: pl.DataFrame

    # Simulation arrays, indexed [track, tier, position].
    mission_index: np.ndarray  # (tracks, tiers, MISSIONS_PER_TIER) row of `missions`
    module_index: np.ndarray  # (tracks, tiers, MODULES_PER_TIER) row of `modules`


def _domain_shares(rng: np.random.Generator, emphasis: tuple[float, ...]) -> np.ndarray:
    """Four shares that sum to exactly 1.00 at two decimals."""
    raw = rng.dirichlet(np.asarray(emphasis) * 4.0)
    shares = np.round(raw, 2)
    shares[np.argmax(shares)] += round(1.0 - shares.sum(), 2)
    return np.round(shares, 2)


def build_catalog(seed: int) -> Catalog:
    rng = np.random.default_rng([seed, 0xCA7A])
    # The signals planted for the tool, stage-time and drop-off marts draw from a stream of
    # their own, so that adding them changed no other draw of the catalog.
    planted = np.random.default_rng([seed, 0x7001])
    missions, mission_truth, modules, assessments, questions, question_truth = (
        [],
        [],
        [],
        [],
        [],
        [],
    )
    mission_index = np.zeros((len(TRACKS), len(TIERS), MISSIONS_PER_TIER), dtype=np.int32)
    module_index = np.zeros((len(TRACKS), len(TIERS), MODULES_PER_TIER), dtype=np.int32)

    for t, (track, spec) in enumerate(TRACKS.items()):
        for r, tier in enumerate(TIERS):
            prefix = f"{spec['code']}-{tier[:3].upper()}"
            lo, hi = TIER_SUBTASKS[tier]
            for k, label in enumerate(TIER_DIFFICULTIES[tier]):
                capstone = tier == "mastery" and k == MISSIONS_PER_TIER - 1
                mission_id = f"{prefix}-{k + 1:02d}"
                shares = _domain_shares(rng, spec["emphasis"])
                # About one mission in twelve is mislabelled by more than a level.
                shift = rng.choice((-1.6, 1.6)) if rng.random() < 0.08 else 0.0
                true_difficulty = float(np.clip(label + rng.normal(0, 0.2) + shift, 0.5, 5.5))
                mission_index[t, r, k] = len(missions)
                missions.append(
                    {
                        "mission_id": mission_id,
                        "title": f"{track.title()} {tier} mission {k + 1}"
                        + (" (capstone)" if capstone else ""),
                        "track": track,
                        "tier": tier,
                        "mission_type": "capstone" if capstone else "standard",
                        "difficulty": label,
                        "time_constraint_hours": 168
                        if capstone
                        else int(rng.choice(TIER_HOURS[tier])),
                        "subtask_count": 8 if capstone else int(rng.integers(lo, hi + 1)),
                        "required": capstone or k < MISSIONS_PER_TIER - 2,
                        **{f"weight_{d}": float(s) for d, s in zip(DOMAINS, shares, strict=True)},
                    }
                )
                subtasks = missions[-1]["subtask_count"]
                mission_truth.append(
                    {
                        "mission_id": mission_id,
                        "true_difficulty": true_difficulty,
                        # The tool passing attempts use far more often than failing ones.
                        "key_tool": spec["tools"][int(planted.integers(len(spec["tools"])))],
                        # The stage that takes longest, and where most missed deadlines stop.
                        "heavy_stage": int(planted.integers(1, subtasks + 1)),
                    }
                )
            for m in range(MODULES_PER_TIER):
                module_id = f"{prefix}-MOD{m + 1}"
                module_index[t, r, m] = len(modules)
                modules.append(
                    {
                        "module_id": module_id,
                        "track": track,
                        "tier": tier,
                        "module_number": m + 1,
                        "title": f"{track.title()} {tier} module {m + 1}",
                        "required": m < MODULES_PER_TIER - 1,
                        "content_hours": float(np.round(rng.uniform(3.0, 6.0), 1)),
                    }
                )
                kinds = ["quiz"]
                if r >= 1 and m == 1:
                    kinds.append("practical")
                if r == 2 and m == 2:
                    kinds.append("supervised_practice")
                if r == 3 and m == 2:
                    kinds.append("project")
                for kind in kinds:
                    assessment_id = f"{module_id}-{kind[:4].upper()}"
                    n_questions = {"quiz": 10, "practical": 6, "supervised_practice": 5}.get(
                        kind, 4
                    )
                    assessments.append(
                        {
                            "assessment_id": assessment_id,
                            "module_id": module_id,
                            "title": f"{module_id} {kind.replace('_', ' ')}",
                            "assessment_type": kind,
                            "passing_score": 0.80
                            if kind == "quiz"
                            else float(rng.choice((0.7, 0.75))),
                            "max_attempts": 3 if kind == "quiz" else None,
                        }
                    )
                    level_weights = np.array([[6, 3, 1], [3, 5, 2], [1, 4, 5], [1, 3, 6]][r], float)
                    emphasis = np.asarray(spec["emphasis"])
                    for q in range(n_questions):
                        level = QUESTION_LEVELS[
                            rng.choice(3, p=level_weights / level_weights.sum())
                        ]
                        domain = DOMAINS[rng.choice(4, p=emphasis / emphasis.sum())]
                        qtype = (
                            str(rng.choice(("multiple_choice", "true_false", "short_answer")))
                            if kind == "quiz"
                            else str(rng.choice(("scenario", "practical_task")))
                        )
                        question_id = f"{assessment_id}-Q{q + 1:02d}"
                        questions.append(
                            {
                                "question_id": question_id,
                                "assessment_id": assessment_id,
                                "question_type": qtype,
                                "competency_domain": domain,
                                "difficulty_level": level,
                                "points": {"beginner": 1, "intermediate": 2, "advanced": 3}[level]
                                * (1 if kind == "quiz" else 2),
                            }
                        )
                        question_truth.append(
                            {
                                "question_id": question_id,
                                "true_difficulty": QUESTION_LEVEL_DIFFICULTY[level]
                                + rng.normal(0, 0.05),
                                "discrimination": float(rng.lognormal(np.log(8.0), 0.3)),
                                "guessing": {"multiple_choice": 0.25, "true_false": 0.5}.get(
                                    qtype, 0.0
                                ),
                            }
                        )

    return Catalog(
        missions=pl.DataFrame(missions),
        modules=pl.DataFrame(modules),
        assessments=pl.DataFrame(
            assessments, schema_overrides={"max_attempts": pl.Int64, "passing_score": pl.Float64}
        ),
        questions=pl.DataFrame(questions),
        mission_truth=pl.DataFrame(mission_truth),
        question_truth=pl.DataFrame(question_truth),
        mission_index=mission_index,
        module_index=module_index,
    )
