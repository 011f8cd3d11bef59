"""The Ralph fixtures work: statements go in and come back page by page, each test starts on
an empty LRS, and the proxy fails when told to. Also what the client may count on from Ralph."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import requests

from tests.lrs.fixtures import XAPI_VERSION, FaultyProxy, RalphLRS

HOME = "https://learn.cohortlens.example"


def statement(i: int = 0, learner: str = "L00001") -> dict:
    when = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC) + dt.timedelta(minutes=i)
    return {
        "id": str(uuid.uuid4()),
        "actor": {"account": {"homePage": HOME, "name": learner}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": f"{HOME}/activities/x", "objectType": "Activity"},
        "timestamp": when.isoformat(),
    }


def test_250_statements_come_back_in_three_pages(ralph_lrs: RalphLRS) -> None:
    sent = [statement(i) for i in range(250)]
    assert ralph_lrs.post(sent, chunk=100) == [s["id"] for s in sent]
    pages = ralph_lrs.get_pages()
    assert [len(page["statements"]) for page in pages] == [100, 100, 50]
    assert pages[0]["more"].startswith("/xAPI/statements?")  # relative to the server's root
    got = [s["id"] for page in pages for s in page["statements"]]
    assert sorted(got) == sorted(s["id"] for s in sent)


def test_a_second_post_is_stored_too(ralph_lrs: RalphLRS) -> None:
    first, second = statement(0), statement(1)
    assert ralph_lrs.post([first]) == [first["id"]]
    assert ralph_lrs.post([second]) == [second["id"]]  # the fs backend appends
    assert [s["id"] for s in ralph_lrs.get_all()] == [first["id"], second["id"]]


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_empty(ralph_lrs: RalphLRS, run: int) -> None:
    assert ralph_lrs.get_all() == []
    ralph_lrs.post([statement(run)])


def test_the_same_statement_again_is_a_no_op_and_a_different_one_a_conflict(
    ralph_lrs: RalphLRS,
) -> None:
    sent = statement()
    url = f"{ralph_lrs.endpoint}statements"
    assert ralph_lrs.session.post(url, json=[sent]).status_code == 200
    assert ralph_lrs.session.post(url, json=[sent]).status_code == 204
    changed = sent | {"verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}}
    assert ralph_lrs.session.post(url, json=[changed]).status_code == 409
    assert len(ralph_lrs.get_all()) == 1


def test_proxy_fails_the_next_two_requests_then_forwards(faulty_proxy: FaultyProxy) -> None:
    session = requests.Session()
    session.auth = (faulty_proxy.username, faulty_proxy.password)
    session.headers.update(XAPI_VERSION)
    url = f"{faulty_proxy.endpoint}statements"
    sent = [statement(i) for i in range(101)]

    faulty_proxy.fail_next(2, status=500)
    assert [session.post(url, json=sent).status_code for _ in range(3)] == [500, 500, 200]
    faulty_proxy.fail_next(1, status=429)
    throttled = session.get(url)
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "0")
    first = session.get(url).json()
    rest = session.get(faulty_proxy.root + first["more"]).json()  # through the proxy again
    assert len(first["statements"]) + len(rest["statements"]) == 101
    assert faulty_proxy.requests == 6
    assert [status for _, _, status in faulty_proxy.log] == [500, 500, 200, 429, 200, 200]


def test_proxy_can_lose_the_answer_after_ralph_stored_the_post(
    faulty_proxy: FaultyProxy, ralph_lrs: RalphLRS
) -> None:
    sent = statement()
    faulty_proxy.fail_next(1, status=503, forward=True)
    auth = (faulty_proxy.username, faulty_proxy.password)
    url = f"{faulty_proxy.endpoint}statements"
    assert requests.post(url, json=[sent], auth=auth, headers=XAPI_VERSION).status_code == 503
    assert [s["id"] for s in ralph_lrs.get_all()] == [sent["id"]]
    # The client's retry of the same batch is then harmless.
    assert requests.post(url, json=[sent], auth=auth, headers=XAPI_VERSION).status_code == 204
