"""Shared fixtures: one small generated program, reused by every test that only reads it."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.synthetic.generator import GenerateOptions, GenerateSummary, generate

SMALL = {"learners": 400, "seed": 11, "start_date": dt.date(2026, 1, 5), "weeks": 14}


@dataclass(frozen=True)
class Batch:
    landing: Path
    truth: Path
    summary: GenerateSummary
    options: GenerateOptions


@pytest.fixture(scope="session")
def small_batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    root = tmp_path_factory.mktemp("program")
    opts = GenerateOptions(out=root / "landing", **SMALL)
    summary = generate(opts)
    return Batch(landing=opts.out, truth=opts.truth_dir, summary=summary, options=opts)


@dataclass(frozen=True)
class BuiltProgram:
    landing: Path
    warehouse: Path
    report: object  # pipelines.runner.RunReport


@pytest.fixture(scope="session")
def built_program(small_batch: Batch, tmp_path_factory: pytest.TempPathFactory) -> BuiltProgram:
    """The small program loaded and built once, through Dagster: raw tables, dbt models and
    forecasts (backtested against the generator's truth, copied beside the landing folder)."""
    from pipelines.runner import run_all

    root = tmp_path_factory.mktemp("built")
    landing = root / "landing"
    shutil.copytree(small_batch.landing, landing)
    shutil.copytree(small_batch.truth, root / "truth")
    report = run_all(landing, root / "warehouse.duckdb")
    return BuiltProgram(landing, root / "warehouse.duckdb", report)
