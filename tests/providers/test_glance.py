"""The Glance adapter against the Glance simulator over real HTTP: visitors from /query, the
token lifecycle (cached, renewed before expiry, renewed once on a 401), the two-step signal
to the visitor's own presence server, and the SSRF guard on the server name Glance returns."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
from glance_helpers import (
    API_KEY,
    GROUP,
    OTHER_GROUP,
    GlanceSimHandle,
    glance_section,
)

from presence_dash.core.timefmt import utc_now
from presence_dash.providers.base import AuthFailed, UpdateFailed
from presence_dash.providers.glance.config import GlanceConfig
from presence_dash.providers.glance.direct import DirectServerRefused
from presence_dash.providers.glance.provider import GlanceProvider, VisitorGone, login_key
from presence_dash.visitors.board import VisitorBoard

COBROWSE = {"func": "GLANCE.Cobrowse.Visitor.startSession"}


def provider(handle: GlanceSimHandle, secret: str = API_KEY, **overrides: Any) -> GlanceProvider:
    config = GlanceConfig.model_validate(glance_section(handle, **overrides))
    board = VisitorBoard(config.group_ids)  # the visitors feature's, attached
    return GlanceProvider(config, secret, requests.Session(), utc_now, board=board)


def test_poll_lists_each_groups_visitors_with_what_glance_says_about_them(
    glance_sim: GlanceSimHandle,
) -> None:
    glance_sim.arrive("v-ada", url="https://www.example.com/pricing", title="Pricing")
    glance_sim.arrive("v-bob", server=1)
    glance_sim.arrive("v-other", group_id=OTHER_GROUP)
    glance = provider(glance_sim, group_ids=[GROUP, OTHER_GROUP])

    assert glance.poll() == []  # visitors are not people
    batch = glance.visitors.snapshot()
    by_id = {(v.group_id, v.visitor_id): v for v in batch.visitors}
    assert set(by_id) == {(GROUP, "v-ada"), (GROUP, "v-bob"), (OTHER_GROUP, "v-other")}
    ada = by_id[(GROUP, "v-ada")]
    assert ada.metadata["title"] == "Pricing"
    assert ada.metadata["url"] == "https://www.example.com/pricing"
    assert "direct" not in ada.metadata  # routing stays internal
    assert ada.since is not None and abs(ada.since - utc_now()) < timedelta(seconds=30)
    assert glance.visitors.counts() == {GROUP: 2, OTHER_GROUP: 1}

    glance_sim.leave("v-bob")
    glance.poll()
    assert [v.visitor_id for v in glance.visitors.snapshot().visitors if v.group_id == GROUP] == [
        "v-ada"
    ]


def test_one_token_per_group_is_cached_across_polls(glance_sim: GlanceSimHandle) -> None:
    glance = provider(glance_sim, group_ids=[GROUP, OTHER_GROUP])
    for _ in range(4):
        glance.poll()
    authorizations = glance_sim.requests_log("authorize")
    assert len(authorizations) == 2  # tokens are group specific: one each, then reused
    assert {a["args"]["groupid"] for a in authorizations} == {str(GROUP), str(OTHER_GROUP)}
    assert all(a["args"]["service"] == "presence" for a in authorizations)


def test_token_is_renewed_before_it_expires(glance_sim: GlanceSimHandle) -> None:
    glance_sim.quirks(token_seconds=2)  # the Authorization API grants 2 s
    glance = provider(glance_sim)
    glance.poll()
    glance.poll()
    # Renewal is due a quarter-lifetime before expiry (0.5 s): the second poll may reuse it,
    # a poll 1.6 s later must not send a token that is about to lapse.
    glance.clock = lambda: utc_now() + timedelta(seconds=1.6)
    glance.poll()
    log = glance_sim.requests_log()
    assert [e["path"] for e in log].count("authorize") == 2
    assert not [e for e in log if e["status"] == 401]


def test_a_revoked_token_is_renewed_once_and_the_call_retried(glance_sim: GlanceSimHandle) -> None:
    glance_sim.arrive("v-ada")
    glance = provider(glance_sim)
    glance.poll()
    glance_sim.expire_tokens()  # Glance forgets every token (revoked, or expired early)

    glance.poll()
    assert [v.visitor_id for v in glance.visitors.snapshot().visitors] == ["v-ada"]
    statuses = [(e["path"], e["status"]) for e in glance_sim.requests_log()]
    assert statuses[-3:] == [("query", 401), ("authorize", None), ("query", 200)]


def test_a_401_after_renewal_is_an_auth_failure_not_a_loop(glance_sim: GlanceSimHandle) -> None:
    glance = provider(glance_sim)
    glance.poll()
    glance_sim.fault("401", count=5)
    with pytest.raises(AuthFailed):
        glance.poll()
    assert len(glance_sim.requests_log("query")) == 3  # first poll, then one try + one retry


def test_wrong_api_key_is_an_auth_failure(glance_sim: GlanceSimHandle) -> None:
    with pytest.raises(AuthFailed, match="401"):
        provider(glance_sim, secret="not-the-key").poll()


def test_username_and_password_credentials_work_too(glance_sim: GlanceSimHandle) -> None:
    glance_sim.arrive("v-ada")
    overrides = {"partner_user_id": None, "api_key_env": None}
    glance = provider(
        glance_sim,
        secret="secret",
        username="presence.dash.glance.net",
        password_env="GLANCE_PASSWORD",
        **overrides,
    )
    glance.poll()
    assert [v.visitor_id for v in glance.visitors.snapshot().visitors] == ["v-ada"]


def test_server_errors_are_transient_failures(glance_sim: GlanceSimHandle) -> None:
    glance = provider(glance_sim)
    glance_sim.fault("503")
    with pytest.raises(UpdateFailed, match="503"):
        glance.poll()
    glance_sim.fault("not_json")
    with pytest.raises(UpdateFailed, match="not JSON"):
        glance.poll()


@pytest.mark.parametrize("shape", ["flat", "nested"])
def test_signal_goes_to_the_presence_server_the_visitor_is_on(
    glance_sim: GlanceSimHandle, shape: str
) -> None:
    glance_sim.quirks(findvisitor_shape=shape)
    glance_sim.arrive("v-bob", server=1)
    glance = provider(glance_sim)

    sent = glance.signal(GROUP, "v-bob", "invoke", COBROWSE)

    assert sent.server == glance_sim.server_name(1)
    [signal] = glance_sim.signals()
    assert signal == {**signal, "server": 1, "visitor_id": "v-bob", "mtype": "invoke"}
    assert signal["data"] == COBROWSE


def test_custom_signal_reaches_the_visitor_unchanged(glance_sim: GlanceSimHandle) -> None:
    glance_sim.arrive("v-ada")
    data = {"command": "startchat", "chatid": "56789"}
    provider(glance_sim).signal(GROUP, "v-ada", "signal", data)
    assert [(s["mtype"], s["data"]) for s in glance_sim.signals()] == [("signal", data)]


def test_a_stale_server_name_gets_one_fresh_lookup(glance_sim: GlanceSimHandle) -> None:
    """The visitor moved: the named server answers 404; the second findvisitor is right."""
    glance_sim.arrive("v-ada", server=1)
    glance_sim.point_direct("v-ada", glance_sim.server_name(0))  # stale: server 0
    glance = provider(glance_sim)
    original = glance.find

    def find_then_heal(group_id: int, visitor_id: str) -> Any:
        server = original(group_id, visitor_id)
        glance_sim.point_direct("v-ada", None)  # the load balancer catches up
        return server

    glance.find = find_then_heal  # type: ignore[method-assign]
    sent = glance.signal(GROUP, "v-ada", "invoke", COBROWSE)
    assert sent.server == glance_sim.server_name(1)
    assert [s["server"] for s in glance_sim.signals()] == [1]


def test_a_visitor_who_left_is_gone_and_leaves_the_board(glance_sim: GlanceSimHandle) -> None:
    glance_sim.arrive("v-ada")
    glance = provider(glance_sim)
    glance.poll()
    glance_sim.leave("v-ada")
    with pytest.raises(VisitorGone):
        glance.signal(GROUP, "v-ada", "invoke", COBROWSE)
    assert glance.visitors.snapshot().visitors == []
    assert glance_sim.signals() == []


@pytest.mark.parametrize(
    "direct",
    [
        "169.254.169.254:80",  # cloud metadata
        "localhost:{port}",  # a real, working presence server, but not by an allowed name
        "evil.example.com:443",
        "127.0.0.1:{port}/x?y=",  # smuggled path
        "user@127.0.0.1:{port}",  # user info
    ],
)
def test_a_server_name_outside_the_allowlist_is_refused_and_not_called(
    glance_sim: GlanceSimHandle, direct: str
) -> None:
    glance_sim.arrive("v-ada")
    port = glance_sim.server_name(0).rsplit(":", 1)[1]
    glance_sim.point_direct("v-ada", direct.format(port=port))
    glance = provider(glance_sim)  # allowlist: the simulator's presence servers

    with pytest.raises(DirectServerRefused):
        glance.signal(GROUP, "v-ada", "invoke", COBROWSE)
    assert glance_sim.signals() == []
    assert glance_sim.requests_log("signalvisitor") == []


def test_an_explicit_allowlist_admits_the_named_host(glance_sim: GlanceSimHandle) -> None:
    glance_sim.arrive("v-ada")
    port = glance_sim.server_name(0).rsplit(":", 1)[1]
    glance_sim.point_direct("v-ada", f"localhost:{port}")
    glance = provider(glance_sim, direct_allowlist=[f"localhost:{port}"])
    assert glance.signal(GROUP, "v-ada", "invoke", COBROWSE).server == f"localhost:{port}"
    assert len(glance_sim.signals()) == 1


def test_login_key_matches_glances_documented_format() -> None:
    key = login_key("k", 12345, "user1", 1392680360)
    version, expiry, signature = key.split("$")[1:]
    assert (version, expiry) == ("1", "1392680360")
    assert len(key) == 57  # the Login Key article: "57 characters long"
    assert "=" not in signature and "+" not in signature and "/" not in signature


def test_lookup_returns_one_visitor_or_none_when_gone(glance_sim: GlanceSimHandle) -> None:
    glance_sim.arrive("v-ada", title="Pricing")
    glance = provider(glance_sim)
    ada = glance.lookup(GROUP, "v-ada")
    assert ada is not None and ada.visitor_id == "v-ada" and ada.metadata["title"] == "Pricing"
    glance_sim.leave("v-ada")
    assert glance.lookup(GROUP, "v-ada") is None
    assert len(glance_sim.requests_log("lookupvisitor")) == 2
