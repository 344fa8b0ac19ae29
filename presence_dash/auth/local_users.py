"""`[auth] mode = "local"`: users and password hashes from the config or a users file."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from presence_dash.auth.identity import Identity
from presence_dash.auth.passwords import verify_password
from presence_dash.auth.roles import Role
from presence_dash.config import LocalUser

MAX_USERNAME_CHARS = 64


def normalise_username(raw: str) -> str:
    """The one spelling of a user name that lookups, lockouts and the audit log use:
    `ADMIN`, ` admin ` and the full-width form of `admin` are all `admin` (otherwise each spelling
    would be a separate lockout counter for the same account)."""
    text = unicodedata.normalize("NFKC", raw[: MAX_USERNAME_CHARS * 4])
    return text.strip().casefold()[:MAX_USERNAME_CHARS]


class LocalUsers:
    def __init__(self, users: Iterable[LocalUser]) -> None:
        self._users = {normalise_username(u.username): u for u in users}

    def identity(self, username: str) -> Identity | None:
        """The user as the config says now (a removed user or a changed role takes effect
        on their next request)."""
        user = self._users.get(normalise_username(username))
        return Identity(user.username, Role.parse(user.role), "local") if user else None

    def check(self, username: str, password: str) -> Identity | None:
        user = self._users.get(normalise_username(username))
        if not verify_password(user.password_hash if user else None, password):
            return None
        return self.identity(username)
