"""What the server needs at start, checked so that a user reads one line instead of a
driver's traceback (CLI contract: one readable line for anything a user can get wrong): the
database answering, and Redis answering when `[server] message_queue` names it. The
caller prints the line and exits 1."""

from __future__ import annotations

import importlib
import importlib.util
from urllib.parse import urlsplit

import sqlalchemy as sa

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def database_unreachable(exc: BaseException, database: str) -> str | None:
    """The line for `exc` if it says the database does not answer; None for anything else
    (a bug: it keeps its traceback)."""
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return f"database {safe_url(database)} is unreachable: {_first_line(exc.orig or exc)}"
    return None


def message_queue_problem(message_queue: str, timeout_s: float = 3.0) -> str | None:
    """None when there is no message queue or its Redis answers a PING; else the line.
    Checked before start because python-socketio and the rate limits connect lazily: an
    unreachable Redis would otherwise start the server and log errors forever."""
    if not message_queue.startswith(REDIS_SCHEMES):
        return None
    where = f"message_queue {safe_url(message_queue)}"
    if importlib.util.find_spec("redis") is None:
        return f"{where} needs the redis package (pip install redis)"
    redis = importlib.import_module("redis")
    try:
        client = redis.Redis.from_url(
            message_queue, socket_connect_timeout=timeout_s, socket_timeout=timeout_s
        )
        client.ping()
        client.close()
    except redis.exceptions.RedisError as exc:
        return f"{where} is unreachable: {_first_line(exc)}"
    except OSError as exc:
        return f"{where} is unreachable: {exc.strerror or exc}"
    return None


def safe_url(url: str) -> str:
    """The URL without its password (one can sit in a database or Redis URL)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
