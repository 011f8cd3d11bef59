from pathlib import Path

from pipelines.paths import REPO_ROOT, resolve_paths


def test_home_defaults_to_the_repository_data_folder():
    paths = resolve_paths(env={})
    assert paths.home == REPO_ROOT / "data"
    assert paths.landing == REPO_ROOT / "data" / "landing"
    assert paths.warehouse == REPO_ROOT / "data" / "warehouse.duckdb"


def test_cohortlens_home_moves_every_folder(tmp_path: Path):
    paths = resolve_paths(env={"COHORTLENS_HOME": str(tmp_path)})
    assert paths.landing == tmp_path / "landing"
    assert paths.truth == tmp_path / "truth"
    assert paths.serving == tmp_path / "serving"


def test_flags_override_single_paths_and_serving_follows_the_warehouse(tmp_path: Path):
    paths = resolve_paths(warehouse=tmp_path / "elsewhere" / "wh.duckdb", env={})
    assert paths.landing == REPO_ROOT / "data" / "landing"
    assert paths.serving == tmp_path / "elsewhere" / "serving"


def test_the_truth_folder_sits_beside_the_landing_folder(tmp_path: Path):
    paths = resolve_paths(landing=tmp_path / "replay" / "landing", env={})
    assert paths.truth == tmp_path / "replay" / "truth"
