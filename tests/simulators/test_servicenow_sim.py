"""The ServiceNow simulator's wire contract over real HTTP (docs/providers/servicenow.md):
auth and its error body, the presence response, request validation, queued faults, and the
demo mode that keeps a wall screen lively."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from helpers import SN_PASSWORD, SN_USERNAME, SnSimHandle, start_sn_sim, sys_id

from presence_dash.simulators.servicenow import ServiceNowSim

PRESENCE = "/api/now/ui/presence"
ADA, GRACE, ALAN = sys_id("ada"), sys_id("grace"), sys_id("alan")


def _age_status(server_ms: int, last_on: int) -> str:
    age = server_ms - last_on
    return "online" if age < 30_000 else "away" if age < 60_000 else "offline"


@pytest.mark.parametrize(
    "auth",
    [
        None,
        (SN_USERNAME, "wrong"),
        ("admin", SN_PASSWORD),
        "Bearer abc",
        "Basic !!!not-base64",
        "Basic /w==",  # base64 of a byte that is not UTF-8
    ],
)
def test_bad_or_missing_auth_gets_servicenows_401(sn_sim: SnSimHandle, auth: Any) -> None:
    headers = {"Authorization": auth} if isinstance(auth, str) else {}
    response = requests.post(
        sn_sim.url + PRESENCE,
        json={"users": [ADA]},
        auth=auth if isinstance(auth, tuple) else None,
        headers=headers,
        timeout=5,
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Service-now"'
    assert response.json() == {
        "error": {
            "message": "User Not Authenticated",
            "detail": "Required to provide Auth information",
        },
        "status": "failure",
    }


def test_a_refused_call_does_not_use_up_a_fault(sn_sim: SnSimHandle) -> None:
    sn_sim.fault("500")
    assert sn_sim.presence([ADA], auth=(SN_USERNAME, "wrong")).status_code == 401
    assert sn_sim.presence([ADA]).status_code == 500


def _honour_users(handle: SnSimHandle) -> None:
    quirk = requests.post(handle.url + "/_sim/quirks", json={"ignore_users": False}, timeout=5)
    assert quirk.json()["ignore_users"] is False


def test_like_the_instance_it_answers_for_everyone_it_tracks_whatever_is_asked(
    sn_sim: SnSimHandle,
) -> None:
    for user in (ADA, GRACE, ALAN):
        sn_sim.set_user(user, seconds_ago=5)
    result = sn_sim.presence([ADA, sys_id("nobody")]).json()["result"]
    assert sorted(i["user"] for i in result["presenceArray"]) == sorted([ADA, GRACE, ALAN])
    # The list is still validated: the simulator rejects what the adapter must not send.
    assert sn_sim.presence(["not-a-sys-id"]).status_code == 400


def test_the_honour_users_quirk_can_be_set_at_construction() -> None:
    sim = ServiceNowSim(username=SN_USERNAME, password=SN_PASSWORD, ignore_users=False)
    handle = start_sn_sim(sim)
    try:
        handle.set_user(ADA, seconds_ago=1)
        handle.set_user(GRACE, seconds_ago=1)
        array = handle.presence([GRACE]).json()["result"]["presenceArray"]
        assert [i["user"] for i in array] == [GRACE]
    finally:
        handle.server.shutdown()


def test_presence_answer_has_the_vendor_shape_and_only_requested_users_when_honoured(
    sn_sim: SnSimHandle,
) -> None:
    _honour_users(sn_sim)
    ada = sn_sim.set_user(ADA, seconds_ago=5)["last_on"]
    sn_sim.set_user(GRACE, seconds_ago=45)
    sn_sim.set_user(ALAN, seconds_ago=120)
    before = int(time.time() * 1000)

    response = sn_sim.presence([ADA, GRACE, sys_id("nobody")])

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["result"]
    result = body["result"]
    assert set(result) == {"serverTimeMillis", "presenceArray"}
    server_ms = result["serverTimeMillis"]
    assert isinstance(server_ms, int) and abs(server_ms - before) < 5_000
    by_user = {item["user"]: item for item in result["presenceArray"]}
    assert set(by_user) == {ADA, GRACE}  # alan was not asked for; nobody has no record
    assert all(set(item) == {"user", "last_on"} for item in result["presenceArray"])
    assert by_user[ADA]["last_on"] == ada
    assert _age_status(server_ms, by_user[ADA]["last_on"]) == "online"
    assert _age_status(server_ms, by_user[GRACE]["last_on"]) == "away"


def test_get_with_a_users_query_parameter(sn_sim: SnSimHandle) -> None:
    _honour_users(sn_sim)
    sn_sim.set_user(ADA, seconds_ago=1)
    sn_sim.set_user(GRACE, seconds_ago=1)
    response = requests.get(
        sn_sim.url + PRESENCE,
        params={"users": f"{ADA},{ALAN}"},
        auth=(SN_USERNAME, SN_PASSWORD),
        timeout=5,
    )
    assert response.status_code == 200
    assert [i["user"] for i in response.json()["result"]["presenceArray"]] == [ADA]


def test_instance_clock_skew_moves_server_time_and_last_on_together(
    sn_sim: SnSimHandle,
) -> None:
    sn_sim.clock(-600_000)
    last_on = sn_sim.set_user(ADA, seconds_ago=10)["last_on"]
    result = sn_sim.presence([ADA]).json()["result"]
    assert abs(result["serverTimeMillis"] - (time.time() * 1000 - 600_000)) < 5_000
    assert 10_000 <= result["serverTimeMillis"] - last_on < 15_000


def test_the_single_l_spelling_of_the_time_key_is_a_quirk(sn_sim: SnSimHandle) -> None:
    quirk = requests.post(
        sn_sim.url + "/_sim/quirks", json={"time_key": "serverTimeMilis"}, timeout=5
    )
    assert quirk.status_code == 200
    assert set(sn_sim.presence([ADA]).json()["result"]) == {"serverTimeMilis", "presenceArray"}


def test_clearing_a_user_removes_the_presence_record(sn_sim: SnSimHandle) -> None:
    sn_sim.set_user(ADA, seconds_ago=1)
    assert sn_sim.set_user(ADA)["last_on"] is None
    assert sn_sim.presence([ADA]).json()["result"]["presenceArray"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"users": ["not-a-sys-id"]},
        {"users": [ADA.upper()]},
        {"users": [123]},
        {"users": ADA},
        {"ids": [ADA]},
        [ADA],
    ],
)
def test_invalid_requests_get_400_with_the_error_body(sn_sim: SnSimHandle, body: Any) -> None:
    response = requests.post(
        sn_sim.url + PRESENCE, json=body, auth=(SN_USERNAME, SN_PASSWORD), timeout=5
    )
    assert response.status_code == 400
    error = response.json()
    assert error["status"] == "failure"
    assert error["error"]["message"] == "Invalid request"
    assert error["error"]["detail"]


def test_faults_are_consumed_one_per_call_in_order(sn_sim: SnSimHandle) -> None:
    sn_sim.fault("500")
    sn_sim.fault("429", retry_after=3)
    sn_sim.fault("503")
    sn_sim.fault("401")
    sn_sim.fault("html")
    assert sn_sim.fault("not_json") == 6

    answers = [sn_sim.presence([ADA]) for _ in range(7)]

    assert [r.status_code for r in answers] == [500, 429, 503, 401, 200, 200, 200]
    assert answers[0].json()["error"]["message"] == "Instance unavailable"
    assert answers[1].headers["Retry-After"] == "3"
    assert answers[1].json()["error"]["message"] == "Rate limit exceeded"
    assert answers[3].json()["error"]["detail"] == "Session expired"
    assert answers[4].headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        answers[5].json()
    assert "presenceArray" in answers[6].json()["result"]
    log = sn_sim.request_log()
    assert [r["fault"] for r in log["requests"]] == [
        "500",
        "429",
        "503",
        "401",
        "html",
        "not_json",
        None,
    ]
    assert log["pending_faults"] == 0


def test_malformed_fault_breaks_the_documented_shape(sn_sim: SnSimHandle) -> None:
    sn_sim.fault("malformed")
    result = sn_sim.presence([ADA]).json()["result"]
    assert "presenceArray" not in result
    assert not isinstance(result.get("serverTimeMillis"), int)


def test_slow_fault_delays_the_answer(sn_sim: SnSimHandle) -> None:
    sn_sim.fault("slow", delay_s=0.3)
    started = time.monotonic()
    assert sn_sim.presence([ADA]).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_unknown_fault_kind_is_refused(sn_sim: SnSimHandle) -> None:
    response = requests.post(sn_sim.url + "/_sim/faults", json={"kind": "502"}, timeout=5)
    assert response.status_code == 400
    assert sn_sim.request_log()["pending_faults"] == 0


# -- the Table API view --------------------------------------------------------------------

TABLE = "/api/now/table/sys_user_presence"
MANY = [sys_id(f"row{i}") for i in range(30)]


def _table_users(handle: SnSimHandle, query: str, **params: str) -> list[str]:
    response = requests.get(
        handle.url + TABLE,
        params={"sysparm_query": query, "sysparm_exclude_reference_link": "true", **params},
        auth=(SN_USERNAME, SN_PASSWORD),
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return [row["user"] for row in response.json()["result"]]


@pytest.fixture
def rows(sn_sim: SnSimHandle) -> SnSimHandle:
    for i, user in enumerate(MANY):
        sn_sim.set_user(user, seconds_ago=i)
    return sn_sim


def test_table_rows_come_in_the_order_asked_for(rows: SnSimHandle) -> None:
    query = "userIN" + ",".join(MANY)
    by_sys_id = _table_users(rows, query + "^ORDERBYsys_id")
    assert by_sys_id == _table_users(rows, query + "^ORDERBYsys_id")  # stable
    assert sorted(by_sys_id) == sorted(MANY)
    assert _table_users(rows, query + "^ORDERBYuser") == sorted(MANY)
    assert _table_users(rows, query + "^ORDERBYDESClast_on") == MANY  # newest first
    # Pages of an ordered query add up to the whole, each row once.
    pages = [
        _table_users(rows, query + "^ORDERBYsys_id", sysparm_limit="7", sysparm_offset=str(o))
        for o in range(0, 30, 7)
    ]
    assert [u for page in pages for u in page] == by_sys_id


def test_table_rows_without_an_order_shift_between_calls(rows: SnSimHandle) -> None:
    query = "userIN" + ",".join(MANY)
    orders = {tuple(_table_users(rows, query)) for _ in range(5)}
    assert len(orders) > 1  # 30! orders: five equal draws would be a miracle
    assert all(sorted(order) == sorted(MANY) for order in orders)


@pytest.mark.parametrize("clause", ["ORDERBYname", "ORDERBY", "active=true"])
def test_table_query_clauses_it_does_not_know_are_refused(sn_sim: SnSimHandle, clause: str) -> None:
    response = requests.get(
        sn_sim.url + TABLE,
        params={"sysparm_query": f"userIN{ADA}^{clause}"},
        auth=(SN_USERNAME, SN_PASSWORD),
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invalid query"


# -- demo mode ------------------------------------------------------------------------------


DEMO_IDS = [sys_id(f"demo{i}") for i in range(40)]


@pytest.fixture
def demo_sim() -> Iterator[SnSimHandle]:
    sim = ServiceNowSim(username=SN_USERNAME, password=SN_PASSWORD, rng=random.Random(11))
    sim.add_demo_users(DEMO_IDS)
    handle = start_sn_sim(sim)
    yield handle
    handle.server.shutdown()


def _demo_statuses(handle: SnSimHandle) -> dict[str, str]:
    result = handle.presence(DEMO_IDS).json()["result"]
    server_ms = result["serverTimeMillis"]
    return {i["user"]: _age_status(server_ms, i["last_on"]) for i in result["presenceArray"]}


def test_demo_users_show_a_mix_of_statuses(demo_sim: SnSimHandle) -> None:
    statuses = _demo_statuses(demo_sim)
    assert set(statuses) == set(DEMO_IDS)
    counts = {s: list(statuses.values()).count(s) for s in ("online", "away", "offline")}
    assert all(counts.values()), counts
    assert counts["online"] > counts["away"] and counts["online"] > counts["offline"]


def test_demo_users_move_on_when_their_dwell_time_ends(demo_sim: SnSimHandle) -> None:
    before = _demo_statuses(demo_sim)
    sim = demo_sim.sim
    with sim.lock:
        states = {u: d.state for u, d in sim.demo.items()}
        for user in sim.demo.values():
            user.until = time.time() - 1  # every dwell time is over

    after = _demo_statuses(demo_sim)

    with sim.lock:
        assert all(sim.demo[u].state != states[u] for u in DEMO_IDS)
        assert all(d.until > time.time() for d in sim.demo.values())
    gone = [u for u in DEMO_IDS if states[u] == "gone"]
    assert gone and all(before[u] == "offline" and after[u] == "online" for u in gone)
