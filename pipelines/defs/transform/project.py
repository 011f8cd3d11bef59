"""The dbt project, and its manifest: built with `dbt parse` whenever the project changed.

`dagster dev` prepares the manifest itself; `cohortlens run`, tests and CI import the
definitions without it (PITFALLS.md 5), so importing them makes sure the manifest is current.
`dbt parse` reads no data and never opens the warehouse.
"""

import fcntl
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from dagster_dbt import DbtProject

from ...paths import REPO_ROOT

DBT_DIR = REPO_ROOT / "dbt"
# The dbt installed beside this Python, whether or not the environment is on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def _sources(project_dir: Path) -> list[Path]:
    files = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for folder in ("models", "macros", "tests"):
        files += sorted(p for p in (project_dir / folder).rglob("*") if p.is_file())
    return [p for p in files if p.exists()]


def _newest_source(project_dir: Path) -> float:
    return max(p.stat().st_mtime for p in _sources(project_dir))


def project_fingerprint(project_dir: Path = DBT_DIR) -> str:
    """A short digest of the dbt project's files and the pipeline's and engine's code: it
    changes when a model, test, macro or any step of a run does."""
    code = [
        path
        for folder in ("pipelines", "engine")
        for path in sorted((REPO_ROOT / folder).rglob("*.py"))
    ]
    digest = hashlib.sha256()
    for path in [*_sources(project_dir), *code]:
        digest.update(f"{path.relative_to(REPO_ROOT)}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """The manifest's path, after `dbt parse` if it is missing or older than the project.
    One process parses at a time (a lock beside it), into a folder of its own, and the new
    manifest replaces the old in one rename: a process that finds it current, without the
    lock, never reads one half written."""
    manifest = project.manifest_path
    if _manifest_is_current(manifest, project):
        return manifest
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with (manifest.parent / "manifest.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _manifest_is_current(manifest, project):
            with tempfile.TemporaryDirectory(dir=manifest.parent, prefix="parse-") as target:
                _parse(project, Path(target))
                os.replace(Path(target) / "manifest.json", manifest)
    return manifest


def _manifest_is_current(manifest: Path, project: DbtProject) -> bool:
    return manifest.exists() and manifest.stat().st_mtime >= _newest_source(project.project_dir)


def _parse(project: DbtProject, target: Path) -> None:
    subprocess.run(
        [
            DBT_EXECUTABLE,
            "parse",
            "--quiet",
            "--project-dir",
            str(project.project_dir),
            "--profiles-dir",
            str(project.profiles_dir),
            "--target-path",
            str(target),
        ],
        check=True,
        cwd=project.project_dir,
    )


def run_dbt(
    args: list[str], warehouse: Path, workdir: Path, timeout_s: float | None = 600, **run
) -> subprocess.CompletedProcess:
    """`dbt <args>` against ``warehouse`` as an analyst runs it, its target and logs in
    ``workdir`` (so runs side by side do not share them); output captured unless ``run`` says
    otherwise."""
    return subprocess.run(
        [
            DBT_EXECUTABLE,
            *args,
            "--target-path",
            str(workdir / "target"),
            "--log-path",
            str(workdir / "logs"),
        ],
        cwd=DBT_DIR,
        env={**os.environ, "COHORTLENS_WAREHOUSE": str(warehouse)},
        timeout=timeout_s,
        **({"capture_output": True, "text": True} | run),
    )
