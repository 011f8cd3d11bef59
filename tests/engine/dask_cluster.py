"""A real Dask cluster for the tests: `dask scheduler` and two `dask worker` processes from the
project's environment, on 127.0.0.1, one thread each.

Started once per test session (per pytest-xdist worker), on first use, and stopped at its end:
each process in a session of its own (a worker's nanny and its worker process stop together),
asked to stop, then killed. Should pytest itself die, the kernel stops them too (they get
SIGTERM when their parent goes, PR_SET_PDEATHSIG). PITFALLS.md item 16: no LocalCluster here,
which would re-import the tests in its processes.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
START_TIMEOUT = 90.0  # seconds; about 5 on an idle machine
PR_SET_PDEATHSIG = 1


@dataclass
class DaskCluster:
    address: str  # tcp://127.0.0.1:PORT
    home: Path  # the scheduler's and workers' logs and local folders
    processes: list[subprocess.Popen] = field(default_factory=list)

    def client(self):
        from distributed import Client

        return Client(self.address, timeout=30, set_as_default=False)

    def worker_pids(self, client) -> dict[str, int]:
        """Each worker's address and the pid of its worker process (the nanny's child)."""
        return client.run(os.getpid)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(
            f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
            for log in sorted(self.home.glob("*.log"))
        )


class ClusterNotStarted(RuntimeError):
    pass


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(cluster: DaskCluster, name: str, args: list[str]) -> subprocess.Popen:
    with (cluster.home / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "dask"), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cluster.home,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    cluster.processes.append(process)
    return process


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextlib.contextmanager
def start_cluster(home: Path, workers: int = 2) -> Iterator[DaskCluster]:
    """A scheduler on a free port (it picks one and writes it to its scheduler file) and
    ``workers`` workers of one thread, until exit."""
    cluster = DaskCluster("", home)
    scheduler_file = home / "scheduler.json"
    try:
        scheduler = _spawn(
            cluster,
            "scheduler",
            [
                *("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"),
                *("--scheduler-file", str(scheduler_file)),
            ],
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not scheduler_file.exists():
            if scheduler.poll() is not None or time.monotonic() > deadline:
                raise ClusterNotStarted(f"no scheduler:\n{cluster.log_tail()}")
            time.sleep(0.05)
        while not cluster.address:
            with contextlib.suppress(json.JSONDecodeError):  # being written
                cluster.address = json.loads(scheduler_file.read_text())["address"]
            time.sleep(0.02)
        for i in range(workers):
            _spawn(
                cluster,
                f"worker-{i}",
                [
                    *("worker", cluster.address, "--nthreads", "1", "--host", "127.0.0.1"),
                    *("--name", f"w{i}", "--no-dashboard", "--death-timeout", "60"),
                    *("--local-directory", str(home / f"worker-{i}")),
                ],
            )
        with cluster.client() as client:
            try:
                client.wait_for_workers(workers, timeout=max(deadline - time.monotonic(), 1))
            except TimeoutError:
                raise ClusterNotStarted(f"workers not up:\n{cluster.log_tail()}") from None
        yield cluster
    finally:
        _stop(cluster.processes[::-1])  # workers first, then the scheduler


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    try:
        with start_cluster(tmp_path_factory.mktemp("dask")) as cluster:
            yield cluster
    except ClusterNotStarted as error:
        pytest.fail(str(error))
