"""How often a password may be tried, without handing attackers a way to lock the real
user out.

Three counters, all of failures only (a successful sign-in never counts, so an office
behind one NAT address can sign in all morning):
- per client address, any user name: `login_rate_limit` (default 10 per minute);
- per (user name, address): `failed_logins_before_lockout` failures lock that address out
  of that account for `lockout_minutes`; other addresses, the real user's among them, are
  not affected;
- per user name over every address: once failures in `lockout_minutes` pass twice the
  lockout count (an attacker spread over many addresses), each further failure starts a
  short cool-down for that account that doubles, 1 s up to MAX_COOL_DOWN_S, during which
  attempts are answered 429 with Retry-After. It slows guessing to a crawl; it never
  locks the account for long.
User names are normalised first (`local_users.normalise_username`).
"""

from __future__ import annotations

from dataclasses import dataclass

from presence_dash.auth.rate_limits import RateLimits, Verdict
from presence_dash.config import AuthConfig

MAX_COOL_DOWN_S = 30
# The per-user failure count is a moving window with no real ceiling: it only counts.
_UNCAPPED = 1_000_000


@dataclass(frozen=True)
class LoginPolicy:
    per_address: str  # failures from one address, any user name ("10 per minute")
    lockout_after: int  # failures for one user from one address...
    lockout_seconds: int  # ...lock that pair out for this long
    slow_after: int  # failures for one user from anywhere before the cool-downs start

    @classmethod
    def from_config(cls, config: AuthConfig) -> LoginPolicy:
        return cls(
            per_address=config.login_rate_limit,
            lockout_after=config.failed_logins_before_lockout,
            lockout_seconds=max(1, round(config.lockout_minutes * 60)),
            slow_after=2 * config.failed_logins_before_lockout,
        )

    @property
    def lockout(self) -> str:
        return f"{self.lockout_after} per {self.lockout_seconds} seconds"

    @property
    def user_window(self) -> str:
        return f"{_UNCAPPED} per {self.lockout_seconds} seconds"


def cool_down_seconds(failures: int, slow_after: int) -> int:
    """The pause after the `failures`-th failure for one user: none up to `slow_after`,
    then 1, 2, 4, ... seconds, never more than MAX_COOL_DOWN_S."""
    excess = failures - slow_after
    if excess <= 0:
        return 0
    return min(2 ** min(excess - 1, 16), MAX_COOL_DOWN_S)


@dataclass(frozen=True)
class Refusal:
    reason: str  # "address" | "lockout" | "cool_down"
    retry_after_s: int


class LoginGuard:
    def __init__(self, limits: RateLimits, policy: LoginPolicy) -> None:
        self.limits = limits
        self.policy = policy

    def check(self, user: str, addr: str) -> Refusal | None:
        """Before the password is looked at: may this address try this (normalised) user
        name now? Refused attempts are not failures and do not count."""
        p = self.policy
        checks: list[tuple[str, Verdict]] = [
            ("address", self.limits.exhausted(p.per_address, "login-address-failures", addr)),
            ("lockout", self.limits.exhausted(p.lockout, "login-lockout", user, addr)),
            ("cool_down", self.limits.held("login-cool-down", user)),
        ]
        for reason, verdict in checks:
            if not verdict.allowed:
                return Refusal(reason, verdict.retry_after_s)
        return None

    def failed(self, user: str, addr: str) -> None:
        p = self.policy
        self.limits.hit(p.per_address, "login-address-failures", addr)
        self.limits.hit(p.lockout, "login-lockout", user, addr)
        self.limits.hit(p.user_window, "login-user-failures", user)
        pause = cool_down_seconds(
            self.limits.count(p.user_window, "login-user-failures", user), p.slow_after
        )
        if pause:
            self.limits.hold(pause, "login-cool-down", user)

    def succeeded(self, user: str, addr: str) -> None:
        """The right password from this address: its own lockout count starts over. The
        per-user count stays, so an attacker elsewhere is not reset by the real user."""
        self.limits.clear(self.policy.lockout, "login-lockout", user, addr)
