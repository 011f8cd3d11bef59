"""`cohortlens users`: local dashboard accounts from the command line."""

import shutil
import stat

import pytest
from typer.testing import CliRunner

from pipelines.cli import app

runner = CliRunner()


@pytest.fixture
def home(served, tmp_path, monkeypatch):
    """A home of its own holding the served snapshot and no accounts yet."""
    shutil.copytree(served.serving, tmp_path / "serving")
    monkeypatch.setenv("COHORTLENS_HOME", str(tmp_path))
    return tmp_path


def test_users_are_added_listed_and_removed_with_the_password_on_stdin(home, served):
    added = runner.invoke(
        app,
        ["users", "add", "sup", "--role", "supervisor", "--org", served.org, "--password-stdin"],
        input="a good password\n",
    )
    assert added.exit_code == 0 and f"sees {served.org}" in added.output
    accounts = home / "accounts.sqlite"
    assert stat.S_IMODE(accounts.stat().st_mode) == 0o600, "password hashes: owner only"
    listed = runner.invoke(app, ["users", "list"])
    assert "sup" in listed.output and "$argon2" not in listed.output
    again = runner.invoke(
        app,
        ["users", "add", "sup", "--role", "admin", "--password-stdin"],
        input="another password\n",
    )
    assert again.exit_code == 2 and "exists already" in again.output
    no_stdin = runner.invoke(app, ["users", "add", "x1", "--role", "admin"])
    assert no_stdin.exit_code == 2 and "--password-stdin" in no_stdin.output
    assert runner.invoke(app, ["users", "remove", "sup"]).exit_code == 0
    assert runner.invoke(app, ["users", "remove", "sup"]).exit_code == 2


def test_a_single_sign_on_account_needs_no_password(home):
    added = runner.invoke(
        app, ["users", "add", "ada", "--role", "admin", "--identity", "Ada@Example.org"]
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["users", "list"], env={"COLUMNS": "160"})
    assert "ada@example.org" in listed.output
    taken = runner.invoke(
        app, ["users", "add", "eve", "--role", "admin", "--identity", "ada@example.org"]
    )
    assert taken.exit_code == 2 and "belongs to another account" in taken.output


def test_an_account_for_an_organization_or_learner_the_data_lacks_is_refused(home, served):
    def add(*scope):
        return runner.invoke(
            app, ["users", "add", "x1", *scope, "--password-stdin"], input="a good password\n"
        )

    no_org = add("--role", "supervisor", "--org", "ORG-TYPO")
    assert no_org.exit_code == 2 and "'ORG-TYPO' is not in the reference data" in no_org.output
    no_learner = add("--role", "student", "--learner", "L-NOBODY")
    assert no_learner.exit_code == 2 and "'L-NOBODY' is not in the reference data" in (
        no_learner.output
    )
    assert add("--role", "student", "--learner", served.student).exit_code == 0
    listed = runner.invoke(app, ["users", "list"], env={"COLUMNS": "160"})
    assert "x1" in listed.output and "ORG-TYPO" not in listed.output


def test_scoped_accounts_wait_for_published_data(tmp_path, monkeypatch):
    monkeypatch.setenv("COHORTLENS_HOME", str(tmp_path))
    result = runner.invoke(
        app,
        ["users", "add", "sup", "--role", "supervisor", "--org", "ORG01", "--password-stdin"],
        input="a good password\n",
    )
    assert result.exit_code == 2 and "run `cohortlens run` first" in result.output
    assert "Traceback" not in result.output
