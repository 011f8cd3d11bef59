"""`cohortlens users`: the dashboards' local accounts, from the command line.

Accounts live beside the data (``COHORTLENS_HOME/accounts.sqlite``, see :mod:`dashboards.auth`).
A supervisor's organization and a student's learner must exist in the published data.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipelines.cli_help import Command, Group
from pipelines.paths import resolve_paths

console = Console()
err = Console(stderr=True, soft_wrap=True)

users_app = typer.Typer(
    cls=Group,
    help="Local dashboard accounts ($COHORTLENS_HOME/accounts.sqlite).",
    no_args_is_help=True,
)


@users_app.command("add", cls=Command)
def users_add(
    username: Annotated[str, typer.Argument(help="Lowercase letters, digits, '.', '_', '-'.")],
    role: Annotated[str, typer.Option(help="admin, supervisor or student.")],
    org: Annotated[str | None, typer.Option(help="Organization a supervisor sees.")] = None,
    learner: Annotated[str | None, typer.Option(help="A student's own learner id.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    identity: Annotated[
        str | None,
        typer.Option(help="Single sign-on e-mail (OIDC) that signs in as this account."),
    ] = None,
    replace: Annotated[bool, typer.Option(help="Reset an existing account.")] = False,
) -> None:
    """Create a dashboard account; the password is read from stdin, never from the command.
    With --identity and no --password-stdin, the account signs in by single sign-on only."""
    from dashboards import auth

    if not password_stdin and identity is None:
        err.print(
            "[red]error:[/red] pass the password on standard input with --password-stdin"
            " (or give a single sign-on --identity)"
        )
        raise typer.Exit(2)
    unknown = _unknown_scope(org, learner)
    if unknown:
        err.print(f"[red]error:[/red] {unknown}")
        raise typer.Exit(2)
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        principal = auth.add_user(
            auth.accounts_path(resolve_paths().home),
            username,
            role,
            password,
            org,
            learner,
            replace=replace,
            identity=identity,
        )
    except auth.AccountError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    scope = principal.org_id or principal.learner_id or "everything"
    console.print(f"account {principal.username} ({principal.role}, sees {scope}) saved")


def _unknown_scope(org: str | None, learner: str | None) -> str | None:
    """Why ``org`` or ``learner`` cannot be an account's scope, or None when both exist in the
    published data (an account for a typo would see nothing, and say nothing about why)."""
    from dashboards import data
    from dashboards.auth import Principal

    if org is None and learner is None:
        return None
    serving = resolve_paths().serving
    try:
        known = data.known_scope(serving, Principal("cohortlens-cli", "admin"), org, learner)
    except data.NoSnapshot:
        return (
            f"no published data in {serving} to check --org / --learner against:"
            " run `cohortlens run` first"
        )
    except Exception as exc:  # an unreadable publication: say so, in one line
        return f"the published data in {serving} could not be read: {exc}"
    if org is not None and org not in known.org_ids:
        return f"organization {org!r} is not in the reference data"
    if learner is not None and learner not in known.learner_ids:
        return f"learner {learner!r} is not in the reference data"
    return None


DEMO_PASSWORD = "cohortlens-demo"


def _demo_accounts(accounts, snap) -> list:
    """An admin, a supervisor per organization and a learner per plan, from ``snap``."""
    from dashboards import auth
    from pipelines.serving import connect

    with connect(snap) as con:
        orgs = con.sql("select distinct org_id from marts.learner_readiness order by 1")
        orgs = [row[0] for row in orgs.fetchall()]
        students = con.sql(
            """
            select subscription_tier, min(learner_id) from marts.learner_readiness
            where org_id = (select min(org_id) from marts.learner_readiness)
            group by 1 order by 1
            """
        ).fetchall()
    made = [auth.add_user(accounts, "admin", "admin", DEMO_PASSWORD, replace=True)]
    for org in orgs:
        name = f"supervisor-{org.lower()}"
        made.append(
            auth.add_user(accounts, name, "supervisor", DEMO_PASSWORD, org_id=org, replace=True)
        )
    for tier, learner in students:
        made.append(
            auth.add_user(
                accounts,
                f"learner-{tier}",
                "student",
                DEMO_PASSWORD,
                learner_id=learner,
                replace=True,
            )
        )
    return made


@users_app.command("demo", cls=Command)
def users_demo() -> None:
    """(Re)create the demo accounts from the published data and print how to sign in."""
    from dashboards import auth, data

    paths = resolve_paths()
    try:
        made = _demo_accounts(auth.accounts_path(paths.home), data.snapshot(paths.serving))
    except data.NoSnapshot as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    except Exception as exc:  # one clear line, no traceback
        err.print(f"[red]error:[/red] {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None
    table = Table(title=f"Demo sign-ins (password for all: {DEMO_PASSWORD})")
    for column in ("username", "role", "sees"):
        table.add_column(column)
    for p in made:
        table.add_row(p.username, p.role, p.org_id or p.learner_id or "every organization")
    Console(width=max(console.width, 100)).print(table)


@users_app.command("list", cls=Command)
def users_list() -> None:
    """Every account, with its role and scope (never the password hash)."""
    from dashboards import auth

    table = Table(title="Dashboard accounts")
    for column in ("username", "role", "organization", "learner", "single sign-on"):
        table.add_column(column)
    for p, identity in auth.list_users(auth.accounts_path(resolve_paths().home)):
        table.add_row(p.username, p.role, p.org_id or "", p.learner_id or "", identity or "")
    console.print(table)


@users_app.command("remove", cls=Command)
def users_remove(username: str) -> None:
    """Delete an account; its sessions end at their next page view."""
    from dashboards import auth

    if not auth.remove_user(auth.accounts_path(resolve_paths().home), username):
        err.print(f"[red]error:[/red] no account named {username!r}")
        raise typer.Exit(2)
    console.print(f"account {username} removed")
