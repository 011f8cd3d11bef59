"""Generator throughput: xAPI statements per second of a whole `generate` run.

Baseline, same run: copying the files it wrote (the disk's floor for writing those bytes).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from pipelines.synthetic.generator import GenerateOptions, generate

GOAL_STATEMENTS_PER_SECOND = 200_000


def run(learners: int, weeks: int, workdir: Path) -> Path:
    """Generate into `workdir`/landing, print the rates, and return the landing folder."""
    out = workdir / "landing"
    started = time.perf_counter()
    summary = generate(GenerateOptions(out=out, learners=learners, weeks=weeks, seed=1))
    seconds = time.perf_counter() - started
    statements = summary.records["xapi"]
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())

    copy_started = time.perf_counter()
    shutil.copytree(out, workdir / "copy")
    copy_seconds = time.perf_counter() - copy_started
    shutil.rmtree(workdir / "copy")

    rate = statements / seconds
    print(f"generate: {learners:,} learners x {weeks} weeks")
    print(f"  xAPI statements      {statements:,} ({statements / learners:,.0f} per learner)")
    print(
        f"  other records        {summary.records['mission_progress']:,} mission progress, "
        f"{summary.records['assessment_attempts']:,} assessment attempts"
    )
    print(f"  wrote                {size / 1e6:,.0f} MB in {seconds:,.1f} s")
    print(
        f"  statements/second    {rate:,.0f}  (goal {GOAL_STATEMENTS_PER_SECOND:,}: "
        f"ratio {rate / GOAL_STATEMENTS_PER_SECOND:.2f})"
    )
    print(
        f"  vs copying its files {copy_seconds:,.1f} s (generate / copy = "
        f"{seconds / copy_seconds:.1f}x)"
    )
    return out
