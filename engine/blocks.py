"""Where a batch's independent tasks run: in this process, or on a cluster (engine/cluster.py).

Calibration, forecasts, backtests and the disengagement model split their learners into blocks
whose results depend on nothing but the block (each block has its own random streams, spawned
from one seed). A *runner* computes ``fn(*args)`` for a sequence of such tasks and yields the
results in task order; the caller combines them in that order. So a result is the same
wherever the tasks ran, and however many workers ran them.

:data:`IN_PROCESS` runs them one after another, lazily: a task's arguments are built when it is
reached, and its result is consumed before the next one starts, so memory holds one task at a
time, as before there was a runner. Inside a task the engine may still use every core of the
machine (numpy threads, see :func:`engine.model.simulate`); a cluster's worker sets
:func:`threads` to 1 so that its own threads are the parallelism.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

_THREADS: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "engine_threads", default=None
)


def thread_count() -> int:
    """Threads the engine's numpy kernels may use here: set by :func:`threads`, else every
    core."""
    return _THREADS.get() or os.cpu_count() or 1


@contextlib.contextmanager
def threads(n: int | None) -> Iterator[None]:
    """The engine uses at most ``n`` threads inside this block (None: every core)."""
    token = _THREADS.set(n)
    try:
        yield
    finally:
        _THREADS.reset(token)


class Runner(Protocol):
    """Runs independent tasks and yields their results in task order."""

    @property
    def where(self) -> str:
        """Where the tasks run, for run summaries: "in-process" or the cluster."""
        ...

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple], *, name: str) -> Iterator[Any]:
        """``fn(*args)`` for each ``args`` of ``tasks``, in order. ``name`` labels the tasks
        (a cluster shows it). ``fn`` must be a module-level function (picklable by name)."""
        ...


class InProcess:
    """Every task here, one after another (the default)."""

    where = "in-process"

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple], *, name: str) -> Iterator[Any]:
        for args in tasks:
            yield fn(*args)


IN_PROCESS = InProcess()


def runner_or_default(runner: Runner | None) -> Runner:
    return IN_PROCESS if runner is None else runner
