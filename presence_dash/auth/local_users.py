"""`[auth] mode = "local"`: users and password hashes from the config or a users file."""

from __future__ import annotations

from collections.abc import Iterable

from ..config import LocalUser
from .identity import Identity
from .passwords import verify_password
from .roles import Role


class LocalUsers:
    def __init__(self, users: Iterable[LocalUser]) -> None:
        self._users = {u.username.casefold(): u for u in users}

    def identity(self, username: str) -> Identity | None:
        """The user as the config says now (a removed user or a changed role takes effect
        on their next request)."""
        user = self._users.get(username.casefold())
        return Identity(user.username, Role.parse(user.role), "local") if user else None

    def check(self, username: str, password: str) -> Identity | None:
        user = self._users.get(username.casefold())
        if not verify_password(user.password_hash if user else None, password):
            return None
        return self.identity(username)
