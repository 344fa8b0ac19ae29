"""`[auth] mode = "header"`: a reverse proxy signs people in and says who they are in
headers. The headers are believed only from the configured proxy addresses; anyone else
sending them is refused, since otherwise any client could claim to be an admin."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from presence_dash.auth.identity import Identity
from presence_dash.auth.roles import Role
from presence_dash.config import AuthConfig


class SpoofedHeader(Exception):
    """An identity header from an address that is not a trusted proxy."""


class NoRole(Exception):
    """A proxy-asserted user whose groups map to no role."""


@dataclass(frozen=True)
class HeaderAuth:
    user_header: str
    groups_header: str
    proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    group_roles: Mapping[str, Role]
    default_role: Role | None

    @classmethod
    def from_config(cls, config: AuthConfig) -> HeaderAuth:
        return cls(
            config.user_header,
            config.groups_header,
            tuple(ipaddress.ip_network(p, strict=False) for p in config.trusted_proxies),
            {g.casefold(): Role.parse(r) for g, r in config.group_roles.items()},
            Role.parse(config.default_role) if config.default_role else None,
        )

    def trusted(self, remote_addr: str | None) -> bool:
        try:
            address = ipaddress.ip_address(remote_addr or "")
        except ValueError:
            return False
        return any(address in network for network in self.proxies)

    def identify(self, remote_addr: str | None, headers: Mapping[str, str]) -> Identity | None:
        """None when the request carries no identity header (not signed in)."""
        user = (headers.get(self.user_header) or "").strip()
        groups = headers.get(self.groups_header)
        if not user and groups is None:
            return None
        if not self.trusted(remote_addr):
            raise SpoofedHeader(
                f"{self.user_header} from {remote_addr}, which is not a trusted proxy"
            )
        if not user:
            return None
        roles = [
            self.group_roles[g.strip().casefold()]
            for g in (groups or "").replace(";", ",").split(",")
            if g.strip().casefold() in self.group_roles
        ]
        role = max(roles, default=self.default_role)
        if role is None:
            raise NoRole(f"{user}'s groups give no role here")
        return Identity(user[:128], role, "header")
