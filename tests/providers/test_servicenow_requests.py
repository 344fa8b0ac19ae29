"""The ServiceNow adapter's request economy over real HTTP: the instance answers for everyone
it tracks whatever users it is asked about, so one request per poll must do, not one per
batch; and the requests-per-poll metric that shows it on /metrics."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers import SN_PASSWORD, SN_PASSWORD_ENV, SN_USERNAME, SnSimHandle, person, sys_id, wait_for

from presence_dash.core.model import Person, Status
from presence_dash.core.timefmt import utc_now
from presence_dash.providers.servicenow.config import ServiceNowConfig
from presence_dash.providers.servicenow.provider import ServiceNowProvider

PEOPLE = [Person(f"p{i}", f"P {i}", "Desk", {"servicenow": sys_id(f"p{i}")}) for i in range(5000)]
IDS = [p.source_ids["servicenow"] for p in PEOPLE]
# Every third person active, every third away, the rest without a presence record.
EXPECTED = {p.id: (Status.ONLINE, Status.AWAY, Status.OFFLINE)[i % 3] for i, p in enumerate(PEOPLE)}


@pytest.fixture
def seeded(sn_sim: SnSimHandle) -> SnSimHandle:
    """The simulator with records for two thirds of PEOPLE and a few strangers. Written
    straight into its state: the /_sim/ API takes one user per call."""
    with sn_sim.sim.lock:
        now = sn_sim.sim.now_ms()
        for i, sid in enumerate(IDS):
            if i % 3 == 0:
                sn_sim.sim.last_on[sid] = now - 2_000
            elif i % 3 == 1:
                sn_sim.sim.last_on[sid] = now - 45_000
        for n in range(3):
            sn_sim.sim.last_on[sys_id(f"stranger{n}")] = now
    return sn_sim


@pytest.fixture
def provider(seeded: SnSimHandle) -> Iterator[ServiceNowProvider]:
    config = ServiceNowConfig(
        base_url=seeded.url,
        username=SN_USERNAME,
        password_env="SN_PASSWORD",
        timeout_seconds=10,
        batch_size=500,
    )
    built = ServiceNowProvider(config, SN_PASSWORD, PEOPLE, requests.Session(), utc_now)
    yield built
    built.close()


def _honour_hint(sn_sim: SnSimHandle, honour: bool) -> None:
    answer = requests.post(
        sn_sim.url + "/_sim/quirks", json={"ignore_users": not honour}, timeout=5
    )
    assert answer.json()["ignore_users"] is (not honour)


def _poll(provider: ServiceNowProvider, sn_sim: SnSimHandle) -> tuple[dict[str, Status], int]:
    """(statuses, requests the simulator saw) for one poll."""
    before = len(sn_sim.request_log()["requests"])
    observed = {o.person_id: o.status for o in provider.poll()}
    return observed, len(sn_sim.request_log()["requests"]) - before


def test_an_instance_that_ignores_the_hint_is_asked_once_per_poll_not_per_batch(
    seeded: SnSimHandle, provider: ServiceNowProvider
) -> None:
    for _ in range(2):  # and so on for later polls
        observed, sent = _poll(provider, seeded)
        assert sent == 1  # not 10 (5,000 people / 500 per batch)
        assert provider.requests_last_poll == 1
        assert observed == EXPECTED  # everyone, from that one answer, strangers left out


def test_an_instance_that_honours_the_hint_is_asked_batch_by_batch(
    seeded: SnSimHandle, provider: ServiceNowProvider
) -> None:
    _honour_hint(seeded, True)
    observed, sent = _poll(provider, seeded)
    assert sent == 10
    assert provider.requests_last_poll == 10
    assert observed == EXPECTED


def test_the_adapter_follows_an_instance_that_changes_its_behaviour(
    seeded: SnSimHandle, provider: ServiceNowProvider
) -> None:
    assert _poll(provider, seeded) == (EXPECTED, 1)
    _honour_hint(seeded, True)  # e.g. an upgrade: the hint is honoured again
    assert _poll(provider, seeded) == (EXPECTED, 10)
    _honour_hint(seeded, False)
    assert _poll(provider, seeded) == (EXPECTED, 1)


def test_records_of_only_the_first_batch_cost_a_second_request_at_most(
    sn_sim: SnSimHandle,
) -> None:
    # Nobody outside the first batch has a record: its answer cannot show that the instance
    # ignored the hint, the second batch's answer (with first-batch people in it) does.
    sn_sim.set_user(IDS[0], seconds_ago=2)
    people = PEOPLE[:25]
    config = ServiceNowConfig(
        base_url=sn_sim.url, username=SN_USERNAME, password_env="SN_PASSWORD", batch_size=10
    )
    provider = ServiceNowProvider(config, SN_PASSWORD, people, requests.Session(), utc_now)
    observed, sent = _poll(provider, sn_sim)
    assert sent == 2
    assert observed == {p.id: Status.ONLINE if p is people[0] else Status.OFFLINE for p in people}


# -- the metric, end to end: the real dashboard process against the simulator ---------------


def test_requests_per_poll_are_a_metric(
    tmp_path: Path,
    sn_sim: SnSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., Any],
) -> None:
    people = [person(f"m{i}") for i in range(5)]
    for p in people:
        sn_sim.set_user(p["servicenow"], seconds_ago=2)
    section = {
        "base_url": sn_sim.url,
        "username": SN_USERNAME,
        "password_env": SN_PASSWORD_ENV,
        "poll_seconds": 0.2,
        "timeout_seconds": 2,
        "batch_size": 2,  # three batches if the instance honoured the hint
    }
    config = make_config(tmp_path, people, None, providers={"servicenow": section})
    server = dash_server(config)
    pattern = re.compile(r'^provider_requests_per_poll_(count|sum)\{provider="servicenow"\} (\S+)$')

    def polled_twice() -> dict[str, float] | None:
        text = server.get("/metrics").text
        values = {m[1]: float(m[2]) for m in map(pattern.match, text.splitlines()) if m}
        return values if values.get("count", 0) >= 2 else None

    values = wait_for(polled_twice, 10, what="two polls counted in /metrics")
    assert values["sum"] == values["count"]  # one request per poll
