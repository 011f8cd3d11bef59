"""The session's plumbing that needs no running app: the browser key of a notice left across
single sign-on's sign-out, and how long such a notice waits."""

from __future__ import annotations

import datetime as dt
import os

from dashboards.session import _LeftNotices, xsrf_token


def _cookie(token: bytes, mask: bytes) -> str:
    """An XSRF cookie as Streamlit (after tornado) writes it: version 2, masked."""
    masked = bytes(m ^ t for m, t in zip(mask * 4, token, strict=False))
    return f"2|{mask.hex()}|{masked.hex()}|1765000000"


def test_the_token_under_a_fresh_mask_is_the_same():
    token = os.urandom(16)
    first, second = _cookie(token, os.urandom(4)), _cookie(token, os.urandom(4))
    assert first != second, "each page load masks the token afresh"
    assert xsrf_token(first) == xsrf_token(second) == token
    assert xsrf_token(_cookie(os.urandom(16), os.urandom(4))) != token


def test_a_cookie_of_another_form_is_its_own_key():
    assert xsrf_token("2|not hex|00|1") == b"2|not hex|00|1"
    assert xsrf_token("an old cookie") == b"an old cookie"


def test_a_notice_is_taken_once_by_its_browser_and_not_after_it_went_stale():
    notices = _LeftNotices()
    notices.leave("browser a", "You are signed out.")
    notices.leave(None, "no browser to leave it for")
    assert notices.take("browser b") is None
    assert notices.take(None) is None
    assert notices.take("browser a") == "You are signed out."
    assert notices.take("browser a") is None, "shown once"

    notices.leave("browser a", "stale")
    left_at, text = notices._waiting["browser a"]
    notices._waiting["browser a"] = (left_at - _LeftNotices.KEEP - dt.timedelta(seconds=1), text)
    assert notices.take("browser a") is None
