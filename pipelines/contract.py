"""The landing-zone contract's vocabulary (PRODUCT.md section 2), shared by generator and ingestion.

Enumerations and ranges live here once; the generator writes them and ingestion enforces them.
"""

from __future__ import annotations

from engine.model import DOMAINS

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
