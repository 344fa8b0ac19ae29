"""The Graph simulator over real HTTP: each documented behaviour and quirk the Teams adapter
relies on (docs/providers/teams.md), so the simulator cannot drift into being easier than
Graph. And it shares no code with the adapter."""

from __future__ import annotations

import ast
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from helpers import wait_for
from teams_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT,
    TENANT_DOMAIN,
    TeamsSimHandle,
    object_id,
    running_teams_sim,
)

from presence_dash.providers.teams import simulator

ADA, BOB = object_id("ada"), object_id("bob")
SCOPE = "https://graph.microsoft.com/.default"


@pytest.fixture
def sim() -> Iterator[TeamsSimHandle]:
    with running_teams_sim() as handle:
        yield handle


def _token_request(sim: TeamsSimHandle, tenant: str = TENANT, **form: str) -> requests.Response:
    data = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scope": SCOPE,
        "grant_type": "client_credentials",
        **form,
    }
    return requests.post(f"{sim.url}/{tenant}/oauth2/v2.0/token", data=data, timeout=5)


def test_the_token_reply_has_the_documented_fields(sim: TeamsSimHandle) -> None:
    body = _token_request(sim).json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert _token_request(sim, tenant=TENANT_DOMAIN).status_code == 200  # domain form too


@pytest.mark.parametrize(
    ("form", "tenant", "status", "error", "code"),
    [
        ({"client_secret": "wrong"}, TENANT, 401, "invalid_client", 7000215),
        ({"client_id": object_id("someone")}, TENANT, 400, "unauthorized_client", 700016),
        ({"scope": "https://foo.microsoft.com/.default"}, TENANT, 400, "invalid_scope", 70011),
        ({"grant_type": "password"}, TENANT, 400, "unsupported_grant_type", 70003),
        ({}, "fabrikam.onmicrosoft.com", 400, "invalid_request", 90002),
    ],
)
def test_token_errors_are_oauth_bodies_with_aadsts_codes(
    sim: TeamsSimHandle, form: dict[str, str], tenant: str, status: int, error: str, code: int
) -> None:
    response = _token_request(sim, tenant=tenant, **form)
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert "\r\nTrace ID: " in body["error_description"]


def test_presences_in_the_documented_shape_in_request_order(sim: TeamsSimHandle) -> None:
    sim.set(ADA, "Busy", "InAMeeting")
    sim.set(BOB, "Away", "Away", out_of_office=True)
    value = sim.presences([BOB, ADA]).json()["value"]
    assert [(v["id"], v["availability"], v["activity"]) for v in value] == [
        (BOB, "Away", "Away"),
        (ADA, "Busy", "InAMeeting"),
    ]
    assert value[0]["outOfOfficeSettings"]["isOutOfOffice"] is True
    assert value[1]["outOfOfficeSettings"]["isOutOfOffice"] is False


def test_ids_that_are_no_teams_user_come_back_presence_unknown_or_omitted(
    sim: TeamsSimHandle,
) -> None:
    sim.set(ADA, "Available", "Available")
    stranger = object_id("stranger")
    value = sim.presences([ADA, stranger]).json()["value"]
    assert value[1] == {**value[1], "id": stranger, "availability": "PresenceUnknown"}
    sim.settings(unknown_ids="omit")
    assert [v["id"] for v in sim.presences([ADA, stranger]).json()["value"]] == [ADA]


def test_more_than_650_ids_is_a_bad_request(sim: TeamsSimHandle) -> None:
    ids = [object_id(str(n)) for n in range(651)]
    response = sim.presences(ids)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"
    assert "650" in response.json()["error"]["message"]
    assert sim.presences(ids[:650]).status_code == 200


@pytest.mark.parametrize("bad", ["ada@contoso.com", 42, "fa8bf3dc-eca7-46b7-bad1"])
def test_ids_must_be_object_ids(sim: TeamsSimHandle, bad: object) -> None:
    response = sim.presences([ADA, bad])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"


def test_a_body_without_ids_or_not_json_is_refused(sim: TeamsSimHandle) -> None:
    url = f"{sim.url}/v1.0/communications/getPresencesByUserId"
    headers = {"Authorization": f"Bearer {sim.token()}"}
    assert requests.post(url, json={"users": [ADA]}, headers=headers, timeout=5).status_code == 400
    not_json = requests.post(url, data="ids=" + ADA, headers=headers, timeout=5)
    assert not_json.status_code == 415


def test_tokens_are_checked_and_lapse(sim: TeamsSimHandle) -> None:
    assert sim.presences([ADA], token="made-up").json()["error"]["message"] == (
        "Access token validation failure."
    )
    token = sim.token()
    assert sim.presences([ADA], token=token).status_code == 200
    sim.expire_tokens()
    expired = sim.presences([ADA], token=token)
    assert expired.status_code == 401
    assert expired.json()["error"] == {
        **expired.json()["error"],
        "code": "InvalidAuthenticationToken",
        "message": "Access token has expired or is not yet valid.",
    }
    assert set(expired.json()["error"]["innerError"]) == {"date", "request-id", "client-request-id"}


def test_a_short_token_lifetime_lapses_by_the_clock(sim: TeamsSimHandle) -> None:
    sim.settings(token_ttl_s=1.0)
    token = sim.token()
    started = time.monotonic()
    assert sim.presences([ADA], token=token).status_code == 200
    wait_for(lambda: sim.presences([ADA], token=token).status_code == 401, what="lapsed")
    assert time.monotonic() - started >= 0.9


def test_without_consent_to_presence_read_all_it_is_forbidden(sim: TeamsSimHandle) -> None:
    sim.settings(permission_granted=False)
    response = sim.presences([ADA])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "Forbidden"


def test_over_the_rate_limit_it_answers_429_with_retry_after(sim: TeamsSimHandle) -> None:
    sim.settings(rate_limit=3, rate_window_s=30)
    token = sim.token()
    assert [sim.presences([ADA], token=token).status_code for _ in range(3)] == [200] * 3
    throttled = sim.presences([ADA], token=token)
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 30
    assert throttled.json()["error"]["code"] == "TooManyRequests"


@pytest.mark.parametrize(
    ("kind", "status"), [("429", 429), ("500", 500), ("503", 503), ("401", 401)]
)
def test_faults_fail_the_next_call_once(sim: TeamsSimHandle, kind: str, status: int) -> None:
    token = sim.token()
    assert sim.fault(kind, retry_after=7) == 1
    response = sim.presences([ADA], token=token)
    assert response.status_code == status
    assert "code" in response.json()["error"]
    if kind == "429":
        assert response.headers["Retry-After"] == "7"
    assert sim.presences([ADA], token=token).status_code == 200


def test_malformed_faults(sim: TeamsSimHandle) -> None:
    token = sim.token()
    sim.fault("malformed")
    assert "value" not in sim.presences([ADA], token=token).json()
    sim.fault("not_json")
    with pytest.raises(ValueError):
        sim.presences([ADA], token=token).json()


def test_a_token_fault_hits_the_token_endpoint_only(sim: TeamsSimHandle) -> None:
    token = sim.token()
    sim.fault("token_500")
    assert sim.presences([ADA], token=token).status_code == 200
    assert _token_request(sim).status_code == 500
    assert _token_request(sim).status_code == 200


def test_the_request_log_counts_ids(sim: TeamsSimHandle) -> None:
    sim.presences([ADA, BOB])
    assert [r["ids"] for r in sim.requests()] == [2]
    assert len(sim.requests("token")) == 1


def test_demo_users_take_documented_pairs(sim: TeamsSimHandle) -> None:
    ids = [object_id(f"demo{n}") for n in range(40)]
    sim.sim.add_demo_users(ids)
    value = sim.presences(ids).json()["value"]
    assert {(v["availability"], v["activity"]) for v in value} <= set(simulator.DOCUMENTED_PAIRS)
    assert len({v["availability"] for v in value}) > 1


def test_the_simulator_shares_no_code_with_the_adapter() -> None:
    tree = ast.parse(Path(simulator.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.level, node.module or "")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    imported_names = {
        n.name for node in ast.walk(tree) if isinstance(node, ast.Import) for n in node.names
    }
    adapter = {"config", "graph", "mapping", "provider"}
    assert not {m for level, m in imported if level == 1} & adapter
    assert all("providers.teams" not in m for _, m in imported)
    assert all("providers.teams" not in n for n in imported_names)


# -- the directory: users by user principal name, alone and in $batch -----------------------


def _get_user(sim: TeamsSimHandle, path: str) -> requests.Response:
    return requests.get(
        f"{sim.url}/v1.0/users/{path}",
        headers={"Authorization": f"Bearer {sim.token()}"},
        timeout=5,
    )


def test_users_are_found_by_upn_in_any_case_or_by_object_id(sim: TeamsSimHandle) -> None:
    sim.directory({"Ada.Lovelace@contoso.com": ADA})
    for path in ("ada.lovelace@contoso.com", "ADA.LOVELACE%40contoso.com", ADA.upper()):
        response = _get_user(sim, path + "?$select=id,userPrincipalName")
        assert response.status_code == 200, (path, response.text)
        assert response.json()["id"] == ADA
        assert response.json()["userPrincipalName"] == "Ada.Lovelace@contoso.com"


def test_an_unknown_user_is_a_404_and_a_leading_dollar_needs_the_quoted_form(
    sim: TeamsSimHandle,
) -> None:
    response = _get_user(sim, "nobody@contoso.com")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "Request_ResourceNotFound"
    sim.directory({"$ops@contoso.com": BOB})
    assert _get_user(sim, "$ops@contoso.com").status_code == 400
    assert _get_user(sim, "$ops@contoso.com").json()["error"]["code"] == "BadRequest"
    answer = sim.batch([{"id": "1", "method": "GET", "url": "/users('$ops@contoso.com')"}])
    assert answer.json()["responses"][0]["body"]["id"] == BOB


def test_without_user_read_all_lookups_are_forbidden(sim: TeamsSimHandle) -> None:
    sim.directory({"ada@contoso.com": ADA})
    sim.settings(user_read_granted=False)
    response = _get_user(sim, "ada@contoso.com")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "Authorization_RequestDenied"
    batch = sim.batch([{"id": "1", "method": "GET", "url": "/users/ada@contoso.com"}])
    assert batch.status_code == 200  # the batch itself succeeds; its one answer does not
    assert batch.json()["responses"][0]["status"] == 403


def test_batch_answers_each_request_with_its_own_status_in_another_order(
    sim: TeamsSimHandle,
) -> None:
    sim.directory({"ada@contoso.com": ADA, "bob@contoso.com": BOB})
    requests_ = [
        {"id": str(n), "method": "GET", "url": f"/users/{name}?$select=id,userPrincipalName"}
        for n, name in enumerate(["ada@contoso.com", "nobody@contoso.com", "BOB@contoso.com"])
    ]
    responses = sim.batch(requests_).json()["responses"]
    assert [r["id"] for r in responses] == ["2", "1", "0"]
    assert {r["id"]: (r["status"], r["body"].get("id")) for r in responses} == {
        "0": (200, ADA),
        "1": (404, None),
        "2": (200, BOB),
    }
    assert sim.requests("batch")[-1]["requests"] == 3


def test_batch_takes_at_most_20_requests_and_checks_the_token(sim: TeamsSimHandle) -> None:
    many = [{"id": str(n), "method": "GET", "url": "/users/x@contoso.com"} for n in range(21)]
    response = sim.batch(many)
    assert response.status_code == 400
    assert "20" in response.json()["error"]["message"]
    assert sim.batch(many[:20]).status_code == 200
    assert sim.batch(many[:1], token="not-a-token").status_code == 401
    duplicate = sim.batch([many[0], many[0]])
    assert duplicate.status_code == 400


def test_the_quoted_form_works_on_its_own_too(sim: TeamsSimHandle) -> None:
    sim.directory({"$ops@contoso.com": BOB})
    response = requests.get(
        f"{sim.url}/v1.0/users('$ops@contoso.com')",
        headers={"Authorization": f"Bearer {sim.token()}"},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == BOB
