"""Shared fixtures: one small generated program, reused by every test that only reads it."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from filelock import FileLock

from pipelines.synthetic.generator import GenerateOptions, GenerateSummary, generate

# A real Dask cluster for the tests of the engine's blocks on workers: once per worker, on use.
from tests.engine.dask_cluster import dask_cluster  # noqa: F401

# A real LRS (Ralph) for the tests that pull xAPI: started once per worker, on first use.
from tests.lrs.fixtures import faulty_proxy, ralph_lrs, ralph_server  # noqa: F401

SMALL = {"learners": 400, "seed": 11, "start_date": dt.date(2026, 1, 5), "weeks": 14}


@dataclass(frozen=True)
class Batch:
    landing: Path
    truth: Path
    summary: GenerateSummary
    options: GenerateOptions


T = TypeVar("T")


def shared(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], T]) -> T:
    """``build(folder)`` once per test run, even across pytest-xdist's workers: the first to
    get here builds into a folder they all see; the others wait, then read what it left."""
    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    folder = root / f"shared-{name}"
    with FileLock(f"{folder}.lock"):
        result = folder / "result.pickle"
        if result.exists():
            return pickle.loads(result.read_bytes())
        folder.mkdir()
        value = build(folder)
        result.write_bytes(pickle.dumps(value))
        return value


@pytest.fixture(scope="session")
def small_batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    def build(root: Path) -> Batch:
        opts = GenerateOptions(out=root / "landing", **SMALL)
        summary = generate(opts)
        return Batch(landing=opts.out, truth=opts.truth_dir, summary=summary, options=opts)

    return shared(tmp_path_factory, "program", build)


@dataclass(frozen=True)
class BuiltProgram:
    landing: Path
    warehouse: Path
    report: object  # pipelines.runner.RunReport


@pytest.fixture(scope="session")
def built_program(small_batch: Batch, tmp_path_factory: pytest.TempPathFactory) -> BuiltProgram:
    """The small program loaded and built once, through Dagster: raw tables, dbt models and
    forecasts (backtested against the generator's truth, copied beside the landing folder).
    Read it, or copy it to change it: other tests, in other processes, read it too."""
    from pipelines.runner import run_all

    def build(root: Path) -> BuiltProgram:
        landing = root / "landing"
        shutil.copytree(small_batch.landing, landing)
        shutil.copytree(small_batch.truth, root / "truth")
        report = run_all(landing, root / "warehouse.duckdb")
        return BuiltProgram(landing, root / "warehouse.duckdb", report)

    return shared(tmp_path_factory, "built", build)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that need the built program run last: with several workers, one builds it
    while the others run everything else, instead of all of them waiting for it at the start."""
    items.sort(key=lambda item: "built_program" in item.fixturenames)
