"""Test helpers for Glance: the simulator (load balancer + presence servers) behind a handle
that drives it over its HTTP control API, a config section for it, and a recorder that also
keeps `visitors` events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from helpers import EventRecorder, SimControl

from presence_dash.simulators import glance as glance_sim_module

GROUP = 72431
OTHER_GROUP = 55120
API_KEY = "glance-api-key"
API_KEY_ENV = "GLANCE_API_KEY"
PARTNER_USER = "presence-dash"


@dataclass
class GlanceSimHandle(SimControl):
    servers: glance_sim_module.GlanceServers
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def sim(self) -> glance_sim_module.GlanceSim:
        return self.servers.sim

    @property
    def url(self) -> str:
        return self.servers.url

    def server_name(self, index: int) -> str:
        return self.sim.servers[index]

    def arrive(
        self, visitor_id: str, group_id: int = GROUP, server: int = 0, **page: str
    ) -> dict[str, Any]:
        body = {"group_id": group_id, "visitor_id": visitor_id, "server": server, "page": page}
        return self._post("/_sim/visitors", body)

    def leave(self, visitor_id: str, group_id: int = GROUP) -> bool:
        response = self.http.delete(f"{self.url}/_sim/visitors/{group_id}/{visitor_id}", timeout=5)
        assert response.status_code == 200
        return response.json()["removed"]

    def point_direct(self, visitor_id: str, direct: str | None, group_id: int = GROUP) -> None:
        self._post(
            "/_sim/direct", {"group_id": group_id, "visitor_id": visitor_id, "direct": direct}
        )

    def quirks(self, **values: Any) -> dict[str, Any]:
        return self._post("/_sim/quirks", values)

    def expire_tokens(self) -> int:
        return self._post("/_sim/expire-tokens")["expired"]

    def signals(self) -> list[dict[str, Any]]:
        return self._get("/_sim/signals")["signals"]

    def requests_log(self, path: str | None = None) -> list[dict[str, Any]]:
        entries = self._get("/_sim/requests")["requests"]
        return [e for e in entries if path is None or e["path"] == path]

    def close(self) -> None:
        self.servers.shutdown()
        self.http.close()


def start_glance_sim(presence_servers: int = 2) -> GlanceSimHandle:
    sim = glance_sim_module.GlanceSim(
        groups={GROUP, OTHER_GROUP}, api_key=API_KEY, partner_user_ids={PARTNER_USER}
    )
    servers = glance_sim_module.serve(
        sim, presence_servers=presence_servers, start=lambda server: server.start()
    )
    return GlanceSimHandle(servers)


def glance_section(handle: GlanceSimHandle, **overrides: Any) -> dict[str, Any]:
    """A `[providers.glance]` section against the simulator (login-key credentials)."""
    return {
        "base_url": handle.url,
        "auth_url": handle.servers.auth_url,
        "group_ids": [GROUP],
        "partner_user_id": PARTNER_USER,
        "api_key_env": API_KEY_ENV,
        "direct_scheme": "http",
        # On loopback only named ports may be called: the simulator's presence servers.
        "direct_allowlist": list(handle.sim.servers),
        "poll_seconds": 0.2,
        "timeout_seconds": 3,
        **overrides,
    }


class VisitorRecorder(EventRecorder):
    EVENTS = (*EventRecorder.EVENTS, "visitors")


@contextmanager
def running_glance_sim() -> Iterator[GlanceSimHandle]:
    """The Glance simulator (groups 72431 and 55120, two presence servers), closed after."""
    handle = start_glance_sim()
    try:
        yield handle
    finally:
        handle.close()
