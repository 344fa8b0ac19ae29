"""The `[providers.glance]` section: required keys, credentials, and the http guard."""

from __future__ import annotations

from typing import Any

import pytest

from presence_dash.config import ConfigError, settings_from_dict

ENV = {"GLANCE_API_KEY": "k", "GLANCE_PASSWORD": "p"}
BASE = {
    "base_url": "https://presence.glance.net",
    "auth_url": "https://www.glance.net/api/authorize",
    "group_ids": [72431],
    "partner_user_id": "presence-dash",
    "api_key_env": "GLANCE_API_KEY",
}


def error_of(section: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"providers": {"glance": section}}, ENV)
    return str(info.value)


def test_a_minimal_section_gets_safe_defaults() -> None:
    glance = settings_from_dict({"providers": {"glance": BASE}}, ENV).providers.glance
    assert glance is not None
    assert glance.direct_scheme == "https"
    assert glance.direct_allowlist == []  # derived from base_url at run time
    assert glance.token_minutes == 120


def test_credentials_are_required() -> None:
    section = {k: v for k, v in BASE.items() if k not in ("partner_user_id", "api_key_env")}
    assert error_of(section).startswith("providers.glance: needs partner_user_id + api_key_env")
    ok = {**section, "username": "u.glance.net", "password_env": "GLANCE_PASSWORD"}
    assert settings_from_dict({"providers": {"glance": ok}}, ENV).providers.glance is not None


@pytest.mark.parametrize(
    ("override", "where"),
    [
        ({"group_ids": []}, "providers.glance.group_ids"),
        ({"group_ids": ["acme"]}, "providers.glance.group_ids[0]"),
        ({"token_minutes": 600}, "providers.glance.token_minutes"),
        ({"direct_allowlist": ["glance.net/evil"]}, "providers.glance.direct_allowlist[0]"),
        ({"direct_scheme": "ftp"}, "providers.glance.direct_scheme"),
        ({"groups": [1]}, "providers.glance.groups"),
    ],
)
def test_bad_values_name_their_key(override: dict[str, Any], where: str) -> None:
    assert error_of({**BASE, **override}).startswith(where + ":")


def test_plain_http_to_presence_servers_only_for_a_loopback_simulator() -> None:
    message = error_of({**BASE, "direct_scheme": "http"})
    assert "only allowed for a loopback base_url" in message
    local = {**BASE, "base_url": "http://127.0.0.1:5000", "direct_scheme": "http"}
    assert settings_from_dict({"providers": {"glance": local}}, ENV).providers.glance is not None


def test_the_api_key_comes_from_the_environment() -> None:
    with pytest.raises(ConfigError, match=r"^providers\.glance\.api_key_env: .*GLANCE_API_KEY"):
        settings_from_dict({"providers": {"glance": BASE}}, {})


def test_allowlist_entries_take_a_port_and_internal_addresses_only_on_loopback() -> None:
    ok = {**BASE, "direct_allowlist": ["*.glance.net:443", "presence.example.com"]}
    glance = settings_from_dict({"providers": {"glance": ok}}, ENV).providers.glance
    assert glance is not None and glance.direct_allowlist[0] == "*.glance.net:443"
    for entry in ("127.0.0.1:6379", "10.0.0.5", "localhost:8000", "169.254.169.254"):
        message = error_of({**BASE, "direct_allowlist": [entry]})
        assert "direct_allowlist[0]" in message and "internal address" in message, message
    assert "valid port" in error_of({**BASE, "direct_allowlist": ["glance.net:70000"]})
    simulator = {
        **BASE,
        "base_url": "http://127.0.0.1:9400",
        "direct_scheme": "http",
        "direct_allowlist": ["127.0.0.1:9401"],
    }
    assert settings_from_dict({"providers": {"glance": simulator}}, ENV).providers.glance
