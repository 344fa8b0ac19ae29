"""`[providers.glance]` (docs/providers/glance.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from presence_dash.providers.config_base import EnvName, HttpUrl, ProviderCommon
from presence_dash.providers.glance.direct import is_internal, is_loopback

GlanceGroupId = Annotated[int, Field(ge=1, le=2_147_483_647)]
# Host names, optionally with a leading "*." for every subdomain (shared/providers/glance.md),
# and an optional ":port" (default: the port of base_url).
DirectHost = Annotated[
    str,
    StringConstraints(pattern=r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]{0,252})(:[1-9][0-9]{0,4})?$"),
]


class GlanceConfig(ProviderCommon):
    """Glance Presence Agent REST API. `base_url` is the load balancer
    (https://presence.glance.net); `auth_url` is the Authorization API's REST endpoint.
    Credentials: a partner login key (partner_id + partner_user_id + api_key_env) or a Glance
    username + password_env. See docs/providers/glance.md."""

    auth_url: HttpUrl
    group_ids: Annotated[list[GlanceGroupId], Field(min_length=1, max_length=50)]
    partner_id: GlanceGroupId | None = None  # defaults to the group being authorized
    partner_user_id: str | None = None
    api_key_env: EnvName | None = None
    username: str | None = None
    password_env: EnvName | None = None
    token_minutes: int = Field(120, ge=1, le=120)  # the Authorization API's own range
    # Names shown for groups (the wall's visitor counts), e.g. {72431 = "Support site"}.
    group_labels: dict[int, Annotated[str, StringConstraints(max_length=60)]] = {}
    poll_seconds: float = Field(5, ge=0.05, le=3600)
    # Presence servers (host[:port]) the load balancer may send us to; empty: the
    # registrable domain of base_url on its port (glance.net:443 and *.glance.net:443).
    direct_allowlist: list[DirectHost] = []
    # "http" only for a simulator on loopback: a real presence server is always https.
    direct_scheme: Literal["https", "http"] = "https"

    @model_validator(mode="after")
    def _credentials_and_scheme(self) -> GlanceConfig:
        partner = self.partner_user_id and self.api_key_env
        if not partner and not (self.username and self.password_env):
            raise ValueError(
                "needs partner_user_id + api_key_env (login key) or username + password_env"
            )
        if self.direct_scheme == "http" and _host_of(self.base_url) not in LOOPBACK_HOSTS:
            raise ValueError('direct_scheme = "http" is only allowed for a loopback base_url')
        _check_direct_allowlist(self.base_url, self.direct_allowlist)
        return self


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def _check_direct_allowlist(base_url: str, entries: list[str]) -> None:
    """Ports in range; an entry naming an internal address is refused at start rather than
    at the first click: it would let Glance's answers send the bearer token inside the
    network (the provider refuses such calls anyway, providers/glance/direct.py)."""
    local = is_loopback(_host_of(base_url))
    for n, entry in enumerate(entries):
        host, _, port = entry.partition(":")
        if port and int(port) > 65535:
            raise ValueError(f"direct_allowlist[{n}]: {entry!r} has no valid port")
        if not local and is_internal(host):
            raise ValueError(
                f"direct_allowlist[{n}]: {entry!r} is an internal address, "
                "only allowed when base_url is on loopback (a simulator)"
            )


def _host_of(url: str) -> str:
    rest = url.split("://", 1)[-1].split("/", 1)[0]
    if rest.startswith("["):
        return rest.split("]", 1)[0] + "]"
    return rest.rsplit(":", 1)[0] if ":" in rest else rest
