"""Test helpers for Microsoft Teams: the Graph simulator behind a handle that drives it over
its HTTP control API, a `[providers.teams]` config against it, and stable object ids."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from helpers import SimControl

from presence_dash.providers.teams import simulator as graph_sim
from presence_dash.providers.teams.config import TeamsConfig
from presence_dash.simulators.serve import SimulatorServer

TENANT = "8f2c5d4e-1b3a-4c6d-9e7f-0a1b2c3d4e5f"
TENANT_DOMAIN = "contoso.onmicrosoft.com"
CLIENT_ID = "535fb089-9ff3-47b6-9bfb-4f1264799865"
CLIENT_SECRET = "teams-secret"
CLIENT_SECRET_ENV = "TEAMS_CLIENT_SECRET"


def object_id(name: str) -> str:
    """A stable Entra object id (a GUID) for a test person."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"test:{name}"))


def upn(name: str) -> str:
    """A test person's user principal name in the simulated tenant."""
    return f"{name}@{TENANT_DOMAIN}"


@dataclass
class TeamsSimHandle(SimControl):
    sim: graph_sim.GraphSim
    server: SimulatorServer
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return self.server.url

    def set(self, user_id: str, availability: str, activity: str, **extra: Any) -> None:
        self.set_many({user_id: {"availability": availability, "activity": activity, **extra}})

    def set_many(self, users: dict[str, dict[str, Any]]) -> None:
        self._post("/_sim/users", {"users": users})

    def directory(self, users: dict[str, str]) -> None:
        """Who `GET /users/{userPrincipalName}` finds: name -> object id."""
        self._post("/_sim/directory", {"users": users})

    def remove(self, user_id: str) -> bool:
        response = self.http.delete(f"{self.url}/_sim/users/{user_id}", timeout=5)
        assert response.status_code == 200, response.text
        return bool(response.json()["removed"])

    def expire_tokens(self) -> int:
        return self._post("/_sim/expire-tokens")["expired"]

    def settings(self, **values: Any) -> dict[str, Any]:
        return self._post("/_sim/settings", values)

    def requests(self, path: str = "presences") -> list[dict[str, Any]]:
        return [r for r in self._get("/_sim/requests")["requests"] if r["path"] == path]

    def token(self) -> str:
        response = self.http.post(
            f"{self.url}/{TENANT}/oauth2/v2.0/token",
            data={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "scope": "https://graph.microsoft.com/.default",
                "grant_type": "client_credentials",
            },
            timeout=5,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def presences(self, ids: list[Any], token: str | None = None) -> requests.Response:
        return self.http.post(
            f"{self.url}/v1.0/communications/getPresencesByUserId",
            json={"ids": ids},
            headers={"Authorization": f"Bearer {token or self.token()}"},
            timeout=5,
        )

    def batch(self, requests_: list[dict[str, Any]], token: str | None = None) -> requests.Response:
        return self.http.post(
            f"{self.url}/v1.0/$batch",
            json={"requests": requests_},
            headers={"Authorization": f"Bearer {token or self.token()}"},
            timeout=5,
        )


@contextmanager
def running_teams_sim(sim: graph_sim.GraphSim | None = None) -> Iterator[TeamsSimHandle]:
    sim = sim or graph_sim.GraphSim(
        tenant_id=TENANT,
        tenant_domain=TENANT_DOMAIN,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    handle = TeamsSimHandle(sim, SimulatorServer(graph_sim.create_app(sim)).start())
    try:
        yield handle
    finally:
        handle.server.shutdown()
        handle.http.close()


def teams_section(url: str, **overrides: Any) -> dict[str, Any]:
    """A `[providers.teams]` section pointed at a simulator or fake on `url`."""
    return {
        "base_url": url + "/v1.0",
        "login_url": url,
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "client_secret_env": CLIENT_SECRET_ENV,
        "timeout_seconds": 3,
        **overrides,
    }


def teams_config(url: str, **overrides: Any) -> TeamsConfig:
    return TeamsConfig.model_validate(teams_section(url, **overrides))
