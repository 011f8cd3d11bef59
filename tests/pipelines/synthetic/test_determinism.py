"""Same seed, same bytes; a longer horizon only adds days."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from pipelines.synthetic.generator import GenerateOptions, IncompatibleBatch, generate

START = dt.date(2026, 2, 2)


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run(out: Path, until: dt.date, **kw) -> None:
    generate(GenerateOptions(out=out, learners=150, seed=5, start_date=START, until=until, **kw))


def test_the_same_seed_gives_byte_identical_files(tmp_path: Path):
    run(tmp_path / "a" / "landing", START + dt.timedelta(days=27))
    run(tmp_path / "b" / "landing", START + dt.timedelta(days=27))
    a, b = digest(tmp_path / "a" / "landing"), digest(tmp_path / "b" / "landing")
    assert a == b
    assert any(name.endswith(".parquet") for name in a)
    assert sum(name.startswith("xapi/") for name in a) == 28


def test_another_seed_gives_other_data(tmp_path: Path):
    run(tmp_path / "a" / "landing", START + dt.timedelta(days=13))
    generate(
        GenerateOptions(
            out=tmp_path / "b" / "landing",
            learners=150,
            seed=6,
            start_date=START,
            until=START + dt.timedelta(days=13),
        )
    )
    a, b = digest(tmp_path / "a" / "landing"), digest(tmp_path / "b" / "landing")
    assert a["xapi/xapi_2026-02-12.jsonl"] != b["xapi/xapi_2026-02-12.jsonl"]


def test_a_later_horizon_keeps_every_earlier_file_and_only_adds_new_days(tmp_path: Path):
    landing = tmp_path / "grow" / "landing"
    run(landing, START + dt.timedelta(days=17))  # ends mid-week, mid-attempt for many
    before = digest(landing)
    run(landing, START + dt.timedelta(days=40))
    after = digest(landing)
    assert {k: after[k] for k in before} == before
    new_days = {k.rsplit("_", 1)[1].split(".")[0] for k in set(after) - set(before)}
    assert new_days and min(new_days) == (START + dt.timedelta(days=18)).isoformat()

    # ... and the grown folder equals a batch generated to the later horizon in one go.
    run(tmp_path / "once" / "landing", START + dt.timedelta(days=40))
    assert digest(tmp_path / "once" / "landing") == after


def test_gzip_output_is_reproducible_too(tmp_path: Path):
    for name in ("a", "b"):
        run(tmp_path / name / "landing", START + dt.timedelta(days=13), compress=True)
    a, b = digest(tmp_path / "a" / "landing"), digest(tmp_path / "b" / "landing")
    assert a == b
    assert any(name.endswith(".jsonl.gz") for name in a)


def test_a_folder_of_another_batch_is_refused(tmp_path: Path):
    landing = tmp_path / "x" / "landing"
    run(landing, START + dt.timedelta(days=3))
    with pytest.raises(IncompatibleBatch, match="seed"):
        generate(
            GenerateOptions(
                out=landing,
                learners=150,
                seed=99,
                start_date=START,
                until=START + dt.timedelta(days=3),
            )
        )


def test_truth_goes_beside_the_landing_folder_never_inside(tmp_path: Path):
    landing = tmp_path / "home" / "landing"
    run(landing, START + dt.timedelta(days=3))
    assert (tmp_path / "home" / "truth" / "competency_weekly.parquet").exists()
    assert not any("truth" in p.parts or p.suffix == ".json" for p in landing.rglob("*"))


class StopFollowing(Exception):
    pass


def test_follow_lands_one_more_day_at_a_time_and_keeps_the_truth(tmp_path: Path):
    landing = tmp_path / "f" / "landing"
    paced: list[dt.date] = []

    def pace(day: dt.date) -> None:
        if len(paced) == 3:
            raise StopFollowing
        paced.append(day)

    with pytest.raises(StopFollowing):
        generate(
            GenerateOptions(
                out=landing,
                learners=150,
                seed=5,
                start_date=START,
                until=START + dt.timedelta(days=8),
            ),
            pace=pace,
            follow=True,
        )
    assert paced == [START + dt.timedelta(days=d) for d in (9, 10, 11)]
    days = sorted(p.name for p in (landing / "xapi").iterdir())
    assert days[-1] == f"xapi_{START + dt.timedelta(days=11)}.jsonl"
    assert (tmp_path / "f" / "truth" / "competency_weekly.parquet").exists()
    # What follow landed equals a plain run to the same day.
    run(tmp_path / "plain" / "landing", START + dt.timedelta(days=11))
    assert digest(landing) == digest(tmp_path / "plain" / "landing")
