"""Sign-in throttling that slows guessers without locking the real user out: user name
normalisation, the per (user, address) lockout, the per-address failure limit and the
per-user cool-downs, on the real `limits` counters in memory."""

from __future__ import annotations

import pytest
from helpers import wait_for

from presence_dash.auth.local_users import LocalUsers, normalise_username
from presence_dash.auth.login_guard import (
    MAX_COOL_DOWN_S,
    LoginGuard,
    LoginPolicy,
    cool_down_seconds,
)
from presence_dash.auth.passwords import hash_password
from presence_dash.auth.rate_limits import RateLimits
from presence_dash.config import AuthConfig, LocalUser

POLICY = LoginPolicy(
    per_address="10 per minute", lockout_after=5, lockout_seconds=900, slow_after=10
)


ADMIN_HASH = hash_password("pw")


def _guard() -> LoginGuard:
    return LoginGuard(RateLimits(), POLICY)


FULL_WIDTH_ADMIN = "\uff41\uff44\uff4d\uff49\uff4e"


@pytest.mark.parametrize("typed", ["admin", "ADMIN", " admin ", "\tAdmin\n", FULL_WIDTH_ADMIN])
def test_every_spelling_of_a_user_name_is_the_same_account(typed: str) -> None:
    assert normalise_username(typed) == "admin"
    users = LocalUsers([LocalUser(username="Admin", password_hash=ADMIN_HASH)])
    found = users.check(typed, "pw")
    assert found is not None and found.name == "Admin"


def test_normalised_names_are_capped() -> None:
    assert len(normalise_username("a" * 10_000)) == 64


def test_the_policy_keeps_the_config_keys_meaning() -> None:
    policy = LoginPolicy.from_config(
        AuthConfig(
            login_rate_limit="7 per minute", failed_logins_before_lockout=3, lockout_minutes=2
        )
    )
    assert policy == LoginPolicy("7 per minute", 3, 120, 6)


def test_wrong_guesses_lock_out_that_address_only() -> None:
    guard = _guard()
    for _ in range(5):
        assert guard.check("admin", "10.9.9.9") is None
        guard.failed("admin", "10.9.9.9")
    refused = guard.check("admin", "10.9.9.9")
    assert refused is not None and refused.reason == "lockout"
    assert 800 < refused.retry_after_s <= 901
    # The real admin at their own desk is not stopped, and not by another spelling either.
    assert guard.check("admin", "10.1.1.1") is None
    assert guard.check(normalise_username("ADMIN"), "10.1.1.1") is None


def test_a_success_clears_only_its_own_address() -> None:
    guard = _guard()
    for _ in range(4):
        guard.failed("abe", "10.1.1.1")
    guard.succeeded("abe", "10.1.1.1")
    for _ in range(4):
        guard.failed("abe", "10.1.1.1")
    assert guard.check("abe", "10.1.1.1") is None  # 4 since the success: not locked


def test_the_address_limit_counts_failures_of_every_user_name_and_nothing_else() -> None:
    guard = _guard()
    for _ in range(50):
        guard.succeeded("abe", "10.0.0.1")  # an office behind one NAT address
        assert guard.check("abe", "10.0.0.1") is None
    for i in range(10):
        guard.failed(f"user{i}", "10.0.0.1")
    refused = guard.check("someone-else", "10.0.0.1")
    assert refused is not None and refused.reason == "address"
    assert guard.check("someone-else", "10.0.0.2") is None


def test_guesses_from_many_addresses_slow_the_account_down_but_never_for_long() -> None:
    guard = _guard()
    for i in range(10):  # ten addresses, one guess each: below every per-address limit
        guard.failed("admin", f"10.8.0.{i}")
    assert guard.check("admin", "10.1.1.1") is None  # not slowed yet
    guard.failed("admin", "10.8.1.1")
    first = guard.check("admin", "10.1.1.1")
    assert first is not None and first.reason == "cool_down" and first.retry_after_s == 1
    for i in range(20):
        guard.failed("admin", f"10.8.2.{i}")
    longest = guard.check("admin", "10.1.1.1")
    assert longest is not None and longest.retry_after_s == MAX_COOL_DOWN_S
    assert guard.check("grace", "10.1.1.1") is None  # other accounts are not slowed


def test_cool_downs_double_from_one_second_up_to_the_cap() -> None:
    pauses = [cool_down_seconds(n, 10) for n in range(9, 18)]
    assert pauses == [0, 0, 1, 2, 4, 8, 16, MAX_COOL_DOWN_S, MAX_COOL_DOWN_S]
    assert cool_down_seconds(10_000, 10) == MAX_COOL_DOWN_S


def test_a_hold_refuses_until_it_runs_out_and_counts_are_per_key() -> None:
    limits = RateLimits()
    assert limits.held("k").allowed
    limits.hold(0.2, "k")
    assert not limits.held("k").allowed and limits.held("k").retry_after_s == 1
    assert limits.held("other").allowed
    wait_for(lambda: limits.held("k").allowed, 5, what="the hold to run out")
    limits.hit("100 per minute", "c")
    limits.hit("100 per minute", "c")
    assert limits.count("100 per minute", "c") == 2
    assert limits.count("100 per minute", "d") == 0
