"""A full disk: a load rolls back the batch it could not write and the next run, with room
again, resumes and loses nothing; a publication that would not fit is refused up front."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from dashboards import data
from dashboards.auth import Principal
from pipelines.cli import app
from pipelines.runner import run_all
from pipelines.serving import NotEnoughSpace, current, publish
from pipelines.warehouse import open_writer
from tests.pipelines.ingest.conftest import copy_days, table_snapshot

pytestmark = pytest.mark.slow  # each test mounts a file system of its own


@pytest.fixture
def small_disk(tmp_path):
    """``mount(megabytes)``: a tmpfs of that size, mounted by the test (as root), or resized."""
    point = tmp_path / "disk"
    point.mkdir()
    mounted = []

    def mount(megabytes: int):
        options = f"size={megabytes}m" + (",remount" if mounted else "")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(f"no file system of our own here: {done.stderr.strip()}")
        mounted.append(megabytes)
        return point

    yield mount
    if mounted:
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_a_load_that_fills_the_disk_rolls_back_and_the_next_run_resumes(
    small_batch, small_disk, tmp_path
):
    landing = tmp_path / "landing"
    copy_days(small_batch.landing, landing, days=14)
    clean = tmp_path / "clean" / "warehouse.duckdb"
    assert run_all(landing, clean, ingestion_only=True).ok
    needed_mb = sum(p.stat().st_size for p in clean.parent.glob("warehouse.duckdb*")) / 1e6
    disk = small_disk(max(2, int(needed_mb * 0.5)))
    warehouse = disk / "warehouse.duckdb"

    result = CliRunner().invoke(
        app, ["run", "--landing", str(landing), "--warehouse", str(warehouse)]
    )
    assert result.exit_code == 1, result.output
    assert "a disk is full" in result.output and "Traceback" not in result.output

    small_disk(int(needed_mb * 4) + 16)
    again = run_all(landing, warehouse, ingestion_only=True)
    assert again.ok, again.error
    assert table_snapshot(warehouse) == table_snapshot(clean), "nothing lost, nothing twice"


def test_a_publication_that_would_not_fit_is_refused_and_the_current_one_stays(
    tiny_warehouse, small_disk
):
    disk = small_disk(100)
    serving = disk / "serving"
    before = publish(tiny_warehouse, serving).snapshot
    ballast = disk / "ballast"
    free = shutil.disk_usage(disk).free
    # Leaves 30 MB: less than the margin a publication keeps free beyond what it writes.
    ballast.write_bytes(b"\0" * (free - 30 * 1024 * 1024))
    with open_writer(tiny_warehouse) as con:
        con.execute("update marts.learner_readiness set readiness_score = readiness_score + 1")
    with pytest.raises(NotEnoughSpace, match="the current snapshot stays"):
        publish(tiny_warehouse, serving)
    assert current(serving).path == before.path
    assert not data.query(serving, Principal("a", "admin"), "select * from scoped").is_empty()
    half_written = [p for p in serving.rglob(".*") if p.name != ".publishing.lock"]
    assert half_written == [], "nothing half-written is left"
    ballast.unlink()
    assert publish(tiny_warehouse, serving).copied == ["marts.learner_readiness"]
