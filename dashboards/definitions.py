"""The definitions people read on the pages, taken from the dbt docs blocks
(dbt/models/docs/definitions.md) that also describe the marts' columns: written once."""

from __future__ import annotations

import functools
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "dbt" / "models" / "docs" / "definitions.md"
_BLOCK = re.compile(r"{%\s*docs\s+(\w+)\s*%}(.*?){%\s*enddocs\s*%}", re.DOTALL)

# The Definitions page: what each block is called, in reading order.
TITLES = {
    "readiness_score": "Readiness",
    "readiness_band": "Readiness band",
    "at_risk": "At risk (to contact this week)",
    "risk_priority": "Contact order",
    "at_risk_reasons": "Why (reasons)",
    "p_disengage_8w": "Chance of stopping in 8 weeks",
    "disengagement": "Disengaged",
    "competency_mastery": "Competency mastery",
    "tier5_complete": "Tier 5 completion",
    "tier4_complete": "Tier 4 completion",
    "p_mastery_by_target": "Chance of competency mastery by the target date",
    "weeks_to_mastery": "Weeks to competency mastery",
    "pass_rate": "Pass rate",
    "current_streak_days": "Streak",
    "longest_streak_days": "Longest streak",
    "total_points": "Points and levels",
    "n_active_7d": "Active in 7 days",
    "next_action": "Next action",
    "mentor_score": "Mentor and rubric scores",
}


@functools.cache
def _blocks() -> dict[str, str]:
    return {name: " ".join(body.split()) for name, body in _BLOCK.findall(DOCS.read_text("utf-8"))}


def text(name: str) -> str:
    """The definition called ``name`` (a dbt docs block), as one paragraph."""
    return _blocks()[name]


def all_definitions() -> list[tuple[str, str]]:
    """(title, definition) for the Definitions page, in reading order."""
    return [(title, text(name)) for name, title in TITLES.items()]
