"""The Glance simulator on its own, by raw HTTP against the documented wire format (not
through our adapter): login keys, group-specific tokens that expire, signals only on the
visitor's own presence server, both findvisitor shapes, and the signal log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
import requests
from glance_helpers import (
    API_KEY,
    GROUP,
    OTHER_GROUP,
    PARTNER_USER,
    GlanceSimHandle,
)


def key_for(expiry: int, api_key: str = API_KEY, partner: int = GROUP) -> str:
    # Written from the Login Key article, independently of the adapter's code.
    mac = hmac.new(api_key.encode(), f"{partner}{PARTNER_USER}1{expiry}".encode(), hashlib.sha256)
    return f"$1${expiry}$" + base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def authorize(sim: GlanceSimHandle, group: int = GROUP, **body: object) -> requests.Response:
    credentials = {
        "partnerid": GROUP,
        "partneruserid": PARTNER_USER,
        "loginkey": key_for(int(time.time()) + 300),
        **body,
    }
    params = {"service": "presence", "groupid": group, "duration": 5}
    return requests.post(sim.servers.auth_url, params=params, json=credentials, timeout=5)


def token(sim: GlanceSimHandle, group: int = GROUP) -> str:
    response = authorize(sim, group)
    assert response.status_code == 200, response.text
    return response.json()["authToken"]


def get(sim: GlanceSimHandle, path: str, tok: str, **params: object) -> requests.Response:
    headers = {"Authorization": f"Bearer {tok}"}
    return requests.get(sim.url + path, params=params, headers=headers, timeout=5)


def test_authorize_answers_with_glances_field_names(glance_sim: GlanceSimHandle) -> None:
    body = authorize(glance_sim).json()
    assert body["authToken"]
    assert body["authTokeExp"].endswith("Z")  # sic, Glance's spelling
    assert len(body["authTokeExp"].split(".")[1]) == 8  # seven digits and the Z
    assert body["groupId"] == GROUP


@pytest.mark.parametrize(
    "credentials",
    [
        {"loginkey": key_for(int(time.time()) + 300, api_key="wrong")},
        {"loginkey": key_for(int(time.time()) - 5)},  # expired
        {"loginkey": key_for(int(time.time()) + 2 * 86_400)},  # more than a day ahead
        {"loginkey": "not-a-key"},
        {"partneruserid": "someone-else"},
    ],
)
def test_bad_login_keys_are_refused(glance_sim: GlanceSimHandle, credentials: dict) -> None:
    assert authorize(glance_sim, **credentials).status_code == 401


def test_a_token_is_for_its_group_only_and_expires(glance_sim: GlanceSimHandle) -> None:
    tok = token(glance_sim, GROUP)
    assert get(glance_sim, "/query", tok, groupid=GROUP).status_code == 200
    assert get(glance_sim, "/query", tok, groupid=OTHER_GROUP).status_code == 401
    assert get(glance_sim, "/query", "made-up", groupid=GROUP).status_code == 401
    glance_sim.expire_tokens()
    assert get(glance_sim, "/query", tok, groupid=GROUP).status_code == 401


def test_findvisitor_names_the_server_in_either_documented_shape(
    glance_sim: GlanceSimHandle,
) -> None:
    glance_sim.arrive("v-ada", server=1)
    tok = token(glance_sim)
    flat = get(glance_sim, "/findvisitor", tok, groupid=GROUP, visitorid="v-ada").json()
    assert flat["visitorfound"] is True and flat["direct"] == glance_sim.server_name(1)
    glance_sim.quirks(findvisitor_shape="nested")
    nested = get(glance_sim, "/findvisitor", tok, groupid=GROUP, visitorid="v-ada").json()
    assert nested == {"visitorfound": {"direct": glance_sim.server_name(1)}}
    gone = get(glance_sim, "/findvisitor", tok, groupid=GROUP, visitorid="v-zed").json()
    assert gone == {"visitorfound": False}


def test_signals_work_only_on_the_visitors_own_server(glance_sim: GlanceSimHandle) -> None:
    glance_sim.arrive("v-ada", server=1)
    tok = token(glance_sim)
    message = {"mtype": "invoke", "data": {"func": "GLANCE.Cobrowse.Visitor.startSession"}}
    params = {"groupid": GROUP, "visitorid": "v-ada"}
    headers = {"Authorization": f"Bearer {tok}"}
    urls = [glance_sim.url, *(f"http://{name}" for name in glance_sim.sim.servers)]
    answers = [
        requests.post(u + "/signalvisitor", params=params, json=message, headers=headers, timeout=5)
        for u in urls
    ]
    assert [a.status_code for a in answers] == [404, 404, 200]  # balancer, server 0, server 1
    assert [(s["server"], s["data"]) for s in glance_sim.signals()] == [(1, message["data"])]


def test_query_lists_presence_records_of_the_group(glance_sim: GlanceSimHandle) -> None:
    glance_sim.arrive("v-ada", title="Pricing")
    glance_sim.arrive("v-other", group_id=OTHER_GROUP)
    body = get(glance_sim, "/query", token(glance_sim), groupid=GROUP).json()
    [record] = body["visitors"]
    assert record["visitorid"] == "v-ada" and record["title"] == "Pricing"
    assert float(record["visitorpresent"]) > 1.7e9  # epoch seconds as a string, as documented
    assert record["direct"] == glance_sim.server_name(0)
