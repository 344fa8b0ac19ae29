"""Microsoft Teams presence through Microsoft Graph: one poll asks for every configured
Entra user in batches of up to 650 and maps each answer to a status and activity text.

Graph keeps no history and says nothing about when a state began, so `state_since` stays
None (the board dates a state from when it first saw it). docs/providers/teams.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests

from presence_dash.core.clock import Clock
from presence_dash.core.model import Observation, Person, Status
from presence_dash.core.warn_once import WarnOnce
from presence_dash.providers.base import PollingProvider, ProviderContext
from presence_dash.providers.teams.config import TeamsConfig, is_object_id
from presence_dash.providers.teams.graph import GraphClient
from presence_dash.providers.teams.mapping import TeamsState, teams_state

log = logging.getLogger(__name__)

NAME = "teams"
# An id Graph left out of its answer: nothing is known (docs/providers/teams.md, "Unknown ids").
MISSING = TeamsState(Status.UNKNOWN, None, "missing")


class TeamsProvider(PollingProvider):
    name = NAME

    def __init__(
        self,
        config: TeamsConfig,
        secret: str,
        people: Sequence[Person],
        http: requests.Session,
        clock: Clock,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(people, http, clock)
        self.config = config
        self.graph = GraphClient(config, secret, http, monotonic)
        self._availability = config.availability_table()
        self._activity = config.activity_table()
        self._warn_once = WarnOnce(log, "teams: ")
        self.requests_last_poll = 0

    @classmethod
    def from_context(cls, ctx: ProviderContext) -> TeamsProvider:
        config = getattr(ctx.settings.providers, NAME, None)
        assert isinstance(config, TeamsConfig)
        secret = ctx.settings.secret(config.client_secret_env) or ""
        return cls(config, secret, ctx.people, ctx.http, ctx.clock)

    def normalize_id(self, vendor_id: str) -> str:
        """Object ids are GUIDs: the same user whatever the case they were written in."""
        return vendor_id.strip().lower()

    @property
    def poll_seconds(self) -> float:
        return self.config.poll_seconds

    def poll(self) -> list[Observation]:
        ids = [i for i in self.people_by_vendor_id if is_object_id(i)]
        before = self.graph.requests_made
        try:
            items = self.graph.presences(ids)
        finally:
            self.requests_last_poll = self.graph.requests_made - before
        states: dict[str, TeamsState] = {}
        for item in items:
            parsed = self._parse(item)
            if parsed is not None:
                states[parsed[0]] = parsed[1]
        known = [s for s in states.values() if s.status != Status.UNKNOWN]
        # Every id unknown is a configuration problem (object ids of another tenant, or
        # people not licensed for Teams), not a quiet office: say so in the health strip.
        self.health_warning = (
            f"Teams knows none of the {len(self.people_by_vendor_id)} configured users "
            "(object ids from another tenant, or no Teams licence?)"
            if self.people_by_vendor_id and not known
            else None
        )
        now = self.clock()
        observations = []
        for vendor_id, person_ids in self.people_by_vendor_id.items():
            state = states.get(vendor_id)
            if state is None:
                self._warn_once(f"Graph returned no presence for {vendor_id}", key=vendor_id)
                state = MISSING
            observations.extend(
                Observation(pid, NAME, state.status, now, state.detail, state.activity)
                for pid in person_ids
            )
        return observations

    def _parse(self, item: Any) -> tuple[str, TeamsState] | None:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            self._warn_once("ignoring a presence without an 'id'")
            return None
        vendor_id = self.normalize_id(item["id"])
        if vendor_id not in self.people_by_vendor_id:
            return None
        availability, activity = item.get("availability"), item.get("activity")
        if not isinstance(availability, str | None) or not isinstance(activity, str | None):
            self._warn_once("ignoring a presence whose availability/activity is not text")
            return None
        for kind, value, table in (
            ("availability", availability, self._availability),
            ("activity", activity, self._activity),
        ):
            if value and value.casefold() not in table:
                self._warn_once(f"unknown {kind} {value!r}; add it to {kind}_map")
        settings = item.get("outOfOfficeSettings")
        out_of_office = isinstance(settings, dict) and settings.get("isOutOfOffice") is True
        state = teams_state(
            availability, activity, out_of_office, self._availability, self._activity
        )
        return vendor_id, state
