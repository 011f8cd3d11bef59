"""Pull xAPI statements from a Learning Record Store into the landing zone.

`GET statements` (xAPI 1.0.3 section 2.1.3) with `since` and `limit`, following `more` until it
is empty. What comes back is written as gzip JSON Lines landing files (`xapi/xapi_lrs_…`), so
the one loader checks every statement, whatever its way in. The warehouse keeps, per endpoint,
a cursor and a ledger of the statement ids written:

- a file is renamed into place only once it is on disk (fsync), then its ids enter the ledger:
  a kill before that leaves a file the next pull finds and enters (`_adopt_orphans`);
- the cursor moves only after a pull has followed `more` to the end, so a kill mid-pull makes
  the next one ask again from the old cursor, and the ledger drops what was written already;
- LRSs differ on what `since` compares (the spec says `stored`; Ralph compares `timestamp`), so
  the cursor is the earlier of the latest `timestamp` and `stored` seen, and each pull asks from
  a lookback window before it: a statement stored late with an old timestamp is still asked for,
  and its id, once in the ledger, is never written twice.

Credentials go in the request's Authorization header only: never in a URL, a log line, the
warehouse or an error message.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import duckdb
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)

XAPI_VERSION = "1.0.3"
FILE_PREFIX = "xapi_lrs_"
RETRY_STATUSES = (429, 500, 502, 503, 504)
RETRY_AFTER_CAP_S = 60.0  # an LRS asking for longer is asked again sooner


class LRSError(Exception):
    """A pull that cannot go on, in one line a person can act on (no credentials in it)."""


@dataclass(frozen=True)
class LRSConfig:
    """Where the LRS is and how to sign in; secrets are kept out of repr()."""

    endpoint: str  # the xAPI base URL, e.g. http://127.0.0.1:8100/xAPI/
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    lookback: dt.timedelta = dt.timedelta(hours=24)
    page_limit: int = 100  # Ralph serves at most 100 a page
    statements_per_file: int = 20_000
    timeout_s: float = 60.0
    retries: int = 5
    backoff_s: float = 0.5  # doubled on each retry

    def __post_init__(self) -> None:
        # The value is never repeated in a message: a mistyped one may hold a password.
        try:
            parts = urlsplit(self.endpoint)
            host = parts.hostname
        except ValueError:
            parts, host = None, None
        if parts is None or parts.scheme not in ("http", "https") or not host:
            raise LRSError(
                "COHORTLENS_LRS_ENDPOINT must be an http(s) URL such as"
                " http://host:8100/xAPI/ (the LRS's xAPI base)"
            )
        if "@" in parts.netloc:
            raise LRSError(
                "COHORTLENS_LRS_ENDPOINT holds credentials: give them in"
                " COHORTLENS_LRS_USERNAME / COHORTLENS_LRS_PASSWORD or COHORTLENS_LRS_TOKEN"
            )
        if parts.query or parts.fragment:
            raise LRSError(
                "COHORTLENS_LRS_ENDPOINT must be the xAPI base URL, without a query or fragment"
            )
        if not self.endpoint.endswith("/"):
            object.__setattr__(self, "endpoint", self.endpoint + "/")
        if not self.token and not (self.username and self.password):
            raise LRSError(
                "COHORTLENS_LRS_ENDPOINT is set, but neither COHORTLENS_LRS_USERNAME with"
                " COHORTLENS_LRS_PASSWORD nor COHORTLENS_LRS_TOKEN"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> LRSConfig | None:
        """The LRS of COHORTLENS_LRS_* variables, or None when no endpoint is set."""
        endpoint = environ.get("COHORTLENS_LRS_ENDPOINT", "").strip()
        if not endpoint:
            return None
        lookback = environ.get("COHORTLENS_LRS_LOOKBACK_HOURS", "").strip()
        try:
            hours = float(lookback) if lookback else 24.0
        except ValueError:
            raise LRSError(f"COHORTLENS_LRS_LOOKBACK_HOURS {lookback!r} is not a number") from None
        return cls(
            endpoint=endpoint,
            username=environ.get("COHORTLENS_LRS_USERNAME") or None,
            password=environ.get("COHORTLENS_LRS_PASSWORD") or None,
            token=environ.get("COHORTLENS_LRS_TOKEN") or None,
            lookback=dt.timedelta(hours=hours),
        )


def _safe(endpoint: str) -> str:
    """The endpoint without any user:password@ part, for a message."""
    parts = urlsplit(endpoint)
    if parts.password or parts.username:
        return parts._replace(
            netloc=parts.hostname + (f":{parts.port}" if parts.port else "")
        ).geturl()
    return endpoint


class _CappedRetry(Retry):
    def get_retry_after(self, response):
        after = super().get_retry_after(response)
        return None if after is None else min(after, RETRY_AFTER_CAP_S)


class StatementsAPI:
    """The Statements API of one LRS: pages of statements, retried on 429, 5xx and resets."""

    def __init__(self, config: LRSConfig) -> None:
        self.config = config
        self.session = requests.Session()
        # No credentials from ~/.netrc or proxies from the environment: only the configured.
        self.session.trust_env = False
        retry = _CappedRetry(
            total=config.retries,
            backoff_factor=config.backoff_s,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["X-Experience-API-Version"] = XAPI_VERSION
        if config.token:
            self.session.headers["Authorization"] = f"Bearer {config.token}"
        else:
            self.session.auth = (config.username, config.password)
        self.requests = 0

    def close(self) -> None:
        self.session.close()

    def pages(self, since: dt.datetime | None) -> Iterator[list[dict]]:
        """Each page of statements stored since `since` (UTC), following `more`."""
        params: dict[str, str] | None = {"limit": str(self.config.page_limit)}
        if since is not None:
            params["since"] = since.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        url = urljoin(self.config.endpoint, "statements")
        while url:
            result = self._get(url, params)
            statements = result.get("statements")
            if not isinstance(statements, list):
                raise LRSError(f"{self._where()} answered a page without a statements list")
            yield statements
            more = result.get("more") or ""
            params = None  # `more` carries the query
            url = self._follow(more) if more and statements else ""

    def _where(self) -> str:
        return f"the LRS at {self.config.endpoint}"

    def _follow(self, more: str) -> str:
        """`more` is relative to the server's root; it may not lead to another server (the
        credentials would follow it)."""
        target = urljoin(self.config.endpoint, more)
        here, there = urlsplit(self.config.endpoint), urlsplit(target)
        if (here.scheme, here.netloc) != (there.scheme, there.netloc):
            raise LRSError(f"{self._where()} sent a `more` link to another server: {there.netloc}")
        return target

    def _get(self, url: str, params: dict[str, str] | None) -> dict:
        self.requests += 1
        try:
            response = self.session.get(url, params=params, timeout=self.config.timeout_s)
        except requests.exceptions.RetryError:
            raise LRSError(
                f"{self._where()} kept failing after {self.config.retries} retries"
            ) from None
        except requests.exceptions.ConnectionError as error:
            raise LRSError(f"{self._where()} is unreachable ({_reason(error)})") from None
        except requests.exceptions.Timeout:
            raise LRSError(
                f"{self._where()} did not answer within {self.config.timeout_s:g} s"
            ) from None
        except requests.exceptions.RequestException as error:
            raise LRSError(f"{self._where()}: {type(error).__name__}") from None
        if response.status_code in (401, 403):
            how = "token" if self.config.token else "username and password"
            raise LRSError(
                f"{self._where()} refused the {how} (HTTP {response.status_code}): check"
                " COHORTLENS_LRS_USERNAME / COHORTLENS_LRS_PASSWORD or COHORTLENS_LRS_TOKEN"
            )
        if response.status_code in RETRY_STATUSES:
            raise LRSError(
                f"{self._where()} answered HTTP {response.status_code} after"
                f" {self.config.retries} retries"
            )
        if response.status_code != 200:  # the body is the LRS's: not repeated
            raise LRSError(
                f"{self._where()} answered HTTP {response.status_code} {response.reason or ''}"
            )
        try:
            result = response.json()
        except ValueError:
            raise LRSError(f"{self._where()} answered something that is not JSON") from None
        if not isinstance(result, dict):
            raise LRSError(f"{self._where()} answered JSON that is not a StatementResult")
        return result


def _reason(error: Exception) -> str:
    """The innermost cause of a connection error, in a few words (no URL, no headers)."""
    text = str(error)
    for known in ("Connection refused", "Name or service not known", "timed out", "reset"):
        if known.lower() in text.lower():
            return known.lower()
    return type(error).__name__


@dataclass(frozen=True)
class PullSummary:
    endpoint: str
    received: int  # statements the LRS sent, repeats of earlier pulls included
    written: int  # new statements written to landing files
    files: list[str]
    pages: int
    requests: int  # HTTP requests, retries not counted
    since: dt.datetime | None
    cursor: dt.datetime | None  # after the pull

    @property
    def sentence(self) -> str:
        files = f"in {len(self.files)} file{'s' * (len(self.files) != 1)}" if self.files else ""
        return (
            f"LRS {self.endpoint}: {self.received:,} statements received in {self.pages:,}"
            f" pages, {self.written:,} new {files}".rstrip()
        )


def _utc(text: object) -> dt.datetime | None:
    """An ISO 8601 timestamp as naive UTC, or None when it is not one."""
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _statement_key(statement: dict) -> str | None:
    sid = statement.get("id") if isinstance(statement, dict) else None
    if not isinstance(sid, str):
        return None
    try:
        return str(uuid.UUID(sid))
    except ValueError:
        return sid.lower()


class Puller:
    """One pull of one LRS into one landing folder, with its ledger in one warehouse
    (audit.lrs_cursors and audit.lrs_statements, created with the warehouse)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, landing: Path, api: StatementsAPI) -> None:
        self.con = con
        self.folder = landing / "xapi"
        self.api = api
        self.endpoint = api.config.endpoint

    def pull(self) -> PullSummary:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._adopt_orphans()
        cursor = self._cursor()
        since = cursor - self.api.config.lookback if cursor is not None else None
        seen = self._ledger_ids(since)
        buffer: list[dict] = []
        files: list[str] = []
        received = written = pages = 0
        newest_timestamp = newest_stored = None
        for page in self.api.pages(since):
            pages += 1
            received += len(page)
            for statement in page:
                if isinstance(statement, dict):
                    stamp, stored = _utc(statement.get("timestamp")), _utc(statement.get("stored"))
                    if stamp and (newest_timestamp is None or stamp > newest_timestamp):
                        newest_timestamp = stamp
                    if stored and (newest_stored is None or stored > newest_stored):
                        newest_stored = stored
                key = _statement_key(statement)
                if key is not None and key in seen:
                    continue
                if key is not None:
                    seen.add(key)
                buffer.append(statement)
            if len(buffer) >= self.api.config.statements_per_file:
                files.append(self._write(buffer))
                written += len(buffer)
                buffer = []
        if buffer:
            files.append(self._write(buffer))
            written += len(buffer)
        # Only a pull followed to its end moves the cursor, and never back.
        candidates = [t for t in (newest_timestamp, newest_stored) if t is not None]
        if candidates:
            reached = min(candidates)
            cursor = reached if cursor is None else max(cursor, reached)
        self.con.execute(
            "insert or replace into audit.lrs_cursors values"
            " (?, ?, get_current_timestamp() at time zone 'UTC')",
            [self.endpoint, cursor],
        )
        return PullSummary(
            self.endpoint, received, written, files, pages, self.api.requests, since, cursor
        )

    def _cursor(self) -> dt.datetime | None:
        row = self.con.execute(
            "select cursor_at from audit.lrs_cursors where endpoint = ?", [self.endpoint]
        ).fetchone()
        return row[0] if row else None

    def _ledger_ids(self, since: dt.datetime | None) -> set[str]:
        """The ids already written that this pull may be sent again: all of them before a
        first complete pull, else those pulled or dated within the window (a day's margin for
        the LRS's clock). An LRS comparing `since` with `stored` sends again what it stored
        after `since`, which an earlier pull can only have fetched after `since` too; one
        comparing `timestamp` sends what is dated after it."""
        window = ""
        params: list = [self.endpoint]
        if since is not None:
            window = ' and greatest(pulled_at, coalesce("timestamp", pulled_at)) >= ?'
            params.append(since - dt.timedelta(days=1))
        rows = self.con.execute(
            f"select statement_id from audit.lrs_statements where endpoint = ?{window}", params
        ).fetchall()
        return {r[0] for r in rows}

    def _next_name(self, first: dict) -> str:
        (files,) = self.con.execute(
            "select count(distinct file_name) from audit.lrs_statements"
        ).fetchone()
        stored = _utc(first.get("stored")) or _utc(first.get("timestamp"))
        stamp = (stored or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S%fZ")
        return f"{FILE_PREFIX}{stamp}_{files + 1:06d}.jsonl.gz"

    def _write(self, statements: list[dict]) -> str:
        """Write a landing file durably, then enter its ids in the ledger. Returns its name."""
        name = self._next_name(statements[0] if isinstance(statements[0], dict) else {})
        final = self.folder / name
        temporary = self.folder / f".{name}.tmp"
        lines = "".join(
            json.dumps(s, ensure_ascii=False, separators=(",", ":")) + "\n" for s in statements
        )
        with temporary.open("wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
                gz.write(lines.encode("utf-8"))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, final)
        _fsync_folder(self.folder)
        self._enter(name, statements)
        log.info("%s: %d statements from %s", name, len(statements), self.endpoint)
        return name

    def _enter(self, name: str, statements: list) -> None:
        keyed = [
            (key, _utc(s.get("timestamp")))
            for s in statements
            if isinstance(s, dict) and (key := _statement_key(s)) is not None
        ]
        # One insert of two lists: executemany would cost a round trip per statement.
        self.con.execute(
            "insert into audit.lrs_statements select ?, unnest(?::varchar[]),"
            " unnest(?::timestamp[]), ?, get_current_timestamp() at time zone 'UTC'",
            [self.endpoint, [k for k, _ in keyed], [t for _, t in keyed], f"xapi/{name}"],
        )

    def _adopt_orphans(self) -> None:
        """Files a killed pull renamed into place but did not enter: enter them now."""
        entered = {
            r[0]
            for r in self.con.execute(
                "select distinct file_name from audit.lrs_statements"
            ).fetchall()
        }
        for path in sorted(self.folder.glob(f"{FILE_PREFIX}*.jsonl.gz")):
            if f"xapi/{path.name}" in entered:
                continue
            with gzip.open(path, "rt", encoding="utf-8") as lines:
                statements = [json.loads(line) for line in lines if line.strip()]
            self._enter(path.name, statements)
            log.info("%s: entered in the ledger after an interrupted pull", path.name)
        for stale in self.folder.glob(f".{FILE_PREFIX}*.tmp"):
            stale.unlink()  # a write a kill cut short: its statements are asked for again


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def pull(con: duckdb.DuckDBPyConnection, landing: Path, config: LRSConfig) -> PullSummary:
    """Pull what the LRS has stored since the last pull into `landing`/xapi."""
    api = StatementsAPI(config)
    try:
        return Puller(con, landing, api).pull()
    finally:
        api.close()
