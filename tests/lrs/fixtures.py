"""A real LRS for the tests of the xAPI client: Ralph, on 127.0.0.1.

Ralph runs from its own virtualenv, .venv-ralph (its fastapi/uvicorn/click pins clash with
ours; ``make test`` builds it), through tests/lrs/ralph_server.py, with its ``fs`` backend in a
temporary folder. One server per pytest(-xdist) worker and session; ``ralph_lrs`` empties it
before each test: the ``fs`` backend reads its file anew on every request, so deleting the
file is the whole reset. ``faulty_proxy`` puts a proxy in front that fails on command.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
RALPH_VENV = REPO / ".venv-ralph"
LAUNCHER = Path(__file__).with_name("ralph_server.py")
XAPI_VERSION = {"X-Experience-API-Version": "1.0.3"}
START_TIMEOUT = 60.0  # seconds; it takes about one on an idle machine


@dataclass(frozen=True)
class RalphServer:
    root: str  # http://127.0.0.1:PORT
    endpoint: str  # the xAPI base URL, ending in /xAPI/
    username: str
    password: str
    data_dir: Path  # where the fs backend keeps its statements (fs_lrs.jsonl)
    log: Path  # the server's stdout and stderr


def _log_tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class RalphNotStarted(RuntimeError):
    """Ralph could not be started; the message says why, with the end of its log."""


@contextlib.contextmanager
def start_ralph(home: Path) -> Iterator[RalphServer]:
    """A Ralph LRS on 127.0.0.1 with its fs backend and credentials in `home`, until exit."""
    python = RALPH_VENV / "bin" / "python"
    if not python.exists():
        raise RalphNotStarted(f"no {python}: build it with `make {RALPH_VENV.name}/.installed`")
    data_dir = home / "lrs"
    data_dir.mkdir(parents=True)
    username, password = f"tests-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    # Ralph's settings are RALPH_* variables (and a .env in its working folder: there is none
    # in `home`); none of ours may leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("RALPH_")}
    env |= {
        "RALPH_APP_DIR": str(home),
        "RALPH_AUTH_FILE": str(home / "auth.json"),
        "RALPH_HISTORY_FILE": str(home / "history.json"),
        "RALPH_RUNSERVER_BACKEND": "fs",
        "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(data_dir),
    }
    log_path = home / "server.log"
    # The socket is bound here, on port 0, and handed over listening: no other worker can take
    # the port in between, and requests made before uvicorn is up wait in the backlog.
    with socket.create_server(("127.0.0.1", 0)) as sock, log_path.open("wb") as log:
        port = sock.getsockname()[1]
        process = subprocess.Popen(
            [python, LAUNCHER, "--fd", str(sock.fileno()), "--exit-with-parent"],
            pass_fds=[sock.fileno()],
            env=env,
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        # The server reads the credentials at the first authenticated request: write them
        # while it starts (hashing them takes a second).
        identity = ["-u", username, "-p", password, "-M", "mailto:tests@cohortlens.example"]
        auth = subprocess.run(
            [RALPH_VENV / "bin" / "ralph", "auth", *identity, "-s", "all", "-w"],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
        )
        if auth.returncode:
            raise RalphNotStarted(f"`ralph auth` failed ({auth.returncode}):\n{auth.stderr}")
        root = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RalphNotStarted(
                    f"Ralph exited ({process.returncode}):\n{_log_tail(log_path)}"
                )
            try:
                whoami = requests.get(f"{root}/whoami", auth=(username, password), timeout=2)
                if whoami.ok:
                    break
                raise RalphNotStarted(f"Ralph's /whoami: {whoami.status_code} {whoami.text}")
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise RalphNotStarted(
                        f"Ralph not up in {START_TIMEOUT:.0f} s:\n{_log_tail(log_path)}"
                    ) from None
                time.sleep(0.05)
        yield RalphServer(root, f"{root}/xAPI/", username, password, data_dir, log_path)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def ralph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphServer]:
    try:
        with start_ralph(tmp_path_factory.mktemp("ralph")) as server:
            yield server
    except RalphNotStarted as error:
        pytest.fail(str(error))


class RalphLRS:
    """An empty Ralph for one test, with helpers that talk to it directly."""

    def __init__(self, server: RalphServer) -> None:
        self.server = server
        self.root = server.root
        self.endpoint = server.endpoint
        self.username = server.username
        self.password = server.password
        self.session = requests.Session()
        self.session.auth = (server.username, server.password)
        self.session.headers.update(XAPI_VERSION)

    def post(self, statements: list[dict[str, Any]], chunk: int = 500) -> list[str]:
        """POST in chunks; the ids Ralph stored (not those it already had: it answers 204)."""
        ids: list[str] = []
        for start in range(0, len(statements), chunk):
            response = self.session.post(
                f"{self.endpoint}statements", json=statements[start : start + chunk], timeout=60
            )
            response.raise_for_status()
            if response.status_code != 204:
                ids += response.json()
        return ids

    def get_pages(self, **params: Any) -> list[dict[str, Any]]:
        """Every page of GET /xAPI/statements, following ``more`` (relative to the root)."""
        pages = []
        url: str | None = f"{self.endpoint}statements"
        while url:
            response = self.session.get(url, params=params, timeout=60)
            response.raise_for_status()
            pages.append(response.json())
            more = pages[-1].get("more")
            url = urljoin(self.root, more) if more and pages[-1]["statements"] else None
            params = {}  # `more` carries them
        return pages

    def get_all(self, **params: Any) -> list[dict[str, Any]]:
        return [s for page in self.get_pages(**params) for s in page["statements"]]


@pytest.fixture
def ralph_lrs(ralph_server: RalphServer) -> Iterator[RalphLRS]:
    for path in ralph_server.data_dir.iterdir():
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    lrs = RalphLRS(ralph_server)
    yield lrs
    lrs.session.close()


# Hop-by-hop headers (RFC 9110 7.6.1) are the proxy's own; Host is set for the upstream.
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
}


@dataclass(frozen=True)
class _Fault:
    status: int
    retry_after: str | None
    forward: bool


@dataclass
class FaultyProxy:
    """A proxy in front of Ralph that answers the next requests with errors when told to.

    ``fail_next(n, status)`` makes the next ``n`` requests answer ``status`` (a 429 with
    ``Retry-After: 0`` unless told otherwise); with ``forward=True`` they still reach Ralph
    first, so a POST is stored and only its answer is lost. ``requests`` counts every request
    received, ``log`` has (method, path, status) for each. Ralph's ``more`` links are relative
    to the root, so they lead back through the proxy.
    """

    upstream: RalphServer
    username: str
    password: str
    root: str = ""
    endpoint: str = ""
    requests: int = 0
    log: list[tuple[str, str, int]] = field(default_factory=list)
    _faults: list[_Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self, n: int, status: int = 500, *, retry_after: str | None = None, forward: bool = False
    ) -> None:
        if retry_after is None and status == 429:
            retry_after = "0"
        with self._lock:
            self._faults += [_Fault(status, retry_after, forward)] * n

    def _next_fault(self) -> _Fault | None:
        with self._lock:
            self.requests += 1
            return self._faults.pop(0) if self._faults else None

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.log.append((method, path, status))


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def _handle(self) -> None:
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        fault = proxy._next_fault()
        if fault is None or fault.forward:
            status, headers, payload = self._forward(body)
        if fault is not None:
            status = fault.status
            headers = [("Content-Type", "application/json")]
            if fault.retry_after is not None:
                headers.append(("Retry-After", fault.retry_after))
            payload = json.dumps({"detail": f"faulty_proxy: injected {status}"}).encode()
        proxy._record(self.command, self.path, status)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _forward(self, body: bytes | None) -> tuple[int, list[tuple[str, str]], bytes]:
        upstream = urlsplit(self.server.proxy.upstream.root)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except OSError as error:
            return 502, [("Content-Type", "text/plain")], f"faulty_proxy: {error}".encode()
        finally:
            connection.close()
        drop = _HOP_BY_HOP | {"content-length", "date", "server"}  # send_response sets the last two
        kept = [(k, v) for k, v in response.getheaders() if k.lower() not in drop]
        return response.status, kept, payload

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultyProxy


@pytest.fixture
def faulty_proxy(ralph_lrs: RalphLRS) -> Iterator[FaultyProxy]:
    """A FaultyProxy in front of this test's (empty) Ralph."""
    proxy = FaultyProxy(ralph_lrs.server, ralph_lrs.username, ralph_lrs.password)
    server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
    server.proxy = proxy
    proxy.root = f"http://127.0.0.1:{server.server_address[1]}"
    proxy.endpoint = f"{proxy.root}/xAPI/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
