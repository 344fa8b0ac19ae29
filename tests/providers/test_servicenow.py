"""The ServiceNow adapter against the ServiceNow simulator over real HTTP (no mocks): status
from ages on the instance clock, batching, typed failures, and the runner's health."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from helpers import SN_PASSWORD, SN_USERNAME, SnSimHandle, sys_id

from presence_dash.core.board import PresenceBoard
from presence_dash.core.model import Person, ProviderState, Status
from presence_dash.core.timefmt import utc_now
from presence_dash.providers.base import AuthFailed, UpdateFailed
from presence_dash.providers.runner import ProviderRunner, stale_after
from presence_dash.providers.servicenow.config import ServiceNowConfig
from presence_dash.providers.servicenow.provider import ServiceNowProvider

NAMES = ["ada", "grace", "alan", "edsger"]
PEOPLE = [Person(n, n.title(), "Service Desk", {"servicenow": sys_id(n)}) for n in NAMES]
ID = {n: sys_id(n) for n in NAMES}

MakeProvider = Callable[..., ServiceNowProvider]


@pytest.fixture
def make_provider(sn_sim: SnSimHandle) -> Iterator[MakeProvider]:
    """Factory: a ServiceNowProvider on the simulator; keyword args override config keys."""
    built: list[ServiceNowProvider] = []

    def make(
        people: list[Person] = PEOPLE, password: str = SN_PASSWORD, **overrides: Any
    ) -> ServiceNowProvider:
        config = ServiceNowConfig(
            base_url=sn_sim.url,
            username=SN_USERNAME,
            password_env="SN_PASSWORD",
            timeout_seconds=overrides.pop("timeout_seconds", 2),
            **overrides,
        )
        provider = ServiceNowProvider(config, password, people, requests.Session(), utc_now)
        built.append(provider)
        return provider

    yield make
    for provider in built:
        provider.close()


def statuses(provider: ServiceNowProvider) -> dict[str, Status]:
    return {o.person_id: o.status for o in provider.poll()}


def set_ages(sn_sim: SnSimHandle) -> None:
    sn_sim.set_user(ID["ada"], seconds_ago=5)
    sn_sim.set_user(ID["grace"], seconds_ago=45)
    sn_sim.set_user(ID["alan"], seconds_ago=120)
    # edsger has no presence record at all


EXPECTED = {"ada": Status.ONLINE, "grace": Status.AWAY, "alan": Status.OFFLINE}


def test_status_follows_the_age_of_last_activity(
    sn_sim: SnSimHandle, make_provider: MakeProvider
) -> None:
    set_ages(sn_sim)
    observations = make_provider().poll()
    assert {o.person_id: o.status for o in observations} == {
        **EXPECTED,
        "edsger": Status.OFFLINE,  # no record: never active on the instance
    }
    assert {o.source for o in observations} == {"servicenow"}
    assert all(o.observed_at.tzinfo is not None for o in observations)


@pytest.mark.parametrize("skew_minutes", [10, -10])
def test_age_is_measured_on_the_instance_clock_not_ours(
    skew_minutes: int, sn_sim: SnSimHandle, make_provider: MakeProvider
) -> None:
    sn_sim.clock(skew_minutes * 60_000)
    set_ages(sn_sim)  # last_on values are in instance time, like a real instance's
    assert statuses(make_provider()) == {**EXPECTED, "edsger": Status.OFFLINE}


def test_thresholds_come_from_the_config(sn_sim: SnSimHandle, make_provider: MakeProvider) -> None:
    set_ages(sn_sim)
    provider = make_provider(online_within_s=50, away_within_s=200)
    assert statuses(provider) == {
        "ada": Status.ONLINE,
        "grace": Status.ONLINE,
        "alan": Status.AWAY,
        "edsger": Status.OFFLINE,
    }


def test_an_instance_that_honours_the_users_hint_is_asked_in_chunks_of_batch_size(
    sn_sim: SnSimHandle, make_provider: MakeProvider
) -> None:
    response = requests.post(sn_sim.url + "/_sim/quirks", json={"ignore_users": False}, timeout=5)
    assert response.json()["ignore_users"] is False
    people = [Person(f"p{i}", f"P {i}", "Desk", {"servicenow": sys_id(f"p{i}")}) for i in range(25)]
    for p in people[::2]:
        sn_sim.set_user(p.source_ids["servicenow"], seconds_ago=2)
    before = len(sn_sim.request_log()["requests"])

    provider = make_provider(people=people, batch_size=10)
    result = statuses(provider)

    assert len(sn_sim.request_log()["requests"]) - before == 3  # 10 + 10 + 5
    assert provider.requests_last_poll == 3
    assert result == {
        p.id: Status.ONLINE if i % 2 == 0 else Status.OFFLINE for i, p in enumerate(people)
    }


def test_get_mode_sends_users_as_a_query_parameter(
    sn_sim: SnSimHandle, make_provider: MakeProvider
) -> None:
    set_ages(sn_sim)
    assert statuses(make_provider(request_method="GET")) == {**EXPECTED, "edsger": Status.OFFLINE}
    assert sn_sim.request_log()["requests"][-1]["method"] == "GET"


def test_wrong_users_field_is_rejected_by_the_instance(make_provider: MakeProvider) -> None:
    with pytest.raises(UpdateFailed, match=r"^HTTP 400: Invalid request$"):
        make_provider(users_field="user_ids").poll()


@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_errors_are_transient_failures_with_the_vendor_message(
    kind: str, sn_sim: SnSimHandle, make_provider: MakeProvider
) -> None:
    sn_sim.fault(kind)
    with pytest.raises(UpdateFailed) as caught:
        make_provider().poll()
    assert not isinstance(caught.value, AuthFailed)
    assert str(caught.value) == f"HTTP {kind}: Instance unavailable"


def test_401_is_an_auth_failure(sn_sim: SnSimHandle, make_provider: MakeProvider) -> None:
    sn_sim.fault("401")
    with pytest.raises(AuthFailed, match=r"^HTTP 401 credentials refused: User Not Auth"):
        make_provider().poll()


def test_wrong_password_is_an_auth_failure_without_the_password(
    make_provider: MakeProvider,
) -> None:
    with pytest.raises(AuthFailed) as caught:
        make_provider(password="not-the-password").poll()
    assert "User Not Authenticated" in str(caught.value)
    assert "not-the-password" not in str(caught.value)


def test_password_change_on_the_instance_is_an_auth_failure(
    sn_sim: SnSimHandle, make_provider: MakeProvider
) -> None:
    provider = make_provider()
    provider.poll()
    sn_sim.set_password("rotated")
    with pytest.raises(AuthFailed):
        provider.poll()


def test_429_carries_retry_after(sn_sim: SnSimHandle, make_provider: MakeProvider) -> None:
    sn_sim.fault("429", retry_after=7)
    with pytest.raises(UpdateFailed) as caught:
        make_provider().poll()
    assert str(caught.value) == "HTTP 429: Rate limit exceeded"
    assert caught.value.retry_after == 7.0


def test_slow_answer_times_out(sn_sim: SnSimHandle, make_provider: MakeProvider) -> None:
    sn_sim.fault("slow", delay_s=1.0)
    with pytest.raises(UpdateFailed, match=r"^no answer within 0\.3 s$"):
        make_provider(timeout_seconds=0.3).poll()


@pytest.mark.parametrize("kind", ["malformed", "not_json", "html"])
def test_malformed_bodies_are_transient_failures(
    kind: str, sn_sim: SnSimHandle, make_provider: MakeProvider
) -> None:
    sn_sim.fault(kind)
    with pytest.raises(UpdateFailed, match=r"^malformed response: "):
        make_provider().poll()


def test_unreachable_instance_is_a_transient_failure(sn_sim: SnSimHandle) -> None:
    from helpers import free_port

    config = ServiceNowConfig(
        base_url=f"http://127.0.0.1:{free_port()}",
        username=SN_USERNAME,
        password_env="SN_PASSWORD",
        timeout_seconds=2,
    )
    provider = ServiceNowProvider(config, SN_PASSWORD, PEOPLE, requests.Session(), utc_now)
    with pytest.raises(UpdateFailed, match="cannot connect"):
        provider.poll()


def test_the_call_after_the_faulted_ones_succeeds(
    sn_sim: SnSimHandle, make_provider: MakeProvider
) -> None:
    set_ages(sn_sim)
    provider = make_provider()
    sn_sim.fault("500", 2)
    for _ in range(2):
        with pytest.raises(UpdateFailed):
            provider.poll()
    assert statuses(provider)["ada"] is Status.ONLINE
    assert sn_sim.request_log()["pending_faults"] == 0


# -- the runner and the board over the simulator --------------------------------------------


def runner_for(provider: ServiceNowProvider) -> tuple[ProviderRunner, PresenceBoard]:
    board = PresenceBoard(PEOPLE, {"servicenow": stale_after(provider)}, utc_now())
    return ProviderRunner(provider, board, utc_now, sleep=lambda seconds: None), board


def test_a_fault_degrades_the_provider_keeps_statuses_and_recovers(
    sn_sim: SnSimHandle, make_provider: MakeProvider
) -> None:
    set_ages(sn_sim)
    runner, board = runner_for(make_provider(poll_seconds=60))

    assert runner.poll_once() == 60
    assert board.health()["servicenow"].state is ProviderState.OK
    assert board.person("ada").status is Status.ONLINE

    sn_sim.fault("503")
    delay = runner.poll_once()
    health = board.health()["servicenow"]
    assert health.state is ProviderState.DEGRADED
    assert health.error == "HTTP 503: Instance unavailable"
    assert health.last_success is not None
    assert 30 <= delay <= 90  # backoff from the poll interval, with jitter
    ada = board.person("ada")
    assert ada.status is Status.ONLINE and not ada.sources["servicenow"].stale

    assert runner.poll_once() == 60
    assert board.health()["servicenow"].state is ProviderState.OK
    assert board.health()["servicenow"].error is None
    assert runner.failures == 0


def test_rate_limit_delays_the_next_poll_by_retry_after(
    sn_sim: SnSimHandle, make_provider: MakeProvider
) -> None:
    runner, board = runner_for(make_provider(poll_seconds=1))
    runner.poll_once()
    sn_sim.fault("429", retry_after=120)
    assert runner.poll_once() == 120
    assert board.health()["servicenow"].state is ProviderState.DEGRADED


def test_auth_failure_takes_the_provider_down(
    sn_sim: SnSimHandle, make_provider: MakeProvider
) -> None:
    runner, board = runner_for(make_provider(poll_seconds=60))
    runner.poll_once()
    sn_sim.set_password("rotated")
    runner.poll_once()
    health = board.health()["servicenow"]
    assert health.state is ProviderState.DOWN
    assert health.error.startswith("HTTP 401 credentials refused")


def test_stale_data_is_ignored_once_failures_last_three_intervals(
    sn_sim: SnSimHandle, make_provider: MakeProvider
) -> None:
    set_ages(sn_sim)
    provider = make_provider(poll_seconds=60)
    now = [utc_now()]
    board = PresenceBoard(PEOPLE, {"servicenow": stale_after(provider)}, now[0])
    runner = ProviderRunner(provider, board, lambda: now[0], sleep=lambda seconds: None)
    runner.poll_once()
    assert board.person("ada").status is Status.ONLINE

    sn_sim.fault("500")
    now[0] += timedelta(minutes=4)  # > 3 x 60 s since the last success
    runner.poll_once()
    assert board.health()["servicenow"].state is ProviderState.DOWN
    ada = board.person("ada")
    assert ada.status is Status.UNKNOWN and ada.sources["servicenow"].stale
