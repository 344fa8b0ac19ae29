"""Recovery scenarios, one per polling provider, for tests/test_recovery.py and
benchmarks/recovery.py: the vendor's simulator, the dashboard's config section for it at
default backoff settings, a vendor state before an outage and a different one that starts
while the vendor fails, and how the dashboard's own API shows which of the two it knows.

An outage is the simulator failing every call one way (a 5xx, a hang past the timeout, a
malformed body, a 401) from the moment it starts until it is cleared; the recovery time is
from the clear (the vendor answering again) until `GET /api/presence` or `/api/visitors`
shows the state that began during the outage.
"""

from __future__ import annotations

import itertools
import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from glance_helpers import API_KEY, API_KEY_ENV, GlanceSimHandle, glance_section, start_glance_sim
from helpers import (
    SN_PASSWORD_ENV,
    SN_USERNAME,
    CiscoSimHandle,
    DashServer,
    SfSimHandle,
    SnSimHandle,
    cisco_section,
    salesforce_section,
    sim_secrets_env,
    start_cisco_sim,
    start_salesforce_sim,
    start_sn_sim,
    sys_id,
    wait_for,
)

# Faults are queued per vendor call; an outage queues more than any run can use and ends by
# clearing the queue (the simulators' control API can add faults but not withdraw them).
OUTAGE_CALLS = 5000
KINDS = ("5xx", "timeout", "malformed", "auth")
# A hung call answers this long after the provider's timeout has given up on it.
HANG_PAST_TIMEOUT_S = 5.0
DEFAULT_TIMEOUT_S = 10.0  # ProviderCommon.timeout_seconds

SECRETS = {**sim_secrets_env(), API_KEY_ENV: API_KEY}


@dataclass(frozen=True)
class Recovery:
    provider: str
    kind: str
    seconds: float  # from the clear until the dashboard showed the new state
    failures: int  # failed refreshes during the outage
    outage_s: float
    # The longest time between two failed refreshes, or the last one and the recovery.
    longest_wait_s: float


class Scenario(ABC):
    """One provider against its simulator; `handle` is the running simulator."""

    name: str
    # Our fault kinds -> this simulator's names for them.
    sim_faults: dict[str, str]
    handle: Any

    @abstractmethod
    def people(self) -> list[dict[str, str]]: ...

    @abstractmethod
    def section(self, dash_port: int, base_s: float, timeout_s: float | None) -> dict[str, Any]:
        """The provider's config section; `base_s` is what its retry interval derives from
        (the poll interval, or Cisco's resync interval); `timeout_s` None: the default."""

    @abstractmethod
    def before(self) -> None:
        """Put the vendor in the state shown before the outage."""

    @abstractmethod
    def change(self) -> None:
        """The vendor's state changes (while it fails to answer us)."""

    @abstractmethod
    def shows(self, server: DashServer, changed: bool) -> bool:
        """Whether the dashboard shows the state from `before` (False) or `change` (True)."""

    @classmethod
    def retry_s(cls, base_s: float) -> float:
        return base_s

    @classmethod
    def target_s(cls, base_s: float) -> float:
        """The issue's target at default settings: the retry interval + 5 s."""
        return cls.retry_s(base_s) + 5.0

    def start_outage(self, kind: str, timeout_s: float) -> None:
        delay = timeout_s + HANG_PAST_TIMEOUT_S
        self.handle.fault(self.sim_faults[kind], OUTAGE_CALLS, delay_s=delay)

    def end_outage(self) -> None:
        sim = self.handle.sim
        with sim.lock:
            sim.faults.clear()

    def close(self) -> None:
        self.handle.close()


def _person(pid: str, **source: str) -> dict[str, str]:
    return {"id": pid, "name": pid.title(), "team": "Recovery", **source}


def person_status(server: DashServer, pid: str, source: str) -> str | None:
    """The person's status as the dashboard shows it, None while its source is stale."""
    body = server.get("/api/presence").json()
    person = next((p for p in body["people"] if p["id"] == pid), None)
    view = person and person["sources"].get(source)
    return None if not person or not view or view["stale"] else person["status"]


class ServiceNowScenario(Scenario):
    name = "servicenow"
    sim_faults = {"5xx": "503", "timeout": "slow", "malformed": "malformed", "auth": "401"}

    def __init__(self) -> None:
        self.handle: SnSimHandle = start_sn_sim()
        self.user = sys_id("recovery-sn")

    def people(self) -> list[dict[str, str]]:
        return [_person("sn-person", servicenow=self.user)]

    def section(self, dash_port: int, base_s: float, timeout_s: float | None) -> dict[str, Any]:
        section: dict[str, Any] = {
            "base_url": self.handle.url,
            "username": SN_USERNAME,
            "password_env": SN_PASSWORD_ENV,
            "poll_seconds": base_s,
        }
        return section | ({"timeout_seconds": timeout_s} if timeout_s else {})

    def before(self) -> None:
        self.handle.set_user(self.user, seconds_ago=0)  # online for the next 30 s

    def change(self) -> None:
        self.handle.set_user(self.user, seconds_ago=3600)  # offline

    def shows(self, server: DashServer, changed: bool) -> bool:
        return person_status(server, "sn-person", self.name) == ("offline" if changed else "online")

    def close(self) -> None:
        self.handle.server.shutdown()
        self.handle.http.close()


class CiscoScenario(Scenario):
    name = "cisco"
    sim_faults = {"5xx": "500", "timeout": "slow", "malformed": "malformed", "auth": "401"}
    CONTACT = "recovery@example.com"
    # A failing push provider retries after its resync interval, at most 30 s (cisco.py).
    MAX_RETRY_S = 30.0

    def __init__(self) -> None:
        self.handle: CiscoSimHandle = start_cisco_sim()

    def people(self) -> list[dict[str, str]]:
        return [_person("cisco-person", cisco=self.CONTACT)]

    def section(self, dash_port: int, base_s: float, timeout_s: float | None) -> dict[str, Any]:
        section = cisco_section(self.handle, dash_port, resync_seconds=base_s)
        section.pop("timeout_seconds")
        return section | ({"timeout_seconds": timeout_s} if timeout_s else {})

    @classmethod
    def retry_s(cls, base_s: float) -> float:
        return min(base_s, cls.MAX_RETRY_S)

    def before(self) -> None:
        self.handle.set_contact(self.CONTACT, "AVAILABLE")

    def change(self) -> None:
        # The node notifies us, but the refresh that notification asks for fails too: only
        # the retries can bring the change.
        self.handle.set_contact(self.CONTACT, "UNAVAILABLE")

    def shows(self, server: DashServer, changed: bool) -> bool:
        status = person_status(server, "cisco-person", self.name)
        return status == ("offline" if changed else "online")


class SalesforceScenario(Scenario):
    name = "salesforce"
    sim_faults = {"5xx": "503", "timeout": "slow", "malformed": "malformed", "auth": "401"}

    def __init__(self) -> None:
        self.handle: SfSimHandle = start_salesforce_sim()
        self.user = self.handle.add_user(name="Recovery Person")

    def people(self) -> list[dict[str, str]]:
        return [_person("sf-person", salesforce=self.user)]

    def section(self, dash_port: int, base_s: float, timeout_s: float | None) -> dict[str, Any]:
        section = salesforce_section(self.handle, poll_seconds=base_s)
        section.pop("timeout_seconds")
        return section | ({"timeout_seconds": timeout_s} if timeout_s else {})

    def before(self) -> None:
        self.handle.login(self.user, notify=False)

    def change(self) -> None:
        # No logout event: the event path would show it at once whatever the API does.
        self.handle.logout(self.user, notify=False)

    def shows(self, server: DashServer, changed: bool) -> bool:
        status = person_status(server, "sf-person", self.name)
        return status == ("offline" if changed else "online")


class GlanceScenario(Scenario):
    """Glance shows visitors, not people: the "dot" is a visitor on the site."""

    name = "glance"
    sim_faults = {"5xx": "503", "timeout": "slow", "malformed": "not_json", "auth": "401"}
    VISITOR = "v-recovery"

    def __init__(self) -> None:
        self.handle: GlanceSimHandle = start_glance_sim()

    def people(self) -> list[dict[str, str]]:
        return []

    def section(self, dash_port: int, base_s: float, timeout_s: float | None) -> dict[str, Any]:
        section = glance_section(self.handle, poll_seconds=base_s)
        section.pop("timeout_seconds")
        return section | ({"timeout_seconds": timeout_s} if timeout_s else {})

    def before(self) -> None:
        self.handle.leave(self.VISITOR)

    def change(self) -> None:
        self.handle.arrive(self.VISITOR)

    def shows(self, server: DashServer, changed: bool) -> bool:
        visitors = server.get("/api/visitors").json()["visitors"]
        present = any(v["visitor_id"] == self.VISITOR for v in visitors)
        return present is changed and provider_state(server, self.name) == "ok"


SCENARIOS: dict[str, type[Scenario]] = {
    s.name: s for s in (ServiceNowScenario, CiscoScenario, SalesforceScenario, GlanceScenario)
}


def provider_state(server: DashServer, name: str) -> str:
    return server.get("/api/presence").json()["providers"][name]["state"]


_POLLS = re.compile(
    r'^provider_polls_total\{provider="([^"]+)",result="error"\} ([0-9.e+]+)$', re.M
)


def failed_refreshes(server: DashServer, name: str) -> int:
    """Failed refreshes of provider `name` since the dashboard started (its /metrics)."""
    found = dict(_POLLS.findall(server.get("/metrics").text))
    return int(float(found.get(name, 0)))


class _FailureMarks:
    """When the dashboard's count of failed refreshes went up, as seen by polling /metrics:
    the gaps between them are the waits between retries (plus each attempt's duration)."""

    def __init__(self, server: DashServer, name: str) -> None:
        self.server, self.name = server, name
        self.start = self.count = failed_refreshes(server, name)
        self.times: list[float] = []

    def look(self) -> int:
        count = failed_refreshes(self.server, self.name)
        if count > self.count:
            self.times.append(time.monotonic())
            self.count = count
        return count - self.start

    def longest_wait(self, recovered_at: float) -> float:
        marks = [*self.times, recovered_at]
        return max((b - a for a, b in itertools.pairwise(marks)), default=0.0)


def run_outage(
    server: DashServer,
    scenario: Scenario,
    kind: str,
    *,
    min_failures: int = 0,
    min_outage_s: float = 0.0,
    recovery_timeout_s: float = 120.0,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    interval_s: float = 0.05,
) -> Recovery:
    """Show the `before` state, fail the vendor `kind`-wise while its state changes, until
    both `min_failures` refreshes failed and `min_outage_s` passed; then clear and time the
    dashboard until it shows the new state."""
    scenario.before()
    wait_for(
        lambda: scenario.shows(server, changed=False),
        timeout=scenario.target_s(60) + 30,
        interval=interval_s,
        what=f"{scenario.name} showing the state before the outage",
    )
    marks = _FailureMarks(server, scenario.name)
    started = time.monotonic()
    scenario.start_outage(kind, timeout_s)
    scenario.change()

    def long_enough() -> bool:
        failures = marks.look()
        return failures >= min_failures and time.monotonic() - started >= min_outage_s

    wait_for(long_enough, timeout=min_outage_s + 600, interval=interval_s, what="the outage")
    failures = marks.look()
    cleared = time.monotonic()
    scenario.end_outage()

    def recovered() -> bool:
        marks.look()  # a call in flight at the clear may still fail (a hang times out)
        return scenario.shows(server, changed=True)

    wait_for(
        recovered,
        timeout=recovery_timeout_s,
        interval=interval_s,
        what=f"{scenario.name} showing the state that began during the outage",
    )
    done = time.monotonic()
    return Recovery(
        scenario.name,
        kind,
        seconds=done - cleared,
        failures=failures,
        outage_s=cleared - started,
        longest_wait_s=marks.longest_wait(done),
    )
