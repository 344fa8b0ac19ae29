"""Pure pieces of sign-in: role order and the policy table, header trust, password hashes,
redaction, rate limits, and the config rules for [auth]."""

from __future__ import annotations

import pytest

from presence_dash.auth.audit import redact
from presence_dash.auth.header_auth import HeaderAuth, NoRole, SpoofedHeader
from presence_dash.auth.next_path import local_path
from presence_dash.auth.noise import MAX_ADDRESSES, NoiseCounter
from presence_dash.auth.passwords import hash_password, verify_password
from presence_dash.auth.policy import PUBLIC, ROUTES, VIEW, Rule, allows
from presence_dash.auth.rate_limits import RateLimits
from presence_dash.auth.roles import Role
from presence_dash.config import AuthConfig, ConfigError, settings_from_dict


def test_roles_are_ordered_viewer_agent_admin() -> None:
    assert Role.VIEWER < Role.AGENT < Role.ADMIN
    assert Role.parse("Agent") is Role.AGENT
    with pytest.raises(ValueError, match="unknown role"):
        Role.parse("root")


@pytest.mark.parametrize(
    ("rule", "role", "kiosk", "allowed"),
    [
        (PUBLIC, None, False, True),
        (VIEW, None, False, False),
        (VIEW, Role.VIEWER, True, True),
        (Rule(Role.VIEWER), Role.VIEWER, True, False),  # a wall token only where marked
        (Rule(Role.AGENT), Role.VIEWER, False, False),
        (Rule(Role.AGENT), Role.AGENT, False, True),
        (Rule(Role.AGENT), Role.ADMIN, False, True),
        (Rule(Role.ADMIN), Role.AGENT, False, False),
    ],
)
def test_allows(rule: Rule, role: Role | None, kiosk: bool, allowed: bool) -> None:
    assert allows(rule, role, kiosk=kiosk) is allowed


def test_actions_need_an_agent_and_admin_tools_an_admin() -> None:
    assert ROUTES["visitors.cobrowse"].role is Role.AGENT
    assert ROUTES["screenmeet.create_session"].role is Role.AGENT
    assert ROUTES["auth.audit_log"].role is Role.ADMIN
    assert ROUTES["auth.create_kiosk_token"].role is Role.ADMIN
    assert not ROUTES["auth.create_kiosk_token"].kiosk


def _header_auth(**overrides: object) -> HeaderAuth:
    config = AuthConfig(
        mode="header",
        trusted_proxies=["10.1.2.3", "192.168.0.0/24"],
        group_roles={"support-agents": "agent", "support-admins": "admin", "all-staff": "viewer"},
        **overrides,  # type: ignore[arg-type]
    )
    return HeaderAuth.from_config(config)


def test_header_identity_is_believed_only_from_a_trusted_proxy() -> None:
    auth = _header_auth()
    headers = {"X-Remote-User": "mallory", "X-Remote-Groups": "support-admins"}
    with pytest.raises(SpoofedHeader):
        auth.identify("10.9.9.9", headers)
    with pytest.raises(SpoofedHeader):
        auth.identify(None, headers)
    identity = auth.identify("192.168.0.77", headers)
    assert identity is not None
    assert (identity.name, identity.role, identity.via) == ("mallory", Role.ADMIN, "header")


def test_header_role_is_the_highest_matching_group_and_no_group_is_refused() -> None:
    auth = _header_auth()
    both = {"X-Remote-User": "ada", "X-Remote-Groups": "All-Staff, support-agents"}
    assert auth.identify("10.1.2.3", both).role is Role.AGENT  # type: ignore[union-attr]
    with pytest.raises(NoRole):
        auth.identify("10.1.2.3", {"X-Remote-User": "eve", "X-Remote-Groups": "contractors"})
    lenient = _header_auth(default_role="viewer")
    eve = lenient.identify("10.1.2.3", {"X-Remote-User": "eve"})
    assert eve is not None and eve.role is Role.VIEWER
    assert auth.identify("10.9.9.9", {}) is None  # no header, not signed in, not spoofing


def test_password_hashes_verify_and_reject() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt:")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "Correct horse")
    assert not verify_password(None, "correct horse")  # unknown user: same work, no match
    assert not verify_password("scrypt:garbage", "x")
    assert not verify_password(stored, "x" * 5000)


def test_redact_hides_secret_looking_keys_at_any_depth() -> None:
    params = {
        "body": {"password": "hunter2", "mtype": "invoke", "nested": [{"api_key": "k"}]},
        "Authorization": "Bearer abc",
        "visitor_id": "v1",
    }
    assert redact(params) == {
        "body": {
            "password": "[redacted]",
            "mtype": "invoke",
            "nested": [{"api_key": "[redacted]"}],
        },
        "Authorization": "[redacted]",
        "visitor_id": "v1",
    }


def test_rate_limit_counts_per_key_and_says_when_to_retry() -> None:
    limits = RateLimits()
    assert [limits.hit("2 per minute", "a").allowed for _ in range(3)] == [True, True, False]
    refused = limits.hit("2 per minute", "a")
    assert not refused.allowed and 1 <= refused.retry_after_s <= 61
    assert limits.hit("2 per minute", "b").allowed
    assert not limits.exhausted("2 per minute", "a").allowed
    limits.clear("2 per minute", "a")
    assert limits.exhausted("2 per minute", "a").allowed


def test_no_sign_in_is_refused_on_an_open_host() -> None:
    with pytest.raises(ConfigError, match=r"auth.mode: 'none'.*loopback"):
        settings_from_dict({"server": {"host": "0.0.0.0"}}, {})
    settings = settings_from_dict({"server": {"host": "::1"}}, {})
    with pytest.raises(ConfigError, match=r"auth\.mode"):
        settings.replace_server(host="10.0.0.5")


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ({"mode": "header"}, "auth: header mode needs trusted_proxies"),
        ({"mode": "local"}, "auth: local mode needs users"),
        ({"mode": "header", "trusted_proxies": ["proxy.example"]}, "auth.trusted_proxies"),
        (
            {"mode": "local", "users": [{"username": "a", "password_hash": "hunter2"}]},
            "auth.users[0].password_hash",
        ),
        ({"action_rate_limit": "lots"}, "auth.action_rate_limit"),
        ({"mode": "sso"}, "auth.mode"),
    ],
)
def test_auth_config_errors_name_the_key(auth: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        settings_from_dict({"auth": auth}, {})
    assert str(err.value).startswith(message)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/wall?team=Desk", "/wall?team=Desk"),
        ("/?", "/"),
        (None, "/"),
        ("", "/"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),  # a browser drops the tab: //evil.example
        ("/\n/evil.example", "/"),
        ("/wall\r\nSet-Cookie: x=1", "/"),  # no header injection (and no 500)
        ("/\x00", "/"),
        ("/\x7f", "/"),
        ("/\x85", "/"),
        ("\t//evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("JavaScript:alert(1)", "/"),
        ("evil.example", "/"),
        ("http:/evil.example", "/"),
        ("  /admin ", "/admin"),
        ("/wall?team=A", "/wall?team=A"),
        ("/wall?next=//evil.example", "/wall?next=//evil.example"),  # a query, not a host
        ("/people/ada%2Fx", "/people/ada%2Fx"),
    ],
)
def test_only_local_paths_are_followed_after_sign_in(raw: str | None, expected: str) -> None:
    assert local_path(raw) == expected


def test_noise_windows_roll_over_per_address_and_their_number_is_bounded() -> None:
    counter = NoiseCounter(window_seconds=60)
    opened = counter.note("10.0.0.1", "POST", "/x", 404, now=0)
    assert [r.params for r in opened] == [{"first_of_window": True, "method": "POST"}]
    assert counter.note("10.0.0.1", "POST", "/y", 404, now=30) == []
    rolled = counter.note("10.0.0.1", "PUT", "/z", 401, now=61)
    assert [r.params.get("count") for r in rolled] == [2, None]  # the summary, a new window
    assert rolled[0].params["paths"] == ["/x", "/y"]
    for i in range(MAX_ADDRESSES + 50):
        counter.note(f"10.1.{i // 256}.{i % 256}", "POST", "/x", 404, now=70)
    closed = counter.due(now=200)
    assert len(closed) <= MAX_ADDRESSES + 1
    assert [r.params["count"] for r in closed if r.addr == "*"] == [51]  # the overflow, shared
