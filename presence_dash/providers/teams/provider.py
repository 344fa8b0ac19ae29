"""Microsoft Teams presence through Microsoft Graph: one poll asks for every configured
Entra user in batches of up to 650 and maps each answer to a status and activity text.
People named by user principal name are looked up to object ids first (20 to a $batch),
and the answers kept for `upn_refresh_seconds`.

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
# A user principal name Graph has no user for (its 404).
NO_SUCH_USER = TeamsState(Status.UNKNOWN, None, "no such user")
NAMED_IN_WARNING = 3  # unknown names spelled out in the health strip; the rest are counted


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
        self._monotonic = monotonic
        self._upn_ids: dict[str, str | None] = {}  # casefolded UPN -> object id, None: no user
        self._upns_due = 0.0  # monotonic time the lookups are next refreshed
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
        """Object ids are GUIDs and Graph matches user principal names without regard to
        case: the same user whatever the case they were written in."""
        return vendor_id.strip().lower()

    @property
    def poll_seconds(self) -> float:
        return self.config.poll_seconds

    def poll(self) -> list[Observation]:
        before = self.graph.requests_made
        try:
            object_ids = self._object_ids()
            # In configuration order, each user once (a UPN and its object id may both be listed).
            wanted = list(dict.fromkeys(i for i in object_ids.values() if i is not None))
            items = self.graph.presences(wanted)
        finally:
            self.requests_last_poll = self.graph.requests_made - before
        states: dict[str, TeamsState] = {}
        wanted_set = set(wanted)
        for item in items:
            parsed = self._parse(item, wanted_set)
            if parsed is not None:
                states[parsed[0]] = parsed[1]
        self.health_warning = self._warning(states, object_ids)
        now = self.clock()
        observations = []
        for vendor_id, person_ids in self.people_by_vendor_id.items():
            object_id = object_ids.get(vendor_id)
            state = states.get(object_id) if object_id else NO_SUCH_USER
            if state is None:
                self._warn_once(f"Graph returned no presence for {vendor_id}", key=vendor_id)
                state = MISSING
            observations.extend(
                Observation(pid, NAME, state.status, now, state.detail, state.activity)
                for pid in person_ids
            )
        return observations

    def _object_ids(self) -> dict[str, str | None]:
        """Each configured id's object id: itself for a GUID, the looked-up one for a user
        principal name (None where Graph has no such user)."""
        upns = [v for v in self.people_by_vendor_id if not is_object_id(v)]
        now = self._monotonic()
        if upns and (now >= self._upns_due or any(u not in self._upn_ids for u in upns)):
            self._upn_ids = self.graph.object_ids(upns)
            self._upns_due = now + self.config.upn_refresh_seconds
        return {v: v if is_object_id(v) else self._upn_ids.get(v) for v in self.people_by_vendor_id}

    def _warning(
        self, states: dict[str, TeamsState], object_ids: dict[str, str | None]
    ) -> str | None:
        """Every id unknown is a configuration problem (object ids of another tenant, or
        people not licensed for Teams), not a quiet office; so is a name Graph has no user
        for. Either is said in the health strip."""
        problems = []
        if self.people_by_vendor_id and not any(
            s.status != Status.UNKNOWN for s in states.values()
        ):
            problems.append(
                f"Teams knows none of the {len(self.people_by_vendor_id)} configured users "
                "(object ids from another tenant, or no Teams licence?)"
            )
        unknown = sorted(v for v, object_id in object_ids.items() if object_id is None)
        if unknown:
            named = ", ".join(unknown[:NAMED_IN_WARNING])
            more = len(unknown) - NAMED_IN_WARNING
            problems.append(
                f"Graph has no user {named}"
                + (f" and {more} more" if more > 0 else "")
                + " (check the user principal name, or use the object id)"
            )
        return "; ".join(problems) or None

    def _parse(self, item: Any, wanted: set[str]) -> tuple[str, TeamsState] | None:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            self._warn_once("ignoring a presence without an 'id'")
            return None
        vendor_id = self.normalize_id(item["id"])
        if vendor_id not in wanted:
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
