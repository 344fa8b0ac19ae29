"""Which Glance presence servers we may call: the SSRF guard for `/findvisitor` answers.

The load balancer names the server a visitor is connected to (`"direct":
"pr0016.glance.net:443"`), and we then POST to it. That name arrives over the network, so it
is parsed strictly and called only when its host matches the allowlist; anything else is
refused. Pure logic, no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

# A host name or IPv4 address, an optional port; no scheme, user info, path or query.
_DIRECT = re.compile(
    r"^(?P<host>[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*)"
    r"(?::(?P<port>\d{1,5}))?$"
)


class DirectServerRefused(ValueError):
    """The named presence server is malformed or not on the allowlist."""


@dataclass(frozen=True)
class DirectServer:
    host: str
    port: int | None

    def url(self, scheme: str) -> str:
        return f"{scheme}://{self.host}" + (f":{self.port}" if self.port else "")

    def __str__(self) -> str:
        return self.host + (f":{self.port}" if self.port else "")


def default_allowlist(base_url: str) -> list[str]:
    """The registrable domain of the load balancer and its subdomains: presence.glance.net
    -> glance.net and *.glance.net. An IP address (a simulator) allows only itself.
    "Registrable" is approximated as the last two labels, right for Glance's own domains;
    set `direct_allowlist` for anything else."""
    host = (urlsplit(base_url).hostname or "").lower()
    if _is_ip(host) or "." not in host:
        return [host]
    domain = ".".join(host.split(".")[-2:])
    return [domain, "*." + domain]


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


def check_direct(value: object, allowlist: Iterable[str]) -> DirectServer:
    """The parsed server if its host is allowed, else DirectServerRefused."""
    server = parse_direct(value)
    if not host_allowed(server.host, allowlist):
        raise DirectServerRefused(f"presence server {str(server)!r} is not on the allowlist")
    return server


def host_allowed(host: str, allowlist: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    for entry in allowlist:
        entry = entry.lower().rstrip(".")
        if entry.startswith("*."):
            # A wildcard never matches an IP address: 1.2.3.4 is not "a subdomain of 3.4".
            if not _is_ip(host) and host.endswith(entry[1:]):
                return True
        elif host == entry:
            return True
    return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
