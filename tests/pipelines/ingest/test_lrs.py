"""Pulling from a real LRS (Ralph, started by tests/lrs/conftest.py): pages, cursor, lookback,
retries, clear errors, no secret anywhere, and nothing lost or repeated when a pull is killed."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.contract import VOIDED_VERB
from pipelines.ingest.loader import Loader
from pipelines.ingest.lrs import LRSConfig, LRSError, _utc, pull
from pipelines.ingest.sources import SOURCES
from pipelines.warehouse import open_writer
from tests.lrs.fixtures import RalphLRS

from .conftest import Landing


@pytest.fixture
def lrs_landing(small_batch, tmp_path: Path) -> Landing:
    """The small program's reference data, loaded; no events yet."""
    root = tmp_path / "landing"
    shutil.copytree(small_batch.landing / "reference", root / "reference")
    landing = Landing(root, tmp_path / "warehouse.duckdb", small_batch.landing)
    landing.load()
    return landing


def _config(lrs, **overrides) -> LRSConfig:
    settings = {
        "endpoint": lrs.endpoint,
        "username": lrs.username,
        "password": lrs.password,
        "backoff_s": 0.01,
    }
    return LRSConfig(**(settings | overrides))


def _pull(landing: Landing, config: LRSConfig):
    with open_writer(landing.warehouse) as con:
        return pull(con, landing.root, config)


def _landed_ids(landing: Landing) -> list[str]:
    ids = []
    for path in sorted((landing.root / "xapi").glob("xapi_lrs_*.jsonl.gz")):
        with gzip.open(path, "rt") as lines:
            ids += [json.loads(line)["id"].lower() for line in lines]
    return ids


def _shifted(statements: list[dict], days: int) -> list[dict]:
    """Copies under new ids, `days` later (a later part of the program)."""
    out = []
    for s in statements:
        when = dt.datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00"))
        later = (when + dt.timedelta(days=days)).isoformat(timespec="milliseconds")
        out.append(s | {"id": str(uuid.uuid4()), "timestamp": later.replace("+00:00", "Z")})
    return out


def test_two_pulls_with_statements_posted_between(lrs_landing, ralph_lrs: RalphLRS):
    first = lrs_landing.sample("xapi", 250)
    ralph_lrs.post(first)
    summary = _pull(lrs_landing, _config(ralph_lrs))
    assert (summary.received, summary.written, summary.pages) == (250, 250, 3)
    assert summary.since is None and summary.cursor is not None

    second = _shifted(first[:120], days=1)
    voiding = {
        "id": str(uuid.uuid4()),
        "actor": {"mbox": "mailto:lrs-admin@cohortlens.example"},
        "verb": {"id": VOIDED_VERB},
        "object": {"objectType": "StatementRef", "id": first[0]["id"]},
        "timestamp": second[-1]["timestamp"],
    }
    ralph_lrs.post([*second, voiding])
    again = _pull(lrs_landing, _config(ralph_lrs))
    # Asked from the lookback window: the first pull's last day is sent again and dropped.
    assert again.since == summary.cursor - dt.timedelta(hours=24)
    assert again.written == len(second) + 1 and again.received > again.written

    (outcome_1, outcome_2) = [o for o in lrs_landing.load() if o.source == "xapi"]
    assert outcome_1.rows_loaded + outcome_2.rows_loaded == 250 + 121
    assert outcome_1.rows_duplicate + outcome_2.rows_duplicate == 0
    assert sorted(_landed_ids(lrs_landing)) == sorted(
        s["id"] for s in [*first, *second, voiding]
    ), "each statement in one landing file, once"
    assert (
        lrs_landing.scalar(
            "select voided_by::varchar from raw.xapi_statements where statement_id = ?",
            [first[0]["id"]],
        )
        == voiding["id"]
    )


def test_a_statement_stored_late_with_an_old_timestamp_is_pulled(lrs_landing, ralph_lrs):
    """Ralph's `since` compares the statement's timestamp: one stored after the last pull but
    dated before its cursor is still asked for, within the lookback window."""
    statements = lrs_landing.sample("xapi", 30)
    ralph_lrs.post(statements[:-1])
    summary = _pull(lrs_landing, _config(ralph_lrs))
    late = statements[-1] | {
        "timestamp": (summary.cursor - dt.timedelta(hours=3)).isoformat() + "Z"
    }
    ralph_lrs.post([late])
    assert _pull(lrs_landing, _config(ralph_lrs)).written == 1
    shorter = _config(ralph_lrs, lookback=dt.timedelta(hours=1))
    ralph_lrs.post([statements[0] | {"id": str(uuid.uuid4()), "timestamp": late["timestamp"]}])
    assert _pull(lrs_landing, shorter).written == 0, "outside a 1-hour window: missed"


def test_the_cursor_is_kept_in_the_warehouse(lrs_landing, ralph_lrs):
    ralph_lrs.post(lrs_landing.sample("xapi", 10))
    cursor = _pull(lrs_landing, _config(ralph_lrs)).cursor
    # Another process, another connection: the cursor comes from the warehouse.
    assert lrs_landing.query("select endpoint, cursor_at from audit.lrs_cursors") == [
        (ralph_lrs.endpoint, cursor)
    ]
    assert _pull(lrs_landing, _config(ralph_lrs)).written == 0


def test_429_500_and_a_dropped_answer_are_retried(lrs_landing, ralph_lrs, faulty_proxy):
    ralph_lrs.post(lrs_landing.sample("xapi", 150))
    faulty_proxy.fail_next(2, 500)
    faulty_proxy.fail_next(1, 429)
    summary = _pull(lrs_landing, _config(ralph_lrs, endpoint=faulty_proxy.endpoint))
    assert summary.written == 150
    assert [status for _, _, status in faulty_proxy.log] == [500, 500, 429, 200, 200]


def test_an_lrs_failing_on_every_retry_gives_one_clear_line(lrs_landing, ralph_lrs, faulty_proxy):
    faulty_proxy.fail_next(50, 503)
    with pytest.raises(LRSError) as failure:
        _pull(lrs_landing, _config(ralph_lrs, endpoint=faulty_proxy.endpoint, retries=3))
    assert str(failure.value) == (
        f"the LRS at {faulty_proxy.endpoint} answered HTTP 503 after 3 retries"
    )
    assert faulty_proxy.requests == 4
    assert lrs_landing.query("select * from audit.lrs_cursors") == []


def test_wrong_credentials_are_named_and_never_shown(lrs_landing, ralph_lrs, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "not-the-password-" + uuid.uuid4().hex
    with pytest.raises(LRSError) as failure:
        _pull(lrs_landing, _config(ralph_lrs, password=secret))
    assert "refused the username and password (HTTP 401)" in str(failure.value)
    assert secret not in str(failure.value) and secret not in caplog.text
    assert secret not in repr(_config(ralph_lrs, password=secret))
    token = _config(ralph_lrs, username=None, password=None, token=secret)
    with pytest.raises(LRSError, match=r"refused the token \(HTTP 401\)"):
        _pull(lrs_landing, token)
    assert secret not in caplog.text


def test_an_unreachable_lrs_is_named(lrs_landing):
    config = LRSConfig("http://127.0.0.1:9/xAPI/", username="u", password="p", retries=1)
    with pytest.raises(LRSError, match=r"^the LRS at http://127.0.0.1:9/xAPI/ is unreachable"):
        _pull(lrs_landing, config)


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"COHORTLENS_LRS_ENDPOINT": "ftp://lrs"}, "must be an http(s) URL"),
        ({"COHORTLENS_LRS_ENDPOINT": "http://u:secret@lrs/xAPI/"}, "holds credentials"),
        ({"COHORTLENS_LRS_ENDPOINT": "http://lrs/xAPI/"}, "neither COHORTLENS_LRS_USERNAME"),
    ],
)
def test_incomplete_settings_say_what_is_missing(environ, words):
    with pytest.raises(LRSError, match=re.escape(words)) as failure:
        LRSConfig.from_env(environ)
    assert "secret" not in str(failure.value)


KILLED_PULL = """
import sys
from pathlib import Path
from pipelines.ingest.lrs import LRSConfig, pull
from pipelines.warehouse import open_writer
endpoint, user, password, landing, warehouse = sys.argv[1:]
config = LRSConfig(endpoint, username=user, password=password, statements_per_file=40)
with open_writer(Path(warehouse)) as con:
    pull(con, Path(landing), config)
"""


@pytest.mark.slow
def test_a_pull_killed_anywhere_loses_and_repeats_nothing(lrs_landing, ralph_lrs):
    """Pulls killed (SIGKILL) at random moments, then one left to finish: every statement lands
    in exactly one landing file and once in raw."""
    statements = lrs_landing.sample("xapi", 600)
    ralph_lrs.post(statements)
    args = [
        sys.executable,
        "-c",
        KILLED_PULL,
        ralph_lrs.endpoint,
        ralph_lrs.username,
        ralph_lrs.password,
        str(lrs_landing.root),
        str(lrs_landing.warehouse),
    ]
    env = os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    folder = lrs_landing.root / "xapi"
    interrupted = 0
    for _ in range(5):
        # Killed as soon as one more file is written (or being written): mid-pull.
        before = len(list(folder.glob("*xapi_lrs_*"))) if folder.exists() else 0
        process = subprocess.Popen(args, env=env)
        while process.poll() is None:
            if folder.exists() and len(list(folder.glob("*xapi_lrs_*"))) > before:
                process.send_signal(signal.SIGKILL)
                interrupted += 1
                break
            time.sleep(0.002)
        process.wait()
    assert interrupted >= 3, "the pulls were killed while they ran"
    assert subprocess.run(args, env=env, timeout=120).returncode == 0
    landed = _landed_ids(lrs_landing)
    assert sorted(landed) == sorted(s["id"] for s in statements)
    lrs_landing.load()
    assert lrs_landing.scalar("select count(*) from raw.xapi_statements") == len(statements)
    with open_writer(lrs_landing.warehouse) as con:
        assert Loader(con, lrs_landing.root).load(list(SOURCES.values())) == []


class _SpecLRS(ThreadingHTTPServer):
    """A minimal Statements API comparing `since` with `stored`, as xAPI 1.0.3 says (Ralph
    compares `timestamp`): what Learning Locker or SCORM Cloud would send."""

    daemon_threads = True
    statements: list[dict]


class _SpecHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        since = query.get("since", [None])[0]
        sent = [
            s for s in self.server.statements if since is None or _utc(s["stored"]) > _utc(since)
        ]
        body = json.dumps({"statements": sent, "more": ""}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_an_lrs_comparing_stored_never_gets_a_statement_written_twice(lrs_landing):
    """Statements stored late with timestamps days old come back on every pull of a
    `stored`-comparing LRS within its lookback window: each is written once, all the same."""
    now = dt.datetime.now(dt.UTC)
    statements = []
    for n, s in enumerate(lrs_landing.sample("xapi", 20)):
        stored = now - dt.timedelta(minutes=30 - n)
        statements.append(s | {"stored": stored.isoformat()})  # timestamps are months old
    server = _SpecLRS(("127.0.0.1", 0), _SpecHandler)
    server.statements = statements[:10]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}/xAPI/"
        config = LRSConfig(endpoint, username="u", password="p")
        assert _pull(lrs_landing, config).written == 10
        server.statements = statements
        assert _pull(lrs_landing, config).written == 10
        assert [_pull(lrs_landing, config).written for _ in range(2)] == [0, 0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert sorted(_landed_ids(lrs_landing)) == sorted(s["id"] for s in statements)
