"""Password hashes (werkzeug's scrypt): made by `presence-dash hash-password`, checked at
sign-in. An unknown user costs the same hash check as a known one, so response time does
not tell which user names exist."""

from __future__ import annotations

from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

MAX_PASSWORD_CHARS = 1024  # scrypt over a megabyte of "password" is a denial of service


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


@cache
def _dummy_hash() -> str:
    return hash_password("not a real password")


def verify_password(stored_hash: str | None, password: str) -> bool:
    if len(password) > MAX_PASSWORD_CHARS:
        return False
    if stored_hash is None:
        check_password_hash(_dummy_hash(), password)
        return False
    try:
        return check_password_hash(stored_hash, password)
    except ValueError:  # a malformed hash in the config: never a match
        return False
