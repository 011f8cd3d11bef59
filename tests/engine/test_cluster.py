"""The engine's blocks on a real Dask cluster (a scheduler and two one-thread workers on
127.0.0.1): the same results as in-process, bit for bit, even when a worker is killed while it
computes a block."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from engine import forecast as fc
from engine.calibration import calibrate
from engine.cluster import ClusterUnavailable, DaskRunner, connect
from engine.simulated import simulated_cohort
from tests.engine.test_blocks import assert_same


@pytest.fixture(scope="module")
def calibrated():
    cohort = simulated_cohort(n=1200, weeks=16, seed=4)
    groups = np.arange(cohort.obs.n) % 5
    return cohort.obs, groups, calibrate(cohort.obs, groups, rounds=1)


def test_a_forecast_on_workers_equals_the_in_process_one_even_if_a_worker_dies(
    calibrated, dask_cluster, monkeypatch
):
    obs, groups, cal = calibrated
    monkeypatch.setattr(fc, "TASK_BLOCKS", 1)  # 12 tasks of 100 learners
    kwargs = dict(draws=100, horizon_weeks=30, seed=8, block_learners=100)
    here = fc.forecast(cal, obs, 20, groups, **kwargs)
    with dask_cluster.client() as client:
        pids = dask_cluster.worker_pids(client)
        killed: list[str] = []

        def kill_one_mid_task() -> None:  # as the OOM killer would, while a block computes
            deadline = time.monotonic() + 60
            while not killed and time.monotonic() < deadline:
                for worker, keys in client.processing().items():
                    if any(str(key).startswith("forecast-") for key in keys):
                        os.kill(pids[worker], signal.SIGKILL)
                        killed.append(worker)
                        return
                time.sleep(0.005)

        killer = threading.Thread(target=kill_one_mid_task)
        killer.start()
        runner = DaskRunner(client)
        there = fc.forecast(cal, obs, 20, groups, **kwargs, runner=runner)
        killer.join()
        assert killed, "no forecast task was seen running: nothing was killed"
        assert runner.traffic.tasks == 12 and runner.traffic.bytes_received > 0
        assert_same(here, there)
        client.wait_for_workers(2, timeout=60)  # its nanny starts it again, for other tests


def test_no_scheduler_is_one_clear_error():
    with pytest.raises(ClusterUnavailable, match=r"^no Dask scheduler answered at tcp://"):
        connect("tcp://127.0.0.1:9", timeout=0.5)
