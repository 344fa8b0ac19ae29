"""The Salesforce simulator's wire contract over real HTTP (shared/providers/salesforce.md):
the token endpoint for both flows with OAuth error bodies, SOQL over AuthSession (an honest
parser: unknown fields and types are errors), paging, the error array, expiry on the org
clock, faults, the signed login/logout webhook calls and the demo."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from flask import Flask, request
from helpers import (
    REPO_ROOT,
    SF_API_USER,
    SF_CLIENT_ID,
    SF_CLIENT_SECRET,
    SfSimHandle,
    free_port,
    rsa_key_pair,
    start_salesforce_sim,
    wait_for,
)

from presence_dash.simulators.salesforce import SalesforceSim, make_id
from presence_dash.simulators.serve import SimulatorServer

V = "v60.0"
SIM_ARGS = ["simulate", "salesforce", "--client-id", "cli-app", "--demo-users", "5"]
ADA, BOB = make_id("005", 1), make_id("005", 2)
SELECT = (
    "SELECT UsersId, LastModifiedDate, NumSecondsValid FROM AuthSession "
    "WHERE UsersId IN ({ids}) AND SessionType = 'UI' AND LoginType = 'Application' "
    "ORDER BY LastModifiedDate ASC"
)


# -- a raw REST client, written from the public docs for these tests -------------------------


def token(h: SfSimHandle, **form: str) -> requests.Response:
    data = form or {
        "grant_type": "client_credentials",
        "client_id": SF_CLIENT_ID,
        "client_secret": SF_CLIENT_SECRET,
    }
    return h.http.post(h.url + "/services/oauth2/token", data=data, timeout=5)


def access(h: SfSimHandle) -> str:
    response = token(h)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def assertion(h: SfSimHandle, key: str | None = None, **claims: Any) -> str:
    body = {"iss": SF_CLIENT_ID, "sub": SF_API_USER, "aud": h.url, "exp": int(time.time()) + 120}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key or rsa_key_pair()[0], algorithm="RS256")


def query(
    h: SfSimHandle, soql: str, bearer: str | None = None, path: str = ""
) -> requests.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    url = h.url + (path or f"/services/data/{V}/query")
    params = None if path else {"q": soql}
    return h.http.get(url, params=params, headers=headers, timeout=5)


def sf_error(response: requests.Response) -> str:
    body = response.json()
    assert isinstance(body, list) and set(body[0]) == {"message", "errorCode"}, body
    return body[0]["errorCode"]


def ids(*users: str) -> str:
    return ", ".join(f"'{u}'" for u in users)


# -- tokens ----------------------------------------------------------------------------------


def test_client_credentials_token_has_salesforce_fields_and_a_valid_signature(
    salesforce_sim: SfSimHandle,
) -> None:
    response = token(salesforce_sim)
    assert response.status_code == 200
    body = response.json()
    assert {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"} <= set(
        body
    )
    assert body["token_type"] == "Bearer" and body["instance_url"] == salesforce_sim.url
    mac = hmac.new(
        SF_CLIENT_SECRET.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256
    )
    assert base64.b64decode(body["signature"]) == mac.digest()


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"client_id": "nope", "client_secret": SF_CLIENT_SECRET}, "invalid_client_id"),
        ({"client_id": SF_CLIENT_ID, "client_secret": "wrong"}, "invalid_client"),
        ({"client_id": SF_CLIENT_ID}, "invalid_client"),
    ],
)
def test_client_credentials_refusals_use_the_oauth_error_body(
    salesforce_sim: SfSimHandle, form: dict[str, str], error: str
) -> None:
    response = token(salesforce_sim, grant_type="client_credentials", **form)
    assert response.status_code == 400
    assert response.json()["error"] == error and response.json()["error_description"]


def test_unknown_grant_type_is_refused(salesforce_sim: SfSimHandle) -> None:
    response = token(salesforce_sim, grant_type="password", username="x", password="y")
    assert (response.status_code, response.json()["error"]) == (400, "unsupported_grant_type")


def test_jwt_bearer_accepts_a_good_assertion(salesforce_sim: SfSimHandle) -> None:
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"}
    response = token(salesforce_sim, **form, assertion=assertion(salesforce_sim))
    assert response.status_code == 200, response.text
    bearer = response.json()["access_token"]
    assert query(salesforce_sim, "SELECT Id FROM AuthSession", bearer).status_code == 200


def test_jwt_bearer_checks_signature_audience_issuer_subject_and_expiry(
    salesforce_sim: SfSimHandle,
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    h = salesforce_sim
    cases = [
        (assertion(h, key=other.decode()), "invalid_grant", "invalid assertion"),
        (assertion(h, aud="https://evil.example.com"), "invalid_grant", "audience is invalid"),
        (assertion(h, iss="someone-else"), "invalid_client_id", "client identifier invalid"),
        (assertion(h, sub="intruder@example.com"), "invalid_grant", "user hasn't approved"),
        (assertion(h, exp=int(time.time()) - 10), "invalid_grant", "expired"),
        (assertion(h, exp=int(time.time()) + 3600), "invalid_grant", "expired"),
        (assertion(h, exp=None), "invalid_grant", "invalid assertion"),
        ("not.a.jwt", "invalid_grant", "invalid assertion"),
    ]
    for jwt_text, error, description in cases:
        response = token(
            h, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=jwt_text
        )
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["error"] == error and description in body["error_description"], body


def test_login_urls_are_valid_audiences_too(salesforce_sim: SfSimHandle) -> None:
    jwt_text = assertion(salesforce_sim, aud="https://login.salesforce.com")
    response = token(
        salesforce_sim, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=jwt_text
    )
    assert response.status_code == 200


# -- queries ---------------------------------------------------------------------------------


def test_query_without_or_with_an_unknown_or_expired_token_is_401_invalid_session_id(
    salesforce_sim: SfSimHandle,
) -> None:
    h = salesforce_sim
    soql = "SELECT Id FROM AuthSession"
    for bearer in (None, "00Dfake!token"):
        response = query(h, soql, bearer)
        assert (response.status_code, sf_error(response)) == (401, "INVALID_SESSION_ID")
    bearer = access(h)
    assert query(h, soql, bearer).status_code == 200
    assert h.expire_tokens() == 1
    response = query(h, soql, bearer)
    assert (response.status_code, sf_error(response)) == (401, "INVALID_SESSION_ID")
    assert query(h, soql, access(h)).status_code == 200  # a new token works again


def test_records_carry_attributes_and_salesforce_date_times(salesforce_sim: SfSimHandle) -> None:
    h = salesforce_sim
    row = h.login(ADA, last_modified="2026-11-22T15:04:05.250Z", seconds_valid=900)
    response = query(h, SELECT.format(ids=ids(ADA)), access(h))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["totalSize"], body["done"]) == (1, True) and "nextRecordsUrl" not in body
    assert body["records"] == [
        {
            "attributes": {
                "type": "AuthSession",
                "url": f"/services/data/{V}/sobjects/AuthSession/{row['Id']}",
            },
            "UsersId": ADA,
            "LastModifiedDate": "2026-11-22T15:04:05.250+0000",
            "NumSecondsValid": 900,
        }
    ]
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")


def test_expired_sessions_stay_in_the_table_so_the_client_must_do_the_maths(
    salesforce_sim: SfSimHandle,
) -> None:
    h = salesforce_sim
    h.login(ADA, last_modified="2020-01-01T00:00:00Z", seconds_valid=60)
    body = query(h, SELECT.format(ids=ids(ADA)), access(h)).json()
    assert [r["LastModifiedDate"] for r in body["records"]] == ["2020-01-01T00:00:00.000+0000"]
    assert h.state()["sessions"][0]["valid"] is False


def test_where_clause_filters_by_user_session_type_and_login_type(
    salesforce_sim: SfSimHandle,
) -> None:
    h = salesforce_sim
    h.login(ADA)
    h.login(ADA, session_type="API", notify=False)
    h.login(ADA, login_type="SAML Idp Initiated SSO")
    h.login(BOB)
    carol = make_id("005", 3)
    h.login(carol)
    bearer = access(h)
    body = query(h, SELECT.format(ids=ids(ADA, BOB)), bearer).json()
    assert sorted(r["UsersId"] for r in body["records"]) == sorted([ADA, BOB])
    # a 15-character id names the same user; string comparisons ignore case
    soql = f"SELECT UsersId FROM AuthSession WHERE UsersId = '{BOB[:15]}' AND sessiontype = 'ui'"
    assert [r["UsersId"] for r in query(h, soql, bearer).json()["records"]] == [BOB]
    either = f"SELECT UsersId FROM AuthSession WHERE (UsersId = '{ADA}' OR UsersId = '{carol}')"
    either += " AND LoginType = 'Application' AND SessionType = 'UI'"
    assert sorted(r["UsersId"] for r in query(h, either, bearer).json()["records"]) == sorted(
        [ADA, carol]
    )


def test_login_type_in_a_list_and_created_date_are_answered_honestly(
    salesforce_sim: SfSimHandle,
) -> None:
    h = salesforce_sim
    h.login(
        ADA,
        login_type="SAML Idp Initiated SSO",
        created="2026-11-22T14:00:00Z",
        last_modified="2026-11-22T15:00:00Z",
        notify=False,
    )
    h.login(BOB, login_type="SAML Sfdc Initiated SSO", notify=False)
    h.login(BOB, session_type="API", login_type="Unknown", notify=False)
    h.login(make_id("005", 3), login_type="Remote Access 2.0", notify=False)
    soql = (
        "SELECT UsersId, CreatedDate, LoginType FROM AuthSession WHERE LoginType IN "
        "('Application', 'saml idp initiated sso', 'SAML Sfdc Initiated SSO') "
        "AND SessionType = 'UI' ORDER BY CreatedDate ASC"
    )
    records = query(h, soql, access(h)).json()["records"]
    assert [(r["UsersId"], r["LoginType"]) for r in records] == [
        (ADA, "SAML Idp Initiated SSO"),
        (BOB, "SAML Sfdc Initiated SSO"),
    ]
    assert records[0]["CreatedDate"] == "2026-11-22T14:00:00.000+0000"
    assert set(records[0]) == {"attributes", "UsersId", "CreatedDate", "LoginType"}


def test_a_session_cannot_be_created_after_its_last_modification(
    salesforce_sim: SfSimHandle,
) -> None:
    response = salesforce_sim.http.post(
        salesforce_sim.url + f"/_sim/users/{ADA}/login",
        json={"created": "2026-01-01T00:00:01Z", "last_modified": "2026-01-01T00:00:00Z"},
        timeout=5,
    )
    assert response.status_code == 400 and "CreatedDate" in response.json()["error"]


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT UsersId, Presence__c FROM AuthSession", "INVALID_FIELD"),
        ("SELECT Id FROM AuthSession WHERE NoSuchField = 'x'", "INVALID_FIELD"),
        ("SELECT Id FROM AuthSession WHERE NumSecondsValid = 'ten'", "INVALID_FIELD"),
        ("SELECT Id FROM AuthSession WHERE LastModifiedDate > '2026-01-01'", "INVALID_FIELD"),
        ("SELECT Id FROM AuthSession WHERE UsersId = 'nonsense'", "INVALID_QUERY_FILTER_OPERATOR"),
        (
            "SELECT Id FROM AuthSession WHERE UsersId > '005000000000001'",
            "INVALID_QUERY_FILTER_OPERATOR",
        ),
        ("SELECT Id FROM LoginHistory", "INVALID_TYPE"),
        # LoginTime is LoginHistory's; AuthSession has only CreatedDate
        ("SELECT UsersId, LoginTime FROM AuthSession", "INVALID_FIELD"),
        ("SELECT Id FROM AuthSession WHERE LoginType IN ('Application', 3)", "INVALID_FIELD"),
        ("SELECT FROM AuthSession", "MALFORMED_QUERY"),
        ("SELECT Id FROM AuthSession WHERE UsersId IN ('a'", "MALFORMED_QUERY"),
        (
            "SELECT Id FROM AuthSession WHERE IsCurrent = true AND Id = null OR Id = null",
            "MALFORMED_QUERY",
        ),
        ("SELECT Id, Id FROM AuthSession", "MALFORMED_QUERY"),
        ("SELECT Id FROM AuthSession LIMIT x", "MALFORMED_QUERY"),
    ],
)
def test_soql_errors_are_400_with_salesforce_error_codes(
    salesforce_sim: SfSimHandle, soql: str, code: str
) -> None:
    response = query(salesforce_sim, soql, access(salesforce_sim))
    assert (response.status_code, sf_error(response)) == (400, code), response.text


def test_malformed_query_message_points_at_the_column(salesforce_sim: SfSimHandle) -> None:
    response = query(salesforce_sim, "SELECT Id FROM AuthSession WHERE", access(salesforce_sim))
    assert "ERROR at Row:1:Column:33" in response.json()[0]["message"]


def test_missing_q_and_unknown_api_version_are_errors(salesforce_sim: SfSimHandle) -> None:
    h, bearer = salesforce_sim, access(salesforce_sim)
    assert sf_error(query(h, "", bearer, path=f"/services/data/{V}/query")) == "MALFORMED_QUERY"
    wrong = h.http.get(
        h.url + "/services/data/latest/query",
        params={"q": "SELECT Id FROM AuthSession"},
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=5,
    )
    assert (wrong.status_code, sf_error(wrong)) == (404, "NOT_FOUND")


def test_results_are_paged_with_next_records_url(salesforce_sim: SfSimHandle) -> None:
    h = salesforce_sim
    h.settings(page_size=2)
    users = [make_id("005", n) for n in range(10, 15)]
    for u in users:
        h.login(u, notify=False)
    bearer = access(h)
    first = query(h, SELECT.format(ids=ids(*users)), bearer).json()
    pages, seen = [first], list(first["records"])
    while not pages[-1]["done"]:
        nxt = pages[-1]["nextRecordsUrl"]
        assert nxt.startswith(f"/services/data/{V}/query/01g")
        pages.append(query(h, "", bearer, path=nxt).json())
        seen += pages[-1]["records"]
    assert [len(p["records"]) for p in pages] == [2, 2, 1]
    assert {p["totalSize"] for p in pages} == {5}
    assert "nextRecordsUrl" not in pages[-1]
    assert sorted(r["UsersId"] for r in seen) == sorted(users)
    times = [r["LastModifiedDate"] for r in seen]
    assert times == sorted(times)  # ORDER BY LastModifiedDate ASC across pages
    again = query(h, "", bearer, path=pages[0]["nextRecordsUrl"])  # cursor is gone when done
    assert (again.status_code, sf_error(again)) == (400, "INVALID_QUERY_LOCATOR")
    assert query(h, "", None, path=pages[0]["nextRecordsUrl"]).status_code == 401


def test_urls_over_16_kb_are_refused(salesforce_sim: SfSimHandle) -> None:
    h = salesforce_sim
    many = [make_id("005", n) for n in range(100, 800)]
    response = query(h, SELECT.format(ids=ids(*many)), access(h))
    assert response.status_code == 414
    assert query(h, SELECT.format(ids=ids(*many[:100])), access(h)).status_code == 200


def test_date_header_is_the_org_clock(salesforce_sim: SfSimHandle) -> None:
    h = salesforce_sim
    h.clock(offset_s=3600)
    response = query(h, "SELECT Id FROM AuthSession", access(h))
    org_now = parsedate_to_datetime(response.headers["Date"]).timestamp()
    assert abs(org_now - (time.time() + 3600)) < 5
    h.clock(at="2026-01-02T03:04:05Z")
    response = query(h, "SELECT Id FROM AuthSession", access(h))
    assert response.headers["Date"] == "Fri, 02 Jan 2026 03:04:05 GMT"
    assert h.login(ADA, notify=False)["LastModifiedDate"] == "2026-01-02T03:04:05.000+0000"


# -- limits and faults -----------------------------------------------------------------------


def test_faults_are_consumed_one_per_api_call_in_order(salesforce_sim: SfSimHandle) -> None:
    h = salesforce_sim
    bearer = access(h)
    h.fault("limit")
    h.fault("500")
    h.fault("503")
    h.fault("401")
    h.fault("malformed")
    soql = "SELECT Id FROM AuthSession"
    got = []
    for _ in range(6):
        response = query(h, soql, bearer)
        try:
            got.append((response.status_code, sf_error(response)))
        except (ValueError, AssertionError, KeyError):
            got.append((response.status_code, response.text[:12]))
    assert got == [
        (403, "REQUEST_LIMIT_EXCEEDED"),
        (500, "UNKNOWN_EXCEPTION"),
        (503, "SERVER_UNAVAILABLE"),
        (401, "INVALID_SESSION_ID"),
        (200, '{"totalSize"'),
        (200, '{"done":true'),
    ]
    assert [r["fault"] for r in h.requests("/query")] == [
        "limit",
        "500",
        "503",
        "401",
        "malformed",
        None,
    ]


def test_slow_fault_delays_the_answer(salesforce_sim: SfSimHandle) -> None:
    h = salesforce_sim
    bearer = access(h)
    h.fault("slow", delay_s=0.5)
    started = time.monotonic()
    assert query(h, "SELECT Id FROM AuthSession", bearer).status_code == 200
    assert time.monotonic() - started >= 0.5


def test_daily_api_limit_gives_request_limit_exceeded(salesforce_sim: SfSimHandle) -> None:
    h = salesforce_sim
    bearer = access(h)
    h.settings(api_limit=2, api_usage=0)
    soql = "SELECT Id FROM AuthSession"
    first = query(h, soql, bearer)
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/2"
    assert query(h, soql, bearer).status_code == 200
    third = query(h, soql, bearer)
    assert (third.status_code, sf_error(third)) == (403, "REQUEST_LIMIT_EXCEEDED")


def test_control_api_refuses_bad_input(salesforce_sim: SfSimHandle) -> None:
    h = salesforce_sim
    assert h.http.post(h.url + "/_sim/faults", json={"kind": "nope"}, timeout=5).status_code == 400
    bad_id = h.http.post(h.url + "/_sim/users/xyz/login", json={}, timeout=5)
    assert bad_id.status_code == 400
    bad_time = h.http.post(
        h.url + f"/_sim/users/{ADA}/login", json={"last_modified": "yesterday"}, timeout=5
    )
    assert bad_time.status_code == 400
    assert h.http.post(h.url + "/_sim/clock", json={"at": "soon"}, timeout=5).status_code == 400


# -- login/logout webhook calls --------------------------------------------------------------


@dataclass
class Receiver:
    url: str
    hits: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A tiny real HTTP endpoint that records the webhook calls it gets."""
    app = Flask("receiver")
    rec = Receiver("")

    @app.post("/hooks/salesforce")
    def hook() -> str:
        rec.hits.append((dict(request.headers), request.get_data()))
        return "{}"

    server = SimulatorServer(app).start()
    rec.url = server.url + "/hooks/salesforce"
    yield rec
    server.shutdown()


@pytest.fixture
def hooked(receiver: Receiver) -> Iterator[tuple[SfSimHandle, Receiver]]:
    sim = SalesforceSim(
        client_id=SF_CLIENT_ID,
        client_secret=SF_CLIENT_SECRET,
        webhook_url=receiver.url,
        webhook_secret="s3cret",
    )
    handle = start_salesforce_sim(sim)
    yield handle, receiver
    handle.close()


def test_login_and_logout_call_the_webhook_signed_over_the_body(
    hooked: tuple[SfSimHandle, Receiver],
) -> None:
    h, rec = hooked
    h.clock(at="2026-11-22T15:04:05Z")
    h.login(ADA)
    h.login(ADA, session_type="API")  # not a UI login: no Login Flow runs
    assert h.logout(ADA)["ended"] == 2
    assert [w["status"] for w in h.webhooks()] == [200, 200]
    events = []
    for headers, body in rec.hits:
        expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers["X-Presence-Signature"] == expected
        assert headers["Content-Type"] == "application/json"
        events.append(json.loads(body))
    assert events == [
        {"user_id": ADA, "event": "login", "event_time": "2026-11-22T15:04:05.000Z"},
        {"user_id": ADA, "event": "logout", "event_time": "2026-11-22T15:04:05.000Z"},
    ]
    assert h.state()["sessions"] == []


def test_logout_and_login_without_notify_send_nothing(hooked: tuple[SfSimHandle, Receiver]) -> None:
    h, rec = hooked
    h.login(ADA, notify=False)
    h.logout(ADA, notify=False)
    assert h.webhooks() == [] and rec.hits == []


def test_an_unreachable_webhook_is_logged_not_retried() -> None:
    sim = SalesforceSim(webhook_url=f"http://127.0.0.1:{free_port()}/x", webhook_secret="k")
    h = start_salesforce_sim(sim)
    try:
        h.login(ADA)
        sent = h.webhooks()
        assert len(sent) == 1 and "ConnectionError" in sent[0]["error"]
    finally:
        h.close()


# -- demo ------------------------------------------------------------------------------------


def test_demo_users_show_a_mix_and_move_on_when_due(salesforce_sim: SfSimHandle) -> None:
    sim = salesforce_sim.sim
    users = [make_id("005", n) for n in range(200, 240)]
    sim.add_demo_users(users, random.Random(3))
    states = {d.state for d in sim.demo.values()}
    assert states == {"in", "closed", "out"}
    sessions = salesforce_sim.state()["sessions"]
    logged_in = {s["UsersId"] for s in sessions if s["SessionType"] == "UI"}
    assert logged_in == {u for u, d in sim.demo.items() if d.state != "out"}
    # some sign in through SAML SSO; some have an API session (Unknown) besides, or only that
    assert {s["LoginType"] for s in sessions if s["SessionType"] == "UI"} == {
        "Application",
        "SAML Idp Initiated SSO",
        "SAML Sfdc Initiated SSO",
    }
    api_only = {s["UsersId"] for s in sessions if s["SessionType"] == "API"} - logged_in
    assert api_only and {s["LoginType"] for s in sessions if s["SessionType"] == "API"} == {
        "Unknown"
    }
    for demo in sim.demo.values():
        demo.until = 0
    before = {u: d.state for u, d in sim.demo.items()}
    assert sorted(sim.advance_demo()) == sorted(users)
    for u, d in sim.demo.items():
        assert (before[u] == "in") == (d.state != "in")


def test_working_demo_users_keep_their_sessions_alive(salesforce_sim: SfSimHandle) -> None:
    h, sim = salesforce_sim, salesforce_sim.sim
    h.clock(at="2026-01-01T00:00:00Z")
    sim.session_seconds = 100
    sim.add_demo_users([ADA], random.Random(1))
    sim.demo[ADA].state, sim.demo[ADA].until = "in", sim.now() + 10_000
    with sim.lock:
        sim.sessions.clear()
    sim.login(ADA, notify=False)
    h.clock(at="2026-01-01T00:01:00Z")  # past half its life: activity extends it
    sim.advance_demo()
    assert h.state()["sessions"][0]["LastModifiedDate"] == "2026-01-01T00:01:00.000+0000"


def test_exactly_one_chosen_demo_user_logs_out_through_the_webhook(
    hooked: tuple[SfSimHandle, Receiver],
) -> None:
    h, rec = hooked
    sim = h.sim
    users = [make_id("005", n) for n in range(300, 330)]
    h.clock(at="2026-01-01T09:00:00Z")
    sim.add_demo_users(users, random.Random(8), logout_user=users[7], logout_after_s=30)
    assert sim.demo[users[7]].state == "in"
    for minute in range(1, 30):  # half an hour of the demo, a minute at a time
        h.clock(at=f"2026-01-01T09:{minute:02d}:00Z")
        sim.advance_demo()
    assert sim.drain()  # every callout has been answered by the receiver
    sent = [json.loads(body) for _, body in rec.hits]
    logouts = [e for e in sent if e["event"] == "logout"]
    assert logouts == [
        {"user_id": users[7], "event": "logout", "event_time": "2026-01-01T09:01:00.000Z"}
    ]
    assert sim.demo[users[7]].state == "out"  # and stays out
    assert any(e["event"] == "login" for e in sent)  # the others come and go by sessions


def test_the_demo_logout_user_defaults_to_the_first_and_must_be_a_demo_user(
    salesforce_sim: SfSimHandle,
) -> None:
    sim = salesforce_sim.sim
    sim.add_demo_users([ADA, BOB], random.Random(2))
    assert [u for u, d in sim.demo.items() if d.logs_out] == [ADA]
    with pytest.raises(ValueError, match="not one of the demo users"):
        sim.add_demo_users([ADA], logout_user=BOB)


def test_the_demo_thread_applies_due_changes_on_its_own(salesforce_sim: SfSimHandle) -> None:
    sim = salesforce_sim.sim
    sim.add_demo_users([ADA, BOB], random.Random(5))
    for demo in sim.demo.values():
        demo.until = 0
    sim.start_demo(interval_s=0.05)
    wait_for(lambda: all(d.until > 0 for d in sim.demo.values()), 5, what="the demo thread")


# -- the command line ------------------------------------------------------------------------


def test_presence_dash_simulate_salesforce_serves_on_the_port(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "SIM_PASSWORD": "cli-secret"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "presence_dash.launch", *SIM_ARGS, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def answered() -> requests.Response | None:
            try:
                return requests.post(
                    url + "/services/oauth2/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": "cli-app",
                        "client_secret": "cli-secret",
                    },
                    timeout=2,
                )
            except requests.ConnectionError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                return None

        response = wait_for(answered, 20, interval=0.1, what="the simulator to answer")
        assert response.status_code == 200, response.text
        state = requests.get(url + "/_sim/state", timeout=2).json()
        assert state["users"] == 5
    finally:
        proc.terminate()
        proc.wait(timeout=5)
