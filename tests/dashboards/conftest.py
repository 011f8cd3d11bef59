"""A served program: the small built warehouse published as a snapshot, with accounts."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboards import auth
from pipelines.serving import connect, publish

PASSWORD = "correct horse battery"
SSO_EMAIL = "supervisor@example.org"


@dataclass(frozen=True)
class Served:
    home: Path
    serving: Path
    accounts: Path
    org: str  # the supervisor's organization
    other_org: str
    student: str  # the student's learner id (starter3: forecast and leaderboard)
    free_student: str  # a learner on the free plan
    pro_student: str  # a professional7 learner with mentor reviews (mentor and rubric feedback)
    other_learner: str  # a learner of the other organization


@pytest.fixture(scope="session")
def served(built_program, tmp_path_factory) -> Served:
    home = tmp_path_factory.mktemp("home")
    warehouse = home / "warehouse.duckdb"
    shutil.copy(built_program.warehouse, warehouse)
    snapshot = publish(warehouse).snapshot
    with connect(snapshot) as con:
        orgs = [
            r[0]
            for r in con.sql(
                "select org_id from marts.learner_readiness group by 1 order by count(*) desc"
            ).fetchall()
        ]
        pick = "select learner_id from marts.learner_readiness where org_id = ? and subscription_tier = ? order by learner_id limit 1"  # noqa: E501
        student = con.execute(pick, [orgs[0], "starter3"]).fetchall()[0][0]
        free = con.execute(pick, [orgs[0], "free"]).fetchall()[0][0]
        pro = con.execute(
            "select min(learner_id) from marts.learner_readiness join marts.learner_rubric_scores"
            " using (learner_id) where org_id = ? and subscription_tier = 'professional7'",
            [orgs[0]],
        ).fetchall()[0][0]
        other = con.execute(
            "select min(learner_id) from marts.learner_readiness where org_id = ?", [orgs[1]]
        ).fetchall()[0][0]
    accounts = auth.accounts_path(home)
    auth.add_user(accounts, "admin", "admin", PASSWORD)
    auth.add_user(accounts, "sup", "supervisor", PASSWORD, org_id=orgs[0])
    auth.add_user(accounts, "stu", "student", PASSWORD, learner_id=student)
    auth.add_user(accounts, "free", "student", PASSWORD, learner_id=free)
    auth.add_user(accounts, "pro", "student", PASSWORD, learner_id=pro)
    # Single sign-on only: the identity an OIDC provider vouches for, no password.
    auth.add_user(accounts, "sso-sup", "supervisor", None, org_id=orgs[0], identity=SSO_EMAIL)
    return Served(home, home / "serving", accounts, orgs[0], orgs[1], student, free, pro, other)
