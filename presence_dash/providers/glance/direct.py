"""Which Glance presence servers we may call: the SSRF guard for `/findvisitor` answers.

The load balancer names the server a visitor is connected to (`"direct":
"pr0016.glance.net:443"`), and we then POST to it. That name arrives over the network, so it
is parsed strictly and called only when its host and port match the allowlist; anything
else is refused. Pure logic, no I/O (inet_aton only parses).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from presence_dash.visitors.source import DestinationRefused

# A host name or IPv4 address, an optional port; no scheme, user info, path or query.
_DIRECT = re.compile(
    r"^(?P<host>[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*)"
    r"(?::(?P<port>\d{1,5}))?$"
)


class DirectServerRefused(DestinationRefused):
    """The named presence server is malformed or not on the allowlist."""


@dataclass(frozen=True)
class DirectServer:
    host: str
    port: int | None

    def url(self, scheme: str) -> str:
        return f"{scheme}://{self.host}" + (f":{self.port}" if self.port else "")

    def __str__(self) -> str:
        return self.host + (f":{self.port}" if self.port else "")


@dataclass(frozen=True)
class AllowEntry:
    host: str  # "pr0016.glance.net", "*.glance.net" (every subdomain) or an IP address
    port: int  # the load balancer's when the entry names none


@dataclass(frozen=True)
class DirectAllowlist:
    """Which `host:port` may be called. A name without a port means the load balancer's own
    port. Internal addresses (loopback, private, link-local, `localhost`) are refused unless
    the load balancer itself is on loopback (the simulator, the demo), and then only when
    an entry names exactly that host and port: a loopback port is any local service
    (Redis, the dashboard itself), and it would receive the Glance bearer token."""

    entries: tuple[AllowEntry, ...]
    scheme: str  # the scheme presence servers are called with (direct_scheme)
    local_ok: bool  # base_url is on loopback

    @classmethod
    def build(cls, base_url: str, entries: Iterable[str], scheme: str) -> DirectAllowlist:
        """From the config: `entries` (empty: default_allowlist(base_url))."""
        parts = urlsplit(base_url)
        port = parts.port or _default_port(parts.scheme)
        allowed = [parse_entry(e, port) for e in entries] or [
            parse_entry(e, port) for e in default_allowlist(base_url)
        ]
        return cls(tuple(allowed), scheme, is_loopback(parts.hostname or ""))

    def check(self, value: object) -> DirectServer:
        """The parsed server if `host:port` is allowed, else DirectServerRefused."""
        server = parse_direct(value)
        port = server.port or _default_port(self.scheme)
        if is_internal(server.host):
            # Loopback and private addresses only for a simulator, and only by exact name
            # and port; link-local (cloud metadata at 169.254.169.254) never.
            exact = any(e.host == server.host and e.port == port for e in self.entries)
            if not (self.local_ok and exact) or _is_link_local(server.host):
                raise DirectServerRefused(
                    f"presence server {str(server)!r} is not on the allowlist: an internal "
                    + ("address" if self.local_ok else "address, refused unless base_url is")
                    + (" not listed with this port" if self.local_ok else " on loopback")
                )
            return server
        if not any(e.port == port and host_allowed(server.host, [e.host]) for e in self.entries):
            raise DirectServerRefused(f"presence server {str(server)!r} is not on the allowlist")
        return server


def default_allowlist(base_url: str) -> list[str]:
    """The registrable domain of the load balancer and its subdomains, on its port:
    presence.glance.net -> glance.net and *.glance.net (port 443). An IP address or a
    one-label name (a simulator) allows only itself, on the load balancer's port.
    "Registrable" is approximated as the last two labels, right for Glance's own domains;
    set `direct_allowlist` for anything else."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    port = parts.port or _default_port(parts.scheme)
    if _as_ip(host) is not None or "." not in host:
        return [f"{host}:{port}"]
    domain = ".".join(host.split(".")[-2:])
    return [f"{domain}:{port}", f"*.{domain}:{port}"]


def parse_entry(entry: str, default_port: int) -> AllowEntry:
    """One `direct_allowlist` entry: `host`, `*.host`, either with an optional `:port`."""
    host, sep, port = entry.strip().lower().rstrip(".").rpartition(":")
    if not sep:
        host, port = port, ""
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"invalid port in allowlist entry {entry!r}")
    return AllowEntry(host.rstrip("."), int(port) if port else default_port)


def parse_direct(value: object) -> DirectServer:
    if not isinstance(value, str) or len(value) > 300:
        raise DirectServerRefused("the presence server name is not a short string")
    match = _DIRECT.match(value.strip())
    if not match:
        raise DirectServerRefused(f"malformed presence server name {value[:80]!r}")
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 0 < port < 65536:
        raise DirectServerRefused(f"invalid port in presence server name {value[:80]!r}")
    return DirectServer(match["host"].lower(), port)


def check_direct(value: object, allowlist: DirectAllowlist) -> DirectServer:
    """The parsed server if its host and port are allowed, else DirectServerRefused."""
    return allowlist.check(value)


def host_allowed(host: str, allowlist: Iterable[str]) -> bool:
    """Whether `host` matches one of the host patterns (no ports here)."""
    host = host.lower().rstrip(".")
    for entry in allowlist:
        entry = entry.lower().rstrip(".")
        if entry.startswith("*."):
            # A wildcard never matches an IP address: 1.2.3.4 is not "a subdomain of 3.4".
            if _as_ip(host) is None and host.endswith(entry[1:]):
                return True
        elif host == entry:
            return True
    return False


def is_loopback(host: str) -> bool:
    host = host.lower().strip("[]").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    ip = _as_ip(host)
    return ip is not None and ip.is_loopback


def is_internal(host: str) -> bool:
    """Loopback, private, link-local, or otherwise not a public address."""
    if is_loopback(host):
        return True
    ip = _as_ip(host)
    return ip is not None and not ip.is_global


def _is_link_local(host: str) -> bool:
    ip = _as_ip(host)
    return ip is not None and (ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def _as_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """`host` as an address, also in the legacy spellings a resolver accepts and
    ipaddress does not (2130706433, 0x7f.1, 127.1 are all 127.0.0.1)."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not re.fullmatch(r"[0-9a-fA-Fx.]+", host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80
