"""Test helpers for ScreenMeet: the simulator on a free port with its `/_sim/` control API,
and the `[providers.screenmeet]` section that points a dashboard at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from helpers import SimControl

from presence_dash.simulators import screenmeet as sm
from presence_dash.simulators.serve import SimulatorServer

SM_USERNAME = "sm.bridge"
SM_PASSWORD = "sm-pw"
SM_PASSWORD_ENV = "SM_PASSWORD"


@dataclass
class ScreenMeetSimHandle(SimControl):
    sim: sm.ScreenMeetSim
    server: SimulatorServer
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def base(self) -> str:
        """The Scripted REST API base, as `[providers.screenmeet] base_url` names it."""
        return self.server.url + self.sim.base_path

    def call(
        self, method: str, body: Any, auth: tuple[str, str] | None = None
    ) -> requests.Response:
        return self.http.post(
            f"{self.base}/{method}", json=body, auth=auth or (SM_USERNAME, SM_PASSWORD), timeout=5
        )

    def sessions(self) -> dict[str, dict[str, Any]]:
        return {s["id"]: s for s in self._get("/_sim/sessions")["sessions"]}

    def advance(self, seconds: float) -> None:
        self._post("/_sim/advance", {"seconds": seconds})

    def request_log(self) -> list[dict[str, Any]]:
        return self._get("/_sim/requests")["requests"]

    def close(self) -> None:
        self.server.shutdown()
        self.http.close()


def start_screenmeet_sim(sim: sm.ScreenMeetSim | None = None) -> ScreenMeetSimHandle:
    sim = sim or sm.ScreenMeetSim(username=SM_USERNAME, password=SM_PASSWORD)
    return ScreenMeetSimHandle(sim, SimulatorServer(sm.create_app(sim)).start())


def screenmeet_section(handle: ScreenMeetSimHandle, **overrides: Any) -> dict[str, Any]:
    return {
        "base_url": handle.base,
        "username": SM_USERNAME,
        "password_env": SM_PASSWORD_ENV,
        "timeout_seconds": 3,
        **overrides,
    }


def in_minutes(minutes: float) -> str:
    """An ISO 8601 UTC time `minutes` from now, as the API takes it."""
    moment = datetime.now(UTC) + timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
