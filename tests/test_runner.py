"""ProviderRunner: loop, backoff with jitter and its caps, Retry-After, health on a real board,
logging."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from presence_dash.config import ProviderCommon
from presence_dash.core.board import PresenceBoard
from presence_dash.core.model import Observation, Person, ProviderState, Status
from presence_dash.providers.base import AuthFailed, PollingProvider, UpdateFailed
from presence_dash.providers.runner import (
    AUTH_MAX_BACKOFF_S,
    ProviderRunner,
    backoff_delay,
    stale_after,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
NAME = "fake"
POLL_S = 5.0
CAP_S = POLL_S + 5  # the default max_backoff_seconds: the retry interval + 5 s
LOGGER = "presence_dash.providers.runner"

ADA = Person("ada", "Ada Lovelace", "Service Desk", {NAME: "ada-1"})


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeHttp:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


Step = Callable[[datetime], list[Observation]]


class FakeProvider(PollingProvider):
    """Each poll runs the next scripted step: a function returning observations, or an
    exception instance to raise. The last step repeats."""

    name = NAME

    def __init__(
        self,
        clock: FakeClock,
        steps: list[Step | BaseException],
        config: ProviderCommon | None = None,
        retry_s: float | None = None,
    ) -> None:
        super().__init__([ADA], FakeHttp(), clock)  # type: ignore[arg-type]
        self.steps = steps
        self.polls = 0
        self.config = config  # read by the base class for `max_backoff_seconds`
        self._retry_s = retry_s

    @property
    def poll_seconds(self) -> float:
        return POLL_S

    @property
    def retry_seconds(self) -> float:
        # As a push provider with a long resync interval does (Cisco).
        return self._retry_s if self._retry_s is not None else super().retry_seconds

    def poll(self) -> list[Observation]:
        step = self.steps[min(self.polls, len(self.steps) - 1)]
        self.polls += 1
        if isinstance(step, BaseException):
            raise step
        return step(self.clock())


def online(now: datetime) -> list[Observation]:
    return [Observation("ada", NAME, Status.ONLINE, now, "active")]


class MidRandom(random.Random):
    """Jitter factor exactly 1.0, to see the un-jittered schedule."""

    def uniform(self, a: float, b: float) -> float:
        return (a + b) / 2


def make(
    steps: list[Step | BaseException],
    rng: random.Random | None = None,
    config: ProviderCommon | None = None,
    retry_s: float | None = None,
) -> tuple[ProviderRunner, PresenceBoard, FakeClock, list[float]]:
    clock = FakeClock()
    provider = FakeProvider(clock, steps, config, retry_s)
    board = PresenceBoard([ADA], {NAME: stale_after(provider)}, T0)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    runner = ProviderRunner(provider, board, clock, sleep, rng=rng or random.Random(1))
    return runner, board, clock, slept


def warnings_and_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]


# -- success ----------------------------------------------------------------------------------


def test_stale_after_is_three_poll_intervals() -> None:
    runner, *_ = make([online])
    assert stale_after(runner.provider) == timedelta(seconds=15)


def test_success_applies_observations_and_returns_poll_seconds() -> None:
    polls: list[tuple[str, bool, float]] = []
    runner, board, clock, _ = make([online])
    runner.on_poll = lambda name, ok, seconds: polls.append((name, ok, seconds))
    clock.advance(1)
    assert runner.poll_once() == POLL_S
    ada = board.person("ada")
    assert ada is not None
    assert (ada.status, ada.detail) == (Status.ONLINE, "active")
    health = board.health()[NAME]
    assert (health.state, health.last_success, health.error) == (
        ProviderState.OK,
        T0 + timedelta(seconds=1),
        None,
    )
    assert polls == [(NAME, True, 0.0)]
    assert runner.failures == 0


def test_observations_for_unknown_people_do_not_fail_the_poll() -> None:
    def strangers(now: datetime) -> list[Observation]:
        return [Observation("nobody", NAME, Status.ONLINE, now)]

    runner, board, _, _ = make([strangers])
    assert runner.poll_once() == POLL_S
    assert board.health()[NAME].state is ProviderState.OK


# -- failures and health ----------------------------------------------------------------------


def test_update_failed_is_degraded_while_fresh_then_down_once_stale() -> None:
    runner, board, clock, _ = make([online, UpdateFailed("HTTP 503 from vendor")])
    runner.poll_once()
    clock.advance(5)
    runner.poll_once()
    health = board.health()[NAME]
    assert health.state is ProviderState.DEGRADED
    assert health.error == "HTTP 503 from vendor"
    assert health.last_success == T0
    ada = board.person("ada")
    assert ada is not None
    assert ada.status is Status.ONLINE  # last data kept while fresh

    clock.advance(11)  # 16 s since the last success > 3 x 5 s
    runner.poll_once()
    health = board.health()[NAME]
    assert health.state is ProviderState.DOWN
    assert health.error == "HTTP 503 from vendor"
    assert health.last_success == T0
    ada = board.person("ada")
    assert ada is not None
    assert ada.status is Status.UNKNOWN
    assert ada.sources[NAME].stale is True


def test_update_failed_before_any_success_is_down() -> None:
    runner, board, _, _ = make([UpdateFailed("connection refused")])
    runner.poll_once()
    health = board.health()[NAME]
    assert (health.state, health.error, health.last_success) == (
        ProviderState.DOWN,
        "connection refused",
        None,
    )


def test_auth_failed_is_down_immediately_even_with_fresh_data() -> None:
    runner, board, clock, _ = make([online, AuthFailed("401: credentials refused")])
    runner.poll_once()
    clock.advance(1)
    runner.poll_once()
    health = board.health()[NAME]
    assert health.state is ProviderState.DOWN
    assert health.error == "401: credentials refused"
    assert health.last_success == T0


def test_failure_reports_on_poll_false() -> None:
    polls: list[tuple[str, bool, float]] = []
    runner, *_ = make([UpdateFailed("x")])
    runner.on_poll = lambda name, ok, seconds: polls.append((name, ok, seconds))
    runner.poll_once()
    assert polls == [(NAME, False, 0.0)]


# -- backoff ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cap", [CAP_S, 60.0, AUTH_MAX_BACKOFF_S])
@pytest.mark.parametrize("seed", [0, 1, 7, 42, 1234])
def test_backoff_delay_is_exponential_within_jitter_window_and_capped(
    seed: int, cap: float
) -> None:
    rng = random.Random(seed)
    for failures in range(1, 25):
        base = min(cap, POLL_S * 2 ** (failures - 1))
        delay = backoff_delay(POLL_S, failures, rng, cap)
        assert 0.5 * base <= delay <= min(cap, 1.5 * base), (failures, delay)


@pytest.mark.parametrize("cap", [CAP_S, AUTH_MAX_BACKOFF_S])
def test_jitter_survives_at_the_cap_and_never_exceeds_it(cap: float) -> None:
    rng = random.Random(3)
    delays = [backoff_delay(POLL_S, 30, rng, cap) for _ in range(200)]
    assert max(delays) == cap
    assert min(delays) >= cap / 2
    assert len(set(delays)) > 1  # below the cap the jitter still spreads the retries


def test_backoff_with_huge_failure_count_does_not_overflow() -> None:
    assert backoff_delay(POLL_S, 10_000, MidRandom(), AUTH_MAX_BACKOFF_S) == AUTH_MAX_BACKOFF_S


def test_backoff_without_jitter_doubles_per_failure_up_to_the_cap() -> None:
    mid = MidRandom()
    delays = [backoff_delay(POLL_S, f, mid, AUTH_MAX_BACKOFF_S) for f in range(1, 9)]
    assert delays == [5, 10, 20, 40, 80, 160, 300, 300]
    assert [backoff_delay(POLL_S, f, mid, CAP_S) for f in range(1, 5)] == [5, 10, 10, 10]


def test_jitter_uses_the_injected_rng_deterministically() -> None:
    a = [backoff_delay(POLL_S, f, random.Random(9), CAP_S) for f in range(1, 6)]
    b = [backoff_delay(POLL_S, f, random.Random(9), CAP_S) for f in range(1, 6)]
    assert a == b


def test_default_cap_is_the_retry_interval_plus_five_seconds() -> None:
    runner, *_ = make([online])
    assert runner.provider.max_backoff_seconds == CAP_S


def test_transient_failures_retry_at_most_the_cap_apart_and_reset_after_success() -> None:
    steps: list[Step | BaseException] = [UpdateFailed("down")] * 6 + [online]
    runner, *_ = make(steps, rng=MidRandom())
    # Uncapped this would be 5, 10, 20, 40, 80, 160: dots wrong for minutes after recovery.
    assert [runner.poll_once() for _ in range(6)] == [5, 10, 10, 10, 10, 10]
    assert runner.failures == 6
    assert runner.poll_once() == POLL_S
    assert runner.failures == 0


def test_a_call_that_hung_until_its_timeout_has_used_its_wait_already() -> None:
    def hangs(now: datetime) -> list[Observation]:
        clock.advance(8)  # the vendor took 8 s to time out
        raise UpdateFailed("timed out after 8 s")

    runner, _, clock, _ = make([hangs, hangs, online], rng=MidRandom())
    # Attempts start at most the cap apart (10 s): 8 s of each wait went into the call.
    assert [runner.poll_once(), runner.poll_once()] == [0.0, 2.0]
    assert runner.poll_once() == POLL_S


def test_runner_delays_stay_in_jitter_window_under_the_cap() -> None:
    runner, *_ = make([UpdateFailed("down")], rng=random.Random(5))
    for failures in range(1, 12):
        base = min(CAP_S, POLL_S * 2 ** (failures - 1))
        delay = runner.poll_once()
        assert 0.5 * base <= delay <= min(CAP_S, 1.5 * base)


def test_auth_failures_back_off_up_to_300_seconds() -> None:
    runner, board, _, _ = make([AuthFailed("401: credentials refused")], rng=MidRandom())
    delays = [runner.poll_once() for _ in range(9)]
    assert delays == [5, 10, 20, 40, 80, 160, 300, 300, 300]
    assert board.health()[NAME].state is ProviderState.DOWN


def test_auth_failures_ignore_a_configured_cap_below_300_seconds() -> None:
    config = ProviderCommon(base_url="http://vendor.invalid", max_backoff_seconds=30)
    runner, *_ = make([AuthFailed("401")], rng=MidRandom(), config=config)
    assert [runner.poll_once() for _ in range(8)][-2:] == [300, 300]


def test_a_transient_failure_after_auth_failures_is_capped_again() -> None:
    steps: list[Step | BaseException] = [AuthFailed("401")] * 5 + [UpdateFailed("HTTP 503")]
    runner, *_ = make(steps, rng=MidRandom())
    assert [runner.poll_once() for _ in range(5)][-1] == 80
    assert runner.poll_once() == CAP_S  # the failure count goes on, the auth cap does not


def test_configured_max_backoff_raises_the_cap() -> None:
    config = ProviderCommon(base_url="http://vendor.invalid", max_backoff_seconds=60)
    runner, *_ = make([UpdateFailed("down")], rng=MidRandom(), config=config)
    assert runner.provider.max_backoff_seconds == 60
    assert [runner.poll_once() for _ in range(6)] == [5, 10, 20, 40, 60, 60]


def test_backoff_grows_from_the_retry_interval_not_the_poll_interval() -> None:
    # A push provider resyncing every 600 s retries after 30 s; its cap follows (35 s).
    runner, *_ = make([UpdateFailed("down")], rng=MidRandom(), retry_s=30)
    assert runner.provider.max_backoff_seconds == 35
    assert [runner.poll_once() for _ in range(3)] == [30, 35, 35]


def test_retry_after_is_honoured() -> None:
    runner, board, _, _ = make(
        [UpdateFailed("HTTP 429", retry_after=120), UpdateFailed("HTTP 503")],
        rng=random.Random(2),
    )
    assert runner.poll_once() == 120
    assert board.health()[NAME].error == "HTTP 429"
    # Retry-After applied only to the failure that carried it.
    assert runner.poll_once() <= CAP_S


def test_retry_after_longer_than_the_cap_wins() -> None:
    steps: list[Step | BaseException] = [UpdateFailed("HTTP 503")] * 4
    steps.append(UpdateFailed("HTTP 503", retry_after=45))
    runner, *_ = make(steps, rng=MidRandom())
    assert [runner.poll_once() for _ in range(5)] == [5, 10, 10, 10, 45]


def test_retry_after_longer_than_the_auth_cap_wins() -> None:
    runner, *_ = make([AuthFailed("HTTP 403", retry_after=900)], rng=MidRandom())
    assert runner.poll_once() == 900


def test_retry_after_shorter_than_backoff_does_not_shorten_it() -> None:
    runner, *_ = make([UpdateFailed("HTTP 429", retry_after=0.1)], rng=MidRandom())
    runner.poll_once()
    assert runner.poll_once() == 10
    assert runner.poll_once() == CAP_S


# -- unexpected errors and logging --------------------------------------------------------------


def test_unexpected_exception_becomes_internal_error_and_loop_continues(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner, board, clock, _ = make([KeyError("users"), online])
    caplog.set_level(logging.INFO, logger=LOGGER)
    delay = runner.poll_once()
    assert delay > 0
    health = board.health()[NAME]
    assert health.state is ProviderState.DOWN
    assert health.error is not None
    assert "internal error" in health.error
    assert "KeyError" in health.error
    errors = warnings_and_errors(caplog)
    assert len(errors) == 1
    assert errors[0].exc_info is not None  # the traceback goes to the log, not the user
    clock.advance(delay)
    assert runner.poll_once() == POLL_S
    assert board.health()[NAME].state is ProviderState.OK


def test_same_error_repeated_is_logged_once_and_recovery_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    steps: list[Step | BaseException] = [UpdateFailed("HTTP 503")] * 4 + [online]
    runner, *_ = make(steps)
    caplog.set_level(logging.INFO, logger=LOGGER)
    for _ in range(4):
        runner.poll_once()
    failures = warnings_and_errors(caplog)
    assert len(failures) == 1
    assert "HTTP 503" in failures[0].getMessage()
    runner.poll_once()
    runner.poll_once()
    recovered = [r for r in caplog.records if "recovered" in r.getMessage()]
    assert len(recovered) == 1
    assert "4" in recovered[0].getMessage()


def test_a_different_error_is_logged_again(caplog: pytest.LogCaptureFixture) -> None:
    runner, *_ = make([UpdateFailed("HTTP 503"), UpdateFailed("HTTP 503"), UpdateFailed("timeout")])
    caplog.set_level(logging.INFO, logger=LOGGER)
    for _ in range(3):
        runner.poll_once()
    messages = [r.getMessage() for r in warnings_and_errors(caplog)]
    assert len(messages) == 2
    assert "HTTP 503" in messages[0]
    assert "timeout" in messages[1]


def test_same_unexpected_exception_repeated_logs_one_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner, *_ = make([KeyError("users")])
    caplog.set_level(logging.INFO, logger=LOGGER)
    for _ in range(3):
        runner.poll_once()
    assert len(warnings_and_errors(caplog)) == 1
    assert runner.failures == 3


# -- run_forever / stop --------------------------------------------------------------------------


def test_stop_ends_run_forever_and_closes_provider() -> None:
    steps: list[Step | BaseException] = [online, UpdateFailed("HTTP 503", retry_after=7), online]
    runner, board, clock, _ = make(steps, rng=MidRandom())
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)
        if len(slept) == 3:
            runner.stop()

    runner.sleep = sleep
    runner.run_forever()
    provider = runner.provider
    assert isinstance(provider, FakeProvider)
    assert provider.polls == 3
    assert slept == [POLL_S, 7, POLL_S]
    assert isinstance(provider.http, FakeHttp)
    assert provider.http.closed is True
    assert board.health()[NAME].state is ProviderState.OK


def test_stop_before_run_forever_polls_nothing_but_closes() -> None:
    runner, *_ = make([online])
    runner.stop()
    runner.run_forever()
    provider = runner.provider
    assert isinstance(provider, FakeProvider)
    assert provider.polls == 0
    assert isinstance(provider.http, FakeHttp)
    assert provider.http.closed is True
