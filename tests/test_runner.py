"""ProviderRunner: loop, backoff with jitter, Retry-After, health on a real board, logging."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from presence_dash.board import PresenceBoard
from presence_dash.model import Observation, Person, ProviderState, Status
from presence_dash.providers.base import AuthFailed, PollingProvider, UpdateFailed
from presence_dash.runner import MAX_BACKOFF_S, ProviderRunner, backoff_delay, stale_after

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
NAME = "fake"
POLL_S = 5.0
LOGGER = "presence_dash.runner"

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

    def __init__(self, clock: FakeClock, steps: list[Step | BaseException]) -> None:
        super().__init__([ADA], FakeHttp(), clock)  # type: ignore[arg-type]
        self.steps = steps
        self.polls = 0

    @property
    def poll_seconds(self) -> float:
        return POLL_S

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
    steps: list[Step | BaseException], rng: random.Random | None = None
) -> tuple[ProviderRunner, PresenceBoard, FakeClock, list[float]]:
    clock = FakeClock()
    provider = FakeProvider(clock, steps)
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


@pytest.mark.parametrize("seed", [0, 1, 7, 42, 1234])
def test_backoff_delay_is_exponential_within_jitter_window_and_capped(seed: int) -> None:
    rng = random.Random(seed)
    for failures in range(1, 25):
        base = min(MAX_BACKOFF_S, POLL_S * 2 ** (failures - 1))
        delay = backoff_delay(POLL_S, failures, rng)
        assert 0.5 * base <= delay <= 1.5 * base, (failures, delay)
        assert delay <= MAX_BACKOFF_S


def test_backoff_cap_is_300_seconds() -> None:
    assert MAX_BACKOFF_S == 300
    rng = random.Random(3)
    delays = [backoff_delay(POLL_S, 30, rng) for _ in range(200)]
    assert max(delays) <= 300
    assert min(delays) >= 150
    assert len(set(delays)) > 1  # jitter survives at the cap


def test_backoff_with_huge_failure_count_does_not_overflow() -> None:
    assert backoff_delay(POLL_S, 10_000, MidRandom()) == MAX_BACKOFF_S


def test_backoff_without_jitter_doubles_per_failure() -> None:
    mid = MidRandom()
    assert [backoff_delay(POLL_S, f, mid) for f in range(1, 9)] == [
        5,
        10,
        20,
        40,
        80,
        160,
        300,
        300,
    ]


def test_jitter_uses_the_injected_rng_deterministically() -> None:
    a = [backoff_delay(POLL_S, f, random.Random(9)) for f in range(1, 6)]
    b = [backoff_delay(POLL_S, f, random.Random(9)) for f in range(1, 6)]
    assert a == b


def test_runner_backs_off_exponentially_and_resets_after_success() -> None:
    runner, _, _, _ = make(
        [UpdateFailed("down"), UpdateFailed("down"), UpdateFailed("down"), online],
        rng=MidRandom(),
    )
    assert [runner.poll_once() for _ in range(3)] == [5, 10, 20]
    assert runner.failures == 3
    assert runner.poll_once() == POLL_S
    assert runner.failures == 0


def test_runner_delays_stay_in_jitter_window() -> None:
    runner, *_ = make([UpdateFailed("down")], rng=random.Random(5))
    for failures in range(1, 12):
        base = min(MAX_BACKOFF_S, POLL_S * 2 ** (failures - 1))
        delay = runner.poll_once()
        assert 0.5 * base <= delay <= min(MAX_BACKOFF_S, 1.5 * base)


def test_retry_after_is_honoured() -> None:
    runner, board, _, _ = make(
        [UpdateFailed("HTTP 429", retry_after=120), UpdateFailed("HTTP 503")],
        rng=random.Random(2),
    )
    assert runner.poll_once() >= 120
    assert board.health()[NAME].error == "HTTP 429"
    # Retry-After applied only to the failure that carried it.
    assert runner.poll_once() <= 15


def test_retry_after_shorter_than_backoff_does_not_shorten_it() -> None:
    runner, *_ = make([UpdateFailed("HTTP 429", retry_after=0.1)], rng=MidRandom())
    runner.poll_once()
    runner.poll_once()
    assert runner.poll_once() == 20


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
