"""The real dashboard process against the Glance simulator, over real HTTP: the visitor list
and `visitors` events, co-browse and signals reaching exactly the right presence server,
idempotency keys, request validation, a visitor who left (409), the SSRF refusal (502, nothing
sent), and token renewal behind a user's click."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from glance_helpers import (
    API_KEY,
    API_KEY_ENV,
    GROUP,
    OTHER_GROUP,
    GlanceSimHandle,
    VisitorRecorder,
    glance_section,
)
from helpers import DashServer, wait_for

COBROWSE_FUNC = "GLANCE.Cobrowse.Visitor.startSession"


@pytest.fixture
def dash(
    tmp_path: Path,
    glance_sim: GlanceSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
) -> Callable[..., DashServer]:
    def start(**glance: Any) -> DashServer:
        section = glance_section(glance_sim, **glance)
        config = make_config(tmp_path, [], None, providers={"glance": section})
        server = dash_server(config, **{API_KEY_ENV: API_KEY})
        wait_for(lambda: _glance_state(server)["last_success"], 10, what="glance's first poll")
        return server

    return start


@pytest.fixture
def connect() -> Iterator[Callable[[DashServer], VisitorRecorder]]:
    clients: list[socketio.Client] = []

    def open_client(server: DashServer) -> VisitorRecorder:
        client = socketio.Client(reconnection=False)
        recorder = VisitorRecorder(client)
        client.connect(server.url, transports=["websocket"], wait_timeout=5)
        clients.append(client)
        recorder.wait("snapshot")
        return recorder

    yield open_client
    for client in clients:
        client.disconnect()


def _glance_state(server: DashServer) -> dict[str, Any]:
    return server.get("/api/presence").json()["providers"]["glance"]


def _visitor_ids(server: DashServer) -> list[str]:
    return [v["visitor_id"] for v in server.get("/api/visitors").json()["visitors"]]


def _post(server: DashServer, path: str, body: Any = None, **headers: str) -> requests.Response:
    return requests.post(server.url + path, json=body, headers=headers, timeout=10)


def test_visitors_are_listed_and_pushed_as_they_come_and_go(
    dash: Callable[..., DashServer],
    glance_sim: GlanceSimHandle,
    connect: Callable[[DashServer], VisitorRecorder],
) -> None:
    glance_sim.arrive("v-ada", url="https://www.example.com/pricing", title="Pricing")
    server = dash()
    wait_for(lambda: _visitor_ids(server) == ["v-ada"], 10, what="v-ada listed")
    body = server.get("/api/visitors").json()
    [ada] = body["visitors"]
    assert ada["group_id"] == GROUP and ada["status"] == "present"
    assert ada["since"].endswith("Z")
    assert ada["metadata"]["title"] == "Pricing"
    assert body["counts"] == {str(GROUP): 1}

    recorder = connect(server)
    mark = recorder.mark()
    glance_sim.arrive("v-bob", server=1)
    pushed = recorder.wait(
        "visitors",
        lambda d: {v["visitor_id"] for v in d["visitors"]} == {"v-ada", "v-bob"},
        after=mark,
    )
    glance_sim.leave("v-ada")
    left = recorder.wait(
        "visitors", lambda d: [v["visitor_id"] for v in d["visitors"]] == ["v-bob"], after=mark
    )
    assert left["seq"] > pushed["seq"]
    assert left["counts"] == {str(GROUP): 1}


def test_cobrowse_reaches_the_visitors_own_presence_server(
    dash: Callable[..., DashServer], glance_sim: GlanceSimHandle
) -> None:
    glance_sim.arrive("v-bob", server=1)
    server = dash()
    wait_for(lambda: _visitor_ids(server) == ["v-bob"], 10, what="v-bob listed")

    response = _post(server, "/api/visitors/v-bob/cobrowse")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "sent",
        "visitor_id": "v-bob",
        "group_id": GROUP,
        "mtype": "invoke",
    }
    [signal] = glance_sim.signals()
    assert (signal["server"], signal["visitor_id"], signal["mtype"]) == (1, "v-bob", "invoke")
    assert signal["data"] == {"func": COBROWSE_FUNC}


def test_a_custom_signal_is_delivered_as_sent(
    dash: Callable[..., DashServer], glance_sim: GlanceSimHandle
) -> None:
    glance_sim.arrive("v-ada")
    server = dash()
    data = {"command": "startchat", "chatid": "56789"}
    response = _post(server, "/api/visitors/v-ada/signal", {"mtype": "signal", "data": data})
    assert response.status_code == 200, response.text
    assert [(s["mtype"], s["data"]) for s in glance_sim.signals()] == [("signal", data)]


def test_the_same_idempotency_key_sends_once(
    dash: Callable[..., DashServer], glance_sim: GlanceSimHandle
) -> None:
    glance_sim.arrive("v-ada")
    server = dash()
    first = _post(server, "/api/visitors/v-ada/cobrowse", **{"Idempotency-Key": "click-123456"})
    again = _post(server, "/api/visitors/v-ada/cobrowse", **{"Idempotency-Key": "click-123456"})
    other = _post(server, "/api/visitors/v-ada/cobrowse", **{"Idempotency-Key": "click-654321"})

    assert first.status_code == again.status_code == other.status_code == 200
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(glance_sim.signals()) == 2  # the repeat was answered, not sent

    reused = _post(
        server,
        "/api/visitors/v-ada/signal",
        {"mtype": "signal", "data": {"x": 1}},
        **{"Idempotency-Key": "click-123456"},
    )
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/visitors/v-ada/signal", {"mtype": "eval", "data": {}}, 400, "bad_mtype"),
        (
            "/api/visitors/v-ada/signal",
            {"mtype": "invoke", "data": {"func": "alert"}},
            400,
            "bad_func",
        ),
        (
            "/api/visitors/v-ada/signal",
            {"mtype": "signal", "data": {"t": "x" * 5000}},
            413,
            "data_too_large",
        ),
        ("/api/visitors/v-ada/signal", "not an object", 400, "bad_body"),
        ("/api/visitors/v%20ada/cobrowse", None, 400, "bad_visitor_id"),
        ("/api/visitors/v-ada/cobrowse", {"group_id": 999}, 400, "unknown_group"),
    ],
)
def test_invalid_requests_are_refused_before_anything_is_sent(
    dash: Callable[..., DashServer],
    glance_sim: GlanceSimHandle,
    path: str,
    body: Any,
    status: int,
    code: str,
) -> None:
    glance_sim.arrive("v-ada")
    server = dash()
    response = _post(server, path, body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert glance_sim.requests_log("findvisitor") == []
    assert glance_sim.signals() == []


def test_a_visitor_who_left_gets_409_and_leaves_the_list(
    dash: Callable[..., DashServer], glance_sim: GlanceSimHandle
) -> None:
    glance_sim.arrive("v-ada")
    server = dash(poll_seconds=30)  # no poll will notice before the click does
    wait_for(lambda: _visitor_ids(server) == ["v-ada"], 10, what="v-ada listed")
    glance_sim.leave("v-ada")

    response = _post(server, "/api/visitors/v-ada/cobrowse")

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "visitor_gone",
        "message": "visitor is no longer on the site",
    }
    assert _visitor_ids(server) == []
    assert glance_sim.signals() == []


def test_a_presence_server_outside_the_allowlist_is_refused(
    dash: Callable[..., DashServer], glance_sim: GlanceSimHandle
) -> None:
    glance_sim.arrive("v-ada")
    port = glance_sim.server_name(0).rsplit(":", 1)[1]
    # A name that reaches the real, working presence server, but is not an allowed host.
    glance_sim.point_direct("v-ada", f"localhost:{port}")
    server = dash()

    response = _post(server, "/api/visitors/v-ada/cobrowse")

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "direct_server_refused"
    assert glance_sim.signals() == []
    assert glance_sim.requests_log("signalvisitor") == []
    assert "not on the allowlist" in server.output()


def test_a_click_after_the_token_was_revoked_still_sends_once(
    dash: Callable[..., DashServer], glance_sim: GlanceSimHandle
) -> None:
    glance_sim.arrive("v-ada")
    server = dash(poll_seconds=30)
    authorizations = len(glance_sim.requests_log("authorize"))
    glance_sim.expire_tokens()

    response = _post(server, "/api/visitors/v-ada/cobrowse")

    assert response.status_code == 200, response.text
    assert len(glance_sim.requests_log("authorize")) == authorizations + 1
    assert len(glance_sim.signals()) == 1


def test_visitors_in_two_groups_and_counts_per_group(
    dash: Callable[..., DashServer], glance_sim: GlanceSimHandle
) -> None:
    glance_sim.arrive("v-ada")
    glance_sim.arrive("v-ada", group_id=OTHER_GROUP, server=1)
    glance_sim.arrive("v-cy", group_id=OTHER_GROUP)
    server = dash(group_ids=[GROUP, OTHER_GROUP])
    wait_for(lambda: len(_visitor_ids(server)) == 3, 10, what="three visitors")
    assert server.get("/api/visitors").json()["counts"] == {str(GROUP): 1, str(OTHER_GROUP): 2}

    ambiguous = _post(server, "/api/visitors/v-ada/cobrowse")
    assert ambiguous.status_code == 409
    assert ambiguous.json()["error"]["code"] == "ambiguous_visitor"

    chosen = _post(server, "/api/visitors/v-ada/cobrowse", {"group_id": OTHER_GROUP})
    assert chosen.status_code == 200, chosen.text
    assert [(s["group_id"], s["server"]) for s in glance_sim.signals()] == [(OTHER_GROUP, 1)]


def test_without_glance_the_list_is_empty_and_actions_are_503(
    tmp_path: Path, make_config: Callable[..., Path], dash_server: Callable[..., DashServer]
) -> None:
    server = dash_server(make_config(tmp_path, [], None))
    assert server.get("/api/visitors").json() == {
        "seq": 0,
        "enabled": False,
        "visitors": [],
        "counts": {},
    }
    response = _post(server, "/api/visitors/v-ada/cobrowse")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "glance_disabled"


def test_a_double_submit_while_the_first_is_still_sending_is_not_sent_twice(
    dash: Callable[..., DashServer], glance_sim: GlanceSimHandle
) -> None:
    glance_sim.arrive("v-ada")
    server = dash(poll_seconds=30)
    glance_sim.sim.faults.append({"kind": "slow", "delay_s": 1.5})  # the next call stalls
    headers = {"Idempotency-Key": "click-777777"}
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_post, server, "/api/visitors/v-ada/cobrowse", None, **headers)
        wait_for(lambda: glance_sim.requests_log("findvisitor"), 5, what="the first findvisitor")
        second = _post(server, "/api/visitors/v-ada/cobrowse", None, **headers)
        assert second.status_code == 409
        assert second.json()["error"]["code"] == "request_in_progress"
        assert first.result().status_code == 200
    assert len(glance_sim.signals()) == 1
