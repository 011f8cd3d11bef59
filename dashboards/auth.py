"""Local dashboard accounts, sign-in with a slow KDF, throttling, and the audit trail.

Accounts and audit events live in ``COHORTLENS_HOME/accounts.sqlite`` (SQLite: several
Streamlit sessions and the CLI write it concurrently; the warehouse is rebuilt without
touching it). Passwords are hashed with Argon2id (argon2-cffi's defaults: 64 MiB, 3 passes).
Repeated failed sign-ins for a username are slowed down: each failure after the third within
15 minutes doubles a wait, up to 30 s, and ten lock the account for those 15 minutes.

An account may also carry a single sign-on identity: the e-mail an OpenID Connect provider
vouches for (st.login, when [auth] is configured in Streamlit's secrets). That identity signs
in as the account, with the account's role and scope; an identity no account carries gets
nothing. An account with an identity may have no password (single sign-on only).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pipelines.warehouse import make_private, private_dir

ROLES = ("admin", "supervisor", "student")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
FAILURE_WINDOW = dt.timedelta(minutes=15)
FREE_FAILURES = 3
LOCK_AFTER = 10
MAX_WAIT_S = 30.0
SESSION_HOURS = 8.0  # a signed-in session lasts this long

_hasher = PasswordHasher()
# Verifying against a dummy hash when the user does not exist keeps timing from telling
# which usernames exist.
_DUMMY_HASH = _hasher.hash("not a real password")

SCHEMA = """
create table if not exists users (
    username text primary key,
    role text not null check (role in ('admin', 'supervisor', 'student')),
    org_id text,
    learner_id text,
    password_hash text not null,   -- '!' when the account signs in by single sign-on only
    created_at text not null,
    identity text,                 -- the OIDC e-mail that signs in as this account
    check (role != 'supervisor' or org_id is not null),
    check (role != 'student' or learner_id is not null)
);
create table if not exists audit_events (
    at text not null,
    username text,
    event text not null,   -- sign_in, sign_in_failed, sign_out, view, export
    detail text
);
create index if not exists audit_by_user on audit_events (username, event, at);
"""
# Accounts files made before single sign-on lack the identity column.
MIGRATIONS = {"identity": "alter table users add column identity text"}
IDENTITY_INDEX = (
    "create unique index if not exists users_by_identity on users (identity)"
    " where identity is not null"
)
NO_PASSWORD = "!"  # never a valid Argon2 hash, so no password matches it


class AccountError(ValueError):
    """A request about accounts that cannot be honoured, in words for the person asking."""


@dataclass(frozen=True)
class Filters:
    """What a supervisor or admin narrowed the pages to. Filters only ever narrow a
    principal's scope (the SQL applies both); a learner's pages ignore them."""

    org_id: str | None = None  # an admin's one organization
    cohort_ids: tuple[str, ...] = ()
    tracks: tuple[str, ...] = ()
    since: dt.date | None = None  # the date range of activity, attempts and reviews
    until: dt.date | None = None

    @property
    def active(self) -> bool:
        return self != Filters()

    def sentence(self) -> str:
        """The filters in words, for a page's caption (empty when none narrows)."""
        parts = []
        if self.tracks:
            parts.append("track " + ", ".join(self.tracks))
        if self.cohort_ids:
            parts.append(f"{len(self.cohort_ids)} cohort{'s' if len(self.cohort_ids) > 1 else ''}")
        if self.since and self.until:
            parts.append(f"{self.since:%Y-%m-%d} to {self.until:%Y-%m-%d}")
        return ("Filtered to " + "; ".join(parts) + ".") if parts else ""


@dataclass(frozen=True)
class Principal:
    """Who is signed in, and so what they may see; ``filters`` narrow it further."""

    username: str
    role: str
    org_id: str | None = None
    learner_id: str | None = None
    filters: Filters = Filters()

    @property
    def cache_key(self) -> tuple:
        f = self.filters
        narrowed = (f.org_id, f.cohort_ids, f.tracks, f.since, f.until)
        return (self.username, self.role, self.org_id, self.learner_id, narrowed)

    @classmethod
    def from_cache_key(cls, key: tuple) -> Principal:
        *who, narrowed = key
        return cls(*who, filters=Filters(*narrowed))

    def narrowed(self, filters: Filters) -> Principal:
        return dataclasses.replace(self, filters=filters)


@dataclass(frozen=True)
class SignInResult:
    principal: Principal | None
    message: str = ""
    wait_s: float = 0.0


def accounts_path(home: Path) -> Path:
    return home / "accounts.sqlite"


@contextlib.contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    if not path.parent.exists():
        private_dir(path.parent)
    con = sqlite3.connect(path, timeout=30)
    make_private(path)  # password hashes and the audit trail: whatever the umask
    try:
        con.executescript(SCHEMA)
        columns = {row[1] for row in con.execute("pragma table_info(users)")}
        for column, statement in MIGRATIONS.items():
            if column not in columns:
                with contextlib.suppress(sqlite3.OperationalError):  # another process did it
                    con.execute(statement)
        con.execute(IDENTITY_INDEX)
        with con:  # one transaction
            yield con
    finally:
        con.close()


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")


def normalize_identity(identity: str) -> str:
    return identity.strip().lower()


def add_user(
    path: Path,
    username: str,
    role: str,
    password: str | None,
    org_id: str | None = None,
    learner_id: str | None = None,
    replace: bool = False,
    identity: str | None = None,
) -> Principal:
    """Create (or with replace, reset) a local account, optionally with a single sign-on
    identity; without a password it signs in by single sign-on only."""
    if not USERNAME.match(username):
        raise AccountError(
            f"username {username!r}: use 2-64 lowercase letters, digits, '.', '_' or '-'"
        )
    if role not in ROLES:
        raise AccountError(f"role {role!r}: choose one of {', '.join(ROLES)}")
    if role == "supervisor" and not org_id:
        raise AccountError("a supervisor needs --org (the organization they supervise)")
    if role == "student" and not learner_id:
        raise AccountError("a student needs --learner (their learner id)")
    if identity is not None and "@" not in identity:
        raise AccountError(f"identity {identity!r}: the e-mail the sign-on provider vouches for")
    if password is None and identity is None:
        raise AccountError("an account needs a password, a single sign-on identity, or both")
    if password is not None and len(password) < 8:
        raise AccountError("the password needs at least 8 characters")
    principal = Principal(
        username,
        role,
        org_id if role == "supervisor" else None,
        learner_id if role == "student" else None,
    )
    verb = "insert or replace" if replace else "insert"
    with connect(path) as con:
        try:
            con.execute(
                f"{verb} into users (username, role, org_id, learner_id, password_hash,"
                " created_at, identity) values (?, ?, ?, ?, ?, ?, ?)",
                (
                    username,
                    role,
                    principal.org_id,
                    principal.learner_id,
                    NO_PASSWORD if password is None else _hasher.hash(password),
                    _now(),
                    None if identity is None else normalize_identity(identity),
                ),
            )
        except sqlite3.IntegrityError as exc:
            if "identity" in str(exc):
                raise AccountError(f"identity {identity!r} belongs to another account") from None
            raise AccountError(f"user {username!r} exists already") from None
    return principal


def remove_user(path: Path, username: str) -> bool:
    with connect(path) as con:
        return con.execute("delete from users where username = ?", (username,)).rowcount > 0


def list_users(path: Path) -> list[tuple[Principal, str | None]]:
    """Every account with its single sign-on identity (None when it has none)."""
    with connect(path) as con:
        rows = con.execute(
            "select username, role, org_id, learner_id, identity from users order by username"
        ).fetchall()
    return [(Principal(*row[:4]), row[4]) for row in rows]


def find_user(path: Path, username: str) -> Principal | None:
    with connect(path) as con:
        row = con.execute(
            "select username, role, org_id, learner_id from users where username = ?",
            (username,),
        ).fetchone()
    return Principal(*row) if row else None


def find_by_identity(path: Path, identity: str) -> Principal | None:
    """The account a single sign-on identity signs in as, if any."""
    with connect(path) as con:
        row = con.execute(
            "select username, role, org_id, learner_id from users where identity = ?",
            (normalize_identity(identity),),
        ).fetchone()
    return Principal(*row) if row else None


def audit(path: Path, username: str | None, event: str, detail: str = "") -> None:
    with connect(path) as con:
        con.execute(
            "insert into audit_events values (?, ?, ?, ?)", (_now(), username, event, detail[:1000])
        )


def recent_failures(path: Path, username: str) -> int:
    since = (dt.datetime.now(dt.UTC).replace(tzinfo=None) - FAILURE_WINDOW).isoformat()
    with connect(path) as con:
        (n,) = con.execute(
            "select count(*) from audit_events where username = ? and event = 'sign_in_failed'"
            " and at >= ? and at > coalesce((select max(at) from audit_events where"
            " username = ? and event = 'sign_in'), '')",
            (username, since, username),
        ).fetchone()
    return n


def throttle_wait(failures: int) -> float:
    """Seconds to wait before checking a password after this many recent failures."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(MAX_WAIT_S, 2.0 ** (failures - FREE_FAILURES))


def sign_in(path: Path, username: str, password: str, sleep=time.sleep) -> SignInResult:
    """Check a username and password; record the attempt. Never says which part was wrong."""
    username = username.strip().lower()
    failures = recent_failures(path, username)
    if failures >= LOCK_AFTER:
        audit(path, username, "sign_in_failed", "locked")
        return SignInResult(None, "Too many failed sign-ins: try again in 15 minutes.")
    wait = throttle_wait(failures)
    if wait:
        sleep(wait)
    with connect(path) as con:
        row = con.execute(
            "select username, role, org_id, learner_id, password_hash from users"
            " where username = ?",
            (username,),
        ).fetchone()
    stored = row[4] if row else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password) and row is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        audit(path, username, "sign_in_failed")
        message = "Unknown username or wrong password."
        if failures + 1 >= LOCK_AFTER:
            message += " Too many failed sign-ins: try again in 15 minutes."
        elif following := throttle_wait(failures + 1):
            message += f" The next attempt waits {following:.0f} s."
        return SignInResult(None, message, wait)
    audit(path, username, "sign_in")
    return SignInResult(Principal(*row[:4]), "", wait)
