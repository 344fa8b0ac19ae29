"""The allowlist for Glance presence server names (pure): what may be called, what not."""

from __future__ import annotations

import pytest

from presence_dash.providers.glance_direct import (
    DirectServer,
    DirectServerRefused,
    check_direct,
    default_allowlist,
)

GLANCE = default_allowlist("https://presence.glance.net")


def test_default_allowlist_is_the_registrable_domain_and_its_subdomains() -> None:
    assert GLANCE == ["glance.net", "*.glance.net"]
    assert default_allowlist("http://127.0.0.1:5000") == ["127.0.0.1"]


@pytest.mark.parametrize(
    ("direct", "expected"),
    [
        ("pr0016.glance.net:443", DirectServer("pr0016.glance.net", 443)),
        ("presence0002.glance.net", DirectServer("presence0002.glance.net", None)),
        ("PR0016.Glance.NET:443", DirectServer("pr0016.glance.net", 443)),
    ],
)
def test_glance_presence_servers_pass(direct: str, expected: DirectServer) -> None:
    assert check_direct(direct, GLANCE) == expected


@pytest.mark.parametrize(
    "direct",
    [
        "169.254.169.254",
        "127.0.0.1:8000",
        "glance.net.evil.com:443",
        "evilglance.net:443",  # a suffix match without the dot would let this through
        "pr0016.glance.net@evil.com",
        "pr0016.glance.net/../admin",
        "pr0016.glance.net:443/path",
        "https://pr0016.glance.net",
        "pr0016.glance.net:99999",
        "",
        None,
        {"host": "pr0016.glance.net"},
        "a" * 400,
    ],
)
def test_anything_else_is_refused(direct: object) -> None:
    with pytest.raises(DirectServerRefused):
        check_direct(direct, GLANCE)


def test_a_wildcard_never_admits_an_ip_address() -> None:
    with pytest.raises(DirectServerRefused):
        check_direct("10.0.0.5:443", ["*.0.0.5"])


def test_the_url_uses_the_configured_scheme_and_port() -> None:
    assert DirectServer("pr0016.glance.net", 443).url("https") == "https://pr0016.glance.net:443"
    assert DirectServer("127.0.0.1", None).url("http") == "http://127.0.0.1"
