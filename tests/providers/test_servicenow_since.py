"""Time in state from ServiceNow's `last_on`: away began `online_within_s` after the last
activity, offline `away_within_s` after it, measured on the instance's clock and told on ours;
online and no record give no time (the board then uses first seen)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from helpers import SN_PASSWORD, SN_USERNAME, SnSimHandle, sys_id

from presence_dash.core.model import Observation, Person, Status
from presence_dash.core.timefmt import utc_now
from presence_dash.providers.servicenow.config import ServiceNowConfig
from presence_dash.providers.servicenow.provider import ServiceNowProvider, state_since

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

# -- the rule, with plain values --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "age_ms", "expected"),
    [
        (Status.ONLINE, 5_000, None),  # when the run of activity began is not known
        (Status.AWAY, 45_000, NOW - timedelta(seconds=15)),  # 30 s after the last activity
        (Status.OFFLINE, 120_000, NOW - timedelta(seconds=60)),  # 60 s after it
        (Status.OFFLINE, 14 * 3600_000, NOW - timedelta(hours=14) + timedelta(seconds=60)),
        (Status.AWAY, 30_000, NOW),  # it has just begun
    ],
)
def test_away_and_offline_began_a_threshold_after_the_last_activity(
    status: Status, age_ms: int, expected: datetime | None
) -> None:
    assert state_since(status, age_ms, NOW, 30, 60) == expected


def test_the_thresholds_are_the_configured_ones() -> None:
    assert state_since(Status.AWAY, 120_000, NOW, 50, 200) == NOW - timedelta(seconds=70)
    assert state_since(Status.OFFLINE, 250_000, NOW, 50, 200) == NOW - timedelta(seconds=50)


def test_since_is_never_in_our_future() -> None:
    # An age below the threshold cannot be away; should one come, it began now, not later.
    assert state_since(Status.AWAY, 10_000, NOW, 30, 60) == NOW
    assert state_since(Status.OFFLINE, -5_000, NOW, 30, 60) == NOW


# -- over the simulator, whose clock is set far from ours -------------------------------------

IDS = {name: sys_id(name) for name in ("ada", "grace", "alan", "edsger")}
PEOPLE = [Person(n, n.title(), "Desk", {"servicenow": sid}) for n, sid in IDS.items()]


def _observe(url: str, **options: Any) -> dict[str, Observation]:
    config = ServiceNowConfig(
        base_url=url, username=SN_USERNAME, password_env="SN_PASSWORD", **options
    )
    provider = ServiceNowProvider(config, SN_PASSWORD, PEOPLE, requests.Session(), utc_now)
    return {o.person_id: o for o in provider.poll()}


def _close(moment: datetime | None, expected: datetime, within_s: float) -> bool:
    return moment is not None and abs((moment - expected).total_seconds()) <= within_s


@pytest.mark.parametrize("mode", ["ui", "table"])
@pytest.mark.parametrize("skew_minutes", [10, -10])
def test_time_in_state_is_measured_on_the_instance_clock(
    mode: str, skew_minutes: int, sn_sim: SnSimHandle
) -> None:
    sn_sim.clock(skew_minutes * 60_000)
    sn_sim.set_user(IDS["ada"], seconds_ago=5)
    sn_sim.set_user(IDS["grace"], seconds_ago=45)
    sn_sim.set_user(IDS["alan"], seconds_ago=120)
    # edsger has no presence record
    seeded = utc_now()  # on our clock; the instance's is 10 minutes off

    seen = _observe(sn_sim.url, mode=mode)

    assert {pid: o.status for pid, o in seen.items()} == {
        "ada": Status.ONLINE,
        "grace": Status.AWAY,
        "alan": Status.OFFLINE,
        "edsger": Status.OFFLINE,
    }
    # The table view's clock is the Date header: whole seconds only.
    within = 1.5 if mode == "table" else 0.5
    assert seen["ada"].state_since is None
    assert _close(seen["grace"].state_since, seeded - timedelta(seconds=15), within)
    assert _close(seen["alan"].state_since, seeded - timedelta(seconds=60), within)
    assert seen["edsger"].state_since is None
    for observation in seen.values():
        since = observation.state_since
        assert since is None or (since.tzinfo is not None and since <= observation.observed_at)
