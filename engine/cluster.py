"""The engine's blocks as tasks on a Dask cluster: a runner for engine/blocks.py.

The driver (the process that read the warehouse) builds each task's inputs, a few blocks of
learners' arrays, and submits them; workers compute and send back compact results (per-learner
summaries and their part of each cohort's fan), never touching the warehouse. A task's
arguments travel inside it, not as scattered data: when a worker dies, the scheduler still holds
what it needs to run the task again elsewhere (scattered data would die with the worker), and a
task rerun gives the same result, since blocks carry their own random streams.

At most ``window`` tasks are out at a time (by default twice the cluster's threads), so the
driver, the scheduler and each worker hold a bounded number of blocks however large the program
is. Results are yielded in task order, as the runner protocol requires.

Workers run each task on one engine thread: the worker's own threads are the parallelism. Start
them with ``dask worker --nthreads N`` (one per core) on the project's environment; their nanny
sets OMP/OpenBLAS threads to 1.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import os
import resource
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.blocks import IN_PROCESS, Runner, threads

CONNECT_TIMEOUT_S = 10.0  # a scheduler that does not answer within this is unreachable
WORKERS_TIMEOUT_S = 60.0  # ... and one without a worker after this is of no use
RETRIES = 2  # a task that raised is tried again this often (a lost worker is not counted here:
# the scheduler reruns its tasks elsewhere, up to distributed.scheduler.allowed-failures times)


class ClusterUnavailable(RuntimeError):
    """The scheduler cannot be reached, or has no workers; the message says which, in a line."""


@dataclass
class Traffic:
    """What went to the workers and came back (the arrays' bytes), and the time the tasks
    took on the workers: wall clock and the CPU time of the thread that ran them."""

    tasks: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    task_seconds: float = 0.0
    task_cpu_seconds: float = 0.0


def nbytes(value: Any) -> int:
    """The bytes of the arrays in ``value`` (through dataclasses, tuples, lists and dicts),
    plus the Python size of anything else: about what goes over the wire."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(nbytes(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, tuple | list):
        return sum(nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(nbytes(k) + nbytes(v) for k, v in value.items())
    return sys.getsizeof(value)


class DaskRunner:
    """Runs tasks on the cluster behind ``client``; see the module's docstring."""

    def __init__(self, client, *, window: int | None = None, retries: int = RETRIES):
        self.client = client
        self.window = window
        self.retries = retries
        self.traffic = Traffic()

    @property
    def address(self) -> str:
        return self.client.scheduler.address

    def workers(self) -> dict[str, int]:
        """Each worker's address and threads."""
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        return {address: w["nthreads"] for address, w in info.items()}

    @property
    def where(self) -> str:
        workers = self.workers()
        plural = "" if len(workers) == 1 else "s"
        return (
            f"a Dask cluster of {len(workers)} worker{plural}"
            f" ({sum(workers.values())} threads) at {self.address}"
        )

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple], *, name: str) -> Iterator[Any]:
        from distributed import as_completed

        window = self.window or max(2, 2 * sum(self.workers().values()))
        run = uuid.uuid4().hex[:8]
        todo = iter(tasks)
        live: dict[str, tuple[int, Any]] = {}  # future's key -> (task number, future)
        done: dict[int, Any] = {}
        pending = as_completed(loop=self.client.loop)
        submitted = next_out = 0

        def submit() -> bool:
            nonlocal submitted
            args = next(todo, None)
            if args is None:
                return False
            self.traffic.tasks += 1
            self.traffic.bytes_sent += nbytes(args)
            future = self.client.submit(
                _call, fn, *args, key=f"{name}-{run}-{submitted}", retries=self.retries
            )
            live[future.key] = (submitted, future)
            pending.add(future)
            submitted += 1
            return True

        try:
            while len(live) < window and submit():
                pass
            for future in pending:
                # The task's own error, or KilledWorker, raises here.
                result, seconds, cpu_seconds = future.result()
                self.traffic.bytes_received += nbytes(result)
                self.traffic.task_seconds += seconds
                self.traffic.task_cpu_seconds += cpu_seconds
                done[live.pop(future.key)[0]] = result
                future.release()
                while next_out in done:
                    yield done.pop(next_out)
                    next_out += 1
                while len(live) + len(done) < window and submit():
                    pass
        finally:  # stopped early, or failed: nothing is left running for nobody
            for _, future in live.values():
                future.cancel()

    def peak_memory(self) -> dict[str, int]:
        """Each worker process's peak resident memory since it started, in bytes."""
        return self.client.run(peak_rss)


def _call(fn: Callable[..., Any], *args: Any) -> tuple[Any, float, float]:
    """A task on a worker: the engine on one thread (the worker's threads are the cores).
    Returns the result, and the wall-clock and CPU seconds it took."""
    _heap_for_arrays()
    started, cpu = time.perf_counter(), time.thread_time()
    with threads(1):
        result = fn(*args)
    return result, time.perf_counter() - started, time.thread_time() - cpu


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
HEAP_ARRAYS_BYTES = 32 * 2**20


@functools.cache
def _heap_for_arrays() -> None:
    """Once per worker process: arrays under 32 MiB come from the heap again.

    Dask's nanny sets MALLOC_TRIM_THRESHOLD_ (so that freed memory goes back to the system),
    which also turns off glibc's dynamic mmap threshold: every array over 128 kB is then mapped,
    its pages zeroed, and unmapped, each time. The forecast's weekly temporaries took a quarter
    more CPU that way (benchmarks/RESULTS.md). The heap's top is still trimmed as the nanny
    wants; a worker started without that variable is left alone.
    """
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, HEAP_ARRAYS_BYTES)


def peak_rss() -> int:
    """This process's peak resident memory, in bytes: the high-water mark of its own memory
    (VmHWM), not getrusage's, which a spawned worker inherits from the process it was forked
    from."""
    with contextlib.suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def connect(
    address: str,
    timeout: float | None = None,
    workers_timeout: float = WORKERS_TIMEOUT_S,
):
    """A client of the scheduler at ``address`` with at least one worker; ClusterUnavailable
    in one line otherwise. ``timeout``: seconds (default CONNECT_TIMEOUT_S, or
    COHORTLENS_DASK_CONNECT_TIMEOUT)."""
    from distributed import Client

    if timeout is None:
        timeout = float(os.environ.get("COHORTLENS_DASK_CONNECT_TIMEOUT", CONNECT_TIMEOUT_S))
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterUnavailable(
            f"no Dask scheduler answered at {address} within {timeout:g} s ({reason})"
        ) from None
    try:
        client.wait_for_workers(1, timeout=workers_timeout)
    except (TimeoutError, OSError):
        client.close()
        raise ClusterUnavailable(
            f"the Dask scheduler at {address} has had no worker for {workers_timeout:g} s"
        ) from None
    return client


@contextlib.contextmanager
def runner_for(address: str | None, **connect_kwargs) -> Iterator[Runner]:
    """The in-process runner without an address; else a DaskRunner on that scheduler, its
    client closed on exit."""
    if not address:
        yield IN_PROCESS
        return
    client = connect(address, **connect_kwargs)
    try:
        yield DaskRunner(client)
    finally:
        client.close()
