from __future__ import annotations

import sqlite3

import pytest

from dashboards import auth


def test_passwords_are_stored_as_argon2_hashes_only(tmp_path):
    path = tmp_path / "accounts.sqlite"
    auth.add_user(path, "sup", "supervisor", "s3cret-pass", org_id="ORG01")
    (stored,) = sqlite3.connect(path).execute("select password_hash from users").fetchone()
    assert stored.startswith("$argon2id$") and "s3cret-pass" not in stored
    assert auth.sign_in(path, "sup", "s3cret-pass").principal.org_id == "ORG01"
    assert auth.sign_in(path, "SUP ", "s3cret-pass").principal is not None  # case and spaces


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Bad Name", "admin", "long-enough"), "username"),
        (("ok", "root", "long-enough"), "role"),
        (("ok", "supervisor", "long-enough"), "--org"),
        (("ok", "student", "long-enough"), "--learner"),
        (("ok", "admin", "short"), "8 characters"),
    ],
)
def test_bad_accounts_are_refused_in_words(tmp_path, args, message):
    with pytest.raises(auth.AccountError, match=message):
        auth.add_user(tmp_path / "a.sqlite", *args)


def test_failed_sign_ins_are_slowed_then_locked_and_audited(tmp_path):
    path = tmp_path / "accounts.sqlite"
    auth.add_user(path, "stu", "student", "right-password", learner_id="L1")
    waits, messages = [], []
    for _ in range(auth.LOCK_AFTER):
        result = auth.sign_in(path, "stu", "wrong", sleep=waits.append)
        assert result.principal is None and "wrong password" in result.message
        messages.append(result.message.removeprefix("Unknown username or wrong password."))
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]  # after three free failures
    # Each refusal says what the next attempt costs.
    assert messages[:3] == ["", "", " The next attempt waits 1 s."]
    assert messages[8] == " The next attempt waits 30 s."
    assert messages[9] == " Too many failed sign-ins: try again in 15 minutes."
    locked = auth.sign_in(path, "stu", "right-password", sleep=waits.append)
    assert locked.principal is None and "Too many" in locked.message
    events = (
        sqlite3.connect(path)
        .execute("select event, count(*) from audit_events group by 1")
        .fetchall()
    )
    assert dict(events) == {"sign_in_failed": auth.LOCK_AFTER + 1}


def test_unknown_users_fail_like_wrong_passwords(tmp_path):
    path = tmp_path / "accounts.sqlite"
    auth.add_user(path, "sup", "admin", "right-password")
    assert auth.sign_in(path, "nobody", "x").message == auth.sign_in(path, "sup", "x").message


def test_a_single_sign_on_identity_maps_to_one_account(tmp_path):
    path = tmp_path / "accounts.sqlite"
    auth.add_user(path, "sup", "supervisor", None, org_id="ORG01", identity="Ada@Example.org ")
    found = auth.find_by_identity(path, "ada@example.ORG")
    assert found is not None and (found.username, found.org_id) == ("sup", "ORG01")
    assert auth.find_by_identity(path, "eve@example.org") is None
    with pytest.raises(auth.AccountError, match="belongs to another account"):
        auth.add_user(path, "other", "admin", "long-enough", identity="ada@example.org")
    with pytest.raises(auth.AccountError, match="password, a single sign-on identity"):
        auth.add_user(path, "nopass", "admin", None)
    # Without a password the account signs in by single sign-on only.
    assert auth.sign_in(path, "sup", "!").principal is None
    assert auth.sign_in(path, "sup", "").principal is None


def test_an_accounts_file_from_before_single_sign_on_is_migrated(tmp_path):
    path = tmp_path / "accounts.sqlite"
    old = sqlite3.connect(path)
    old.execute(
        "create table users (username text primary key, role text not null, org_id text,"
        " learner_id text, password_hash text not null, created_at text not null)"
    )
    old.commit()
    old.close()
    auth.add_user(path, "adm", "admin", "long-enough", identity="adm@example.org")
    assert auth.find_by_identity(path, "adm@example.org").username == "adm"
    assert auth.sign_in(path, "adm", "long-enough").principal is not None
