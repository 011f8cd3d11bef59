"""The signed-in session: who it is (re-checked against the accounts on every run), when it
expires, where the data is, and the audit of what was viewed."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import polars as pl
import streamlit as st

from pipelines.paths import resolve_paths

from . import auth, data
from .auth import Principal
from .text import code

T = TypeVar("T")

SIGNED_OUT = "You are signed out."
EXPIRED = "Your session expired: please sign in again."
XSRF_COOKIE = "_streamlit_xsrf"  # Streamlit's; set on the first page load, kept by the browser


def home() -> Path:
    return resolve_paths().home


def serving() -> Path:
    return resolve_paths().serving


def accounts() -> Path:
    return auth.accounts_path(home())


def principal() -> Principal | None:
    """The signed-in principal, or None. The session keeps only the username and the sign-in
    time; role and scope are read again from the accounts, so a removed or changed account
    takes effect at once and nothing a browser sends can widen them."""
    username = st.session_state.get("username")
    signed_in_at = st.session_state.get("signed_in_at")
    if not username or not signed_in_at:
        return _single_sign_on()
    if dt.datetime.now(dt.UTC) - signed_in_at > dt.timedelta(hours=auth.SESSION_HOURS):
        sign_out("expired", notice=EXPIRED)
        return None
    return auth.find_user(accounts(), username)


def sign_in(found: Principal, via: str = "password", at: dt.datetime | None = None) -> None:
    st.session_state["username"] = found.username
    st.session_state["signed_in_at"] = at or dt.datetime.now(dt.UTC)
    st.session_state["signed_in_via"] = via


def sign_out(reason: str = "", notice: str | None = None) -> None:
    """End the session, leaving ``notice`` for the sign-in page. One signed in by single
    sign-on also ends st.login's: this run stops there, and the browser goes on to delete the
    identity cookie and out of the provider."""
    username = st.session_state.get("username")
    if username:
        auth.audit(accounts(), username, "sign_out", reason)
    via = st.session_state.get("signed_in_via")
    for key in ("username", "signed_in_at", "signed_in_via"):
        st.session_state.pop(key, None)
    if notice:
        st.session_state["notice"] = notice
    if via == "single sign-on":
        end_single_sign_on(notice)  # else the identity cookie would sign the next page load in


def end_single_sign_on(notice: str | None = None) -> None:
    """st.logout, then stop: st.logout only tells the browser to load /auth/logout (which
    deletes the identity cookie); a rerun or a page change after it can cancel that load.
    The browser comes back in a new session, so ``notice`` waits for it outside this one."""
    if notice:
        _left_notices().leave(_browser(), notice)
    st.logout()
    st.stop()


def take_notice() -> str | None:
    """The notice the sign-in page shows once: this session's, else one left for its browser
    when single sign-on ended the session before."""
    left = _left_notices().take(_browser())  # taken either way: it is shown once at most
    return st.session_state.pop("notice", None) or left


class _LeftNotices:
    """Notices waiting, for a few minutes, for the browser that ended its session with
    st.logout (whose redirects, through the provider and back, start a new session). A
    browser is known by a hash of Streamlit's XSRF cookie, which outlives the session."""

    KEEP = dt.timedelta(minutes=10)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, tuple[dt.datetime, str]] = {}

    def leave(self, browser: str | None, notice: str) -> None:
        if browser is None:
            return
        now = dt.datetime.now(dt.UTC)
        with self._lock:
            self._waiting = {k: v for k, v in self._waiting.items() if now - v[0] < self.KEEP}
            self._waiting[browser] = (now, notice)

    def take(self, browser: str | None) -> str | None:
        if browser is None:
            return None
        with self._lock:
            left = self._waiting.pop(browser, None)
        if left is None or dt.datetime.now(dt.UTC) - left[0] >= self.KEEP:
            return None
        return left[1]


@st.cache_resource(show_spinner=False)
def _left_notices() -> _LeftNotices:
    return _LeftNotices()


def _browser() -> str | None:
    """This browser's key for _LeftNotices, or None without an XSRF cookie (XSRF protection
    off, or AppTest)."""
    cookie = st.context.cookies.get(XSRF_COOKIE)
    if not isinstance(cookie, str) or not cookie:  # AppTest's context has no real cookies
        return None
    return hashlib.sha256(xsrf_token(cookie)).hexdigest()


def xsrf_token(cookie: str) -> bytes:
    """The token of an XSRF cookie. Its version 2 form, "2|mask|masked token|time" in hex,
    is masked afresh on every page load; the token under the mask stays."""
    parts = cookie.strip("\"'").split("|")
    if len(parts) == 4 and parts[0] == "2":
        try:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except ValueError:
            return cookie.encode()
        if not mask:
            return cookie.encode()
        # the mask (4 bytes) repeats over the token, as a websocket frame's does
        return bytes(m ^ t for m, t in zip(itertools.cycle(mask), masked, strict=False))
    return cookie.encode()


def sso_providers() -> list[str | None] | None:
    """The single sign-on (OIDC) providers of Streamlit's [auth] secrets: named ones
    ([auth.NAME] sections), else [None] for the unnamed one; None when not configured."""
    if not st.secrets.load_if_toml_exists() or "auth" not in st.secrets:
        return None
    named = [name for name, value in st.secrets["auth"].items() if hasattr(value, "items")]
    return named or [None]


def _single_sign_on() -> Principal | None:
    """The account a provider's identity (st.login) maps to, now signed in for this session.
    None when single sign-on is off, no one signed on, or no account carries the identity."""
    if sso_providers() is None or not st.user.get("is_logged_in"):
        return None
    # st.login's cookie lasts 30 days and is read again by every new session (a reload, a
    # new tab): the session still ends SESSION_HOURS after the provider issued the identity.
    issued = _issued_at(st.user.get("iat"))
    if issued and dt.datetime.now(dt.UTC) - issued > dt.timedelta(hours=auth.SESSION_HOURS):
        st.session_state["notice"] = EXPIRED
        end_single_sign_on(EXPIRED)
    email = st.user.get("email")
    found = None
    if email and st.user.get("email_verified") is not False:
        found = auth.find_by_identity(accounts(), str(email))
    if found is None:
        shown = email or "the identity your provider gave"
        if st.session_state.get("sso_refused") != shown:  # audit once per session
            auth.audit(accounts(), None, "sign_in_failed", f"single sign-on {shown}: no account")
            st.session_state["sso_refused"] = shown
        st.session_state["notice"] = (
            f"{code(email) if email else shown} has no cohortlens account: ask an"
            " administrator to add it (`cohortlens users add ... --identity`), or sign in with"
            " a password."
        )
        return None
    auth.audit(accounts(), found.username, "sign_in", f"single sign-on {email}")
    sign_in(found, via="single sign-on", at=issued)
    return found


def _issued_at(iat) -> dt.datetime | None:
    """When the provider issued the identity (the ID token's `iat`, seconds), if it says."""
    try:
        return dt.datetime.fromtimestamp(float(iat), dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def require() -> Principal:
    """The principal of a page that needs one; stops the page otherwise."""
    found = principal()
    if found is None:
        st.warning("Please sign in.")
        st.stop()
    return found


def page(title: str, view: str) -> Principal:
    """The start of a signed-in page: its principal (narrowed by the sidebar's filters), title
    and snapshot time, audited."""
    who = filtered(require())
    st.title(title)
    snapshot_caption()
    if narrowing := who.filters.sentence():
        st.caption(narrowing)
    viewed(who, view)
    return who


def filtered(who: Principal) -> Principal:
    """``who`` narrowed by the filters the sidebar holds (a learner's pages have none)."""
    chosen = st.session_state.get("filters")
    return who if who.role == "student" or chosen is None else who.narrowed(chosen)


def viewed(who: Principal, page: str, detail: str = "") -> None:
    narrowed = f"filters={who.filters}" if who.filters.active else ""
    auth.audit(accounts(), who.username, "view", f"{page} {detail} {narrowed}".strip())


def snapshot_caption() -> None:
    """Which published data the page shows; a clear message before any exists."""
    try:
        snap = data.snapshot(serving())
    except data.NoSnapshot as exc:
        st.info(str(exc))
        st.stop()
    # One date for the whole publication (every mart of a run shares it): no one's data.
    program = Principal("as-of", "admin").cache_key
    as_of = _cached(data.as_of_date, "as_of_date", program, str(snap.path), str(serving()), ())
    day = f"as of {as_of:%Y-%m-%d}, " if as_of else ""
    st.caption(f"Data {day}published {snap.published_at:%Y-%m-%d %H:%M} UTC")


# Cached reads: the key holds the principal's scope and the snapshot file, so one principal's
# result is never served to another and a new snapshot is read at once.
@st.cache_data(ttl=300, show_spinner=False)
def _cached(
    _read: Callable, name: str, scope: tuple, snapshot_file: str, serving_dir: str, options: tuple
):
    # `_read` is left out of the key (leading underscore); `name` stands for it.
    return _read(Path(serving_dir), Principal.from_cache_key(scope), **dict(options))


def load(read: Callable[..., T], who: Principal, **options) -> T:
    """``read`` (a function of the data module) for ``who``; options narrow it, such as one
    organization."""
    folder = serving()
    snap = data.snapshot(folder)
    key = (who.cache_key, str(snap.path), str(folder), tuple(sorted(options.items())))
    return _cached(read, read.__qualname__, *key)


@st.cache_resource(ttl=600, show_spinner=False, max_entries=32)
def _what_if_starts(scope: tuple, snapshot_file: str, serving_dir: str, cohort_id: str):
    """A cohort's drawn starting points, kept for the slider (read-only once made)."""
    from engine.forecast import DRAWS, HORIZON_WEEKS, SEED, draw_starts

    inputs = data.what_if_inputs(Path(serving_dir), Principal.from_cache_key(scope), cohort_id)
    if inputs is None:
        return None
    obs, cal, target = inputs
    return (
        obs,
        cal,
        target,
        draw_starts(cal, obs, draws=DRAWS, horizon_weeks=HORIZON_WEEKS, seed=SEED),
    )


def what_if(who: Principal, cohort_id: str, effort: float):
    """The cohort's forecast with every future week's study hours times ``effort``."""
    from engine.forecast import HORIZON_WEEKS, forecast

    folder = serving()
    snap = data.snapshot(folder)
    kept = _what_if_starts(who.cache_key, str(snap.path), str(folder), cohort_id)
    if kept is None:
        return None
    obs, cal, target, starts = kept
    return forecast(
        cal, obs, target, starts=starts, horizon_weeks=HORIZON_WEEKS, effort_multiplier=effort
    )


def competency_history(who: Principal, cohort_id: str) -> pl.DataFrame:
    """The cohort's competency so far (``data.history_of``), from the starting points the
    what-if slider keeps: no second read. Empty without a calibration."""
    folder = serving()
    snap = data.snapshot(folder)
    kept = _what_if_starts(who.cache_key, str(snap.path), str(folder), cohort_id)
    if kept is None:
        return pl.DataFrame()
    obs, cal, _, _ = kept
    return data.history_of(obs, cal)


_BANDS = {
    "ready": ("ready", "green"),
    "developing": ("developing", "orange"),
    "not_ready": ("not ready", "red"),
}


def band_badge(band: str | None) -> dict:
    """st.badge's arguments for a readiness band: a label, never an arrow of change."""
    label, color = _BANDS.get(band or "", (band or "no band yet", "gray"))
    return {"label": label, "color": color}


def nudge(row: dict) -> str | None:
    """A learner's nudge: inactive for a week or more, or a streak that ends today."""
    last, as_of, streak = (
        row.get("last_active_date"),
        row.get("as_of_date"),
        row.get("current_streak_days"),
    )
    if last is None or as_of is None:
        return "You have not started yet: a first 20-minute session gets you going."
    idle = (as_of - last).days
    if idle >= 7:
        return (
            f"You have not studied since {last} ({idle} days). A 20-minute session today"
            " starts a new streak."
        )
    if streak and idle == 1:
        return f"Your {streak}-day streak ends unless you study today."
    return None
