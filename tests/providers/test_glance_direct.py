"""The allowlist for Glance presence server names (pure): what may be called, what not; host
and port, and internal addresses only for a simulator on loopback, by exact port."""

from __future__ import annotations

import pytest

from presence_dash.providers.glance.direct import (
    DirectAllowlist,
    DirectServer,
    DirectServerRefused,
    check_direct,
    default_allowlist,
)

GLANCE = DirectAllowlist.build("https://presence.glance.net", [], "https")
# The simulator: load balancer on 9400, presence servers on 9401 and 9402.
SIM = DirectAllowlist.build("http://127.0.0.1:9400", ["127.0.0.1:9401", "127.0.0.1:9402"], "http")


def test_default_allowlist_is_the_registrable_domain_and_its_subdomains_on_its_port() -> None:
    assert default_allowlist("https://presence.glance.net") == [
        "glance.net:443",
        "*.glance.net:443",
    ]
    assert default_allowlist("https://presence.glance.net:8443/") == [
        "glance.net:8443",
        "*.glance.net:8443",
    ]
    assert default_allowlist("http://127.0.0.1:5000") == ["127.0.0.1:5000"]


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
        "pr0016.glance.net:6379",  # the right host, another port
        "pr0016.glance.net:80",
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
    allowlist = DirectAllowlist.build("https://presence.glance.net", ["*.0.0.5"], "https")
    with pytest.raises(DirectServerRefused):
        check_direct("10.0.0.5:443", allowlist)


def test_an_explicit_entry_admits_its_host_on_its_port_only() -> None:
    allowlist = DirectAllowlist.build(
        "https://presence.glance.net", ["presence.example.com:8443", "*.glance.net"], "https"
    )
    assert check_direct("presence.example.com:8443", allowlist).port == 8443
    assert check_direct("pr1.glance.net", allowlist).host == "pr1.glance.net"  # 443 implied
    for refused in ("presence.example.com", "presence.example.com:443", "pr1.glance.net:8443"):
        with pytest.raises(DirectServerRefused):
            check_direct(refused, allowlist)


def test_the_simulator_may_name_only_its_listed_loopback_ports() -> None:
    assert check_direct("127.0.0.1:9401", SIM) == DirectServer("127.0.0.1", 9401)
    assert check_direct("127.0.0.1:9402", SIM).port == 9402
    for refused in ("127.0.0.1:6379", "127.0.0.1:9403", "127.0.0.1", "localhost:9401"):
        with pytest.raises(DirectServerRefused, match="internal address"):
            check_direct(refused, SIM)


@pytest.mark.parametrize(
    "direct",
    [
        "127.0.0.1:443",
        "127.1:443",  # legacy spellings a resolver turns into 127.0.0.1
        "2130706433:443",
        "0x7f000001:443",
        "localhost:443",
        "api.localhost:443",
        "10.0.0.5:443",
        "192.168.1.1:443",
        "172.16.0.1:443",
        "169.254.169.254:443",
        "0.0.0.0:443",
    ],
)
def test_internal_addresses_are_refused_unless_glance_itself_is_on_loopback(direct: str) -> None:
    host = direct.rsplit(":", 1)[0]
    allowlist = DirectAllowlist.build("https://presence.glance.net", [host], "https")
    with pytest.raises(DirectServerRefused, match="internal address"):
        check_direct(direct, allowlist)


def test_link_local_is_refused_even_for_a_simulator() -> None:
    allowlist = DirectAllowlist.build("http://127.0.0.1:9400", ["169.254.169.254:80"], "http")
    with pytest.raises(DirectServerRefused):
        check_direct("169.254.169.254:80", allowlist)


def test_the_url_uses_the_configured_scheme_and_port() -> None:
    assert DirectServer("pr0016.glance.net", 443).url("https") == "https://pr0016.glance.net:443"
    assert DirectServer("127.0.0.1", None).url("http") == "http://127.0.0.1"
