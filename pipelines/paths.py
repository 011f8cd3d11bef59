"""Where things live: the one place that reads COHORTLENS_HOME, only when asked, never at import.

Everything sits under one home folder (default ``data/`` in the repository):
``landing/`` (files as the platform drops them), ``truth/`` (the generator's hidden ground truth),
``warehouse.duckdb`` (the pipeline's file) and ``serving/`` (the dashboards' snapshot, always
beside the warehouse it was published from).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
HOME_ENV = "COHORTLENS_HOME"


@dataclass(frozen=True)
class Paths:
    home: Path
    landing: Path
    warehouse: Path
    truth: Path

    @property
    def serving(self) -> Path:
        """The serving snapshot folder follows the warehouse, wherever that is."""
        return self.warehouse.parent / "serving"


def resolve_paths(
    landing: Path | str | None = None,
    warehouse: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> Paths:
    """Resolve the folders from COHORTLENS_HOME; explicit arguments override single paths."""
    env = os.environ if env is None else env
    home = Path(env.get(HOME_ENV) or REPO_ROOT / "data").expanduser().resolve()
    landing = Path(landing).expanduser().resolve() if landing else home / "landing"
    warehouse = Path(warehouse).expanduser().resolve() if warehouse else home / "warehouse.duckdb"
    # The generator writes its truth beside the landing folder (`generate --out`'s default).
    return Paths(home=home, landing=landing, warehouse=warehouse, truth=landing.parent / "truth")
