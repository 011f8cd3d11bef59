"""The dbt manifest is made once and never read half written, with many processes at once."""

from __future__ import annotations

import json
import shutil
import threading
import time

from dagster_dbt import DbtProject

from pipelines.defs.transform import project as project_module
from pipelines.defs.transform.project import DBT_DIR, ensure_manifest


def test_readers_never_see_a_manifest_half_written(tmp_path, monkeypatch):
    copy = tmp_path / "dbt"
    shutil.copytree(DBT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    project = DbtProject(project_dir=copy, profiles_dir=copy)
    parses = []

    def slow_parse(project, target):
        """Writes a large manifest in pieces, as dbt does, slowly."""
        parses.append(target)
        body = json.dumps({"nodes": {f"model.x.m{i}": {"name": "m" * 200} for i in range(5000)}})
        with (target / "manifest.json").open("w") as out:
            for start in range(0, len(body), 100_000):
                out.write(body[start : start + 100_000])
                out.flush()
                time.sleep(0.02)

    monkeypatch.setattr(project_module, "_parse", slow_parse)
    errors = []

    def reader():
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            try:
                json.loads(ensure_manifest(project).read_text())
            except Exception as error:  # a torn manifest shows here
                errors.append(error)
                return

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[0]
    assert len(parses) == 1, "one parse for everyone"
    assert not any(p.name.startswith("parse-") for p in project.manifest_path.parent.iterdir())
