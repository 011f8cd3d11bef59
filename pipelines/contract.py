"""The landing-zone contract's vocabulary (PRODUCT.md section 2), shared by generator and ingestion.

Enumerations and ranges live here once; the generator writes them and ingestion enforces them.
"""

from __future__ import annotations

import numpy as np

# The four competency domains, in the column order of every (n, 4) competency array. The
# engine keeps its own copy (engine/model.py; a test holds them equal): the generator must
# not borrow the engine's code.
DOMAINS: tuple[str, ...] = ("knowledge", "skills", "application", "ethics")
N_DOMAINS = len(DOMAINS)
BASELINE_COMPETENCY = 0.20  # a novice's competency in every domain (PRODUCT.md section 4)
# Mastery (PRODUCT.md section 4): mean competency at least this, population variance over the
# four domains at most that.
MASTERY_MEAN = 0.80
MASTERY_VARIANCE = 0.01


def is_mastered(competency: np.ndarray) -> np.ndarray:
    """Mastery by the specification's rule; competency (..., 4), returns bool (...)."""
    c = np.asarray(competency, dtype=float)
    # Sums of the four slices, as engine.model.mean_and_variance adds them: the same floats.
    parts = [c[..., d] for d in range(c.shape[-1])]
    mean = sum(parts[1:], parts[0]) / len(parts)
    variance = sum(((x - mean) ** 2 for x in parts[1:]), (parts[0] - mean) ** 2) / len(parts)
    return (mean >= MASTERY_MEAN) & (variance <= MASTERY_VARIANCE)


TIERS = ("beginner", "intermediate", "advanced", "mastery")
MISSION_TYPES = ("standard", "capstone")
SUBSCRIPTION_TIERS = ("free", "starter3", "professional7")
ASSESSMENT_TYPES = ("quiz", "practical", "project", "supervised_practice")
COMPETENCY_DOMAINS = DOMAINS
QUESTION_LEVELS = ("beginner", "intermediate", "advanced")

# Mission progress lifecycle, in the order a record moves through it.
MISSION_STATUSES = (
    "not_started",
    "in_progress",
    "submitted",
    "ai_reviewed",
    "mentor_review",
    "revision_requested",
    "approved",
    "rejected",
)
FINAL_STATUSES = ("pass", "fail", "pending")
ATTEMPT_STATUSES = ("in_progress", "submitted", "graded")

MAX_SUBTASKS = 8
RUBRIC_CATEGORIES = (
    "technical_accuracy",
    "evidence_quality",
    "methodology",
    "communication",
    "ethics_compliance",
)
CAPSTONE_PHASES = (
    "investigation",
    "decision_making",
    "design_remediation",
    "reporting",
    "presentation",
)

# xAPI (1.0.3): the program's own accounts, and the forms of actor and object a statement may use.
PROGRAM_HOME_PAGE = "https://learn.cohortlens.example"  # account.homePage; name = learner_id
VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"
ACTOR_TYPES = ("Agent", "Group")
OBJECT_TYPES = ("Activity", "Agent", "Group", "StatementRef", "SubStatement")
IFI_TYPES = ("mbox", "mbox_sha1sum", "openid", "account")  # inverse functional identifiers
