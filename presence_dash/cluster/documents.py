"""The documents the leading worker keeps in Redis for web nodes: the latest `alerts` and
`visitors` bodies, which a web node serves over REST, in the pages' first paint and on
connect (it evaluates no thresholds and polls no Glance itself), and the latest heartbeat.

Each is written through the fenced script (board_feed.py) when it changes; one that could
not be written (Redis away), or that Redis lost (restarted empty), is written again by the
leader's once-a-second loop, so a web node is never left with an old one for long.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from presence_dash.cluster.keys import ClusterKeys
from presence_dash.cluster.redis_link import RedisLink

ALERTS = "alerts"
VISITORS = "visitors"
DOCUMENTS = frozenset({ALERTS, VISITORS})
# The leader's latest `heartbeat` ({seq, server_time}): each web node relays it to its own
# browsers from Redis rather than over pub/sub, whose listener can be deaf for up to a minute
# after a Redis outage (python-socketio's resubscribe backs off), the very time it matters.
HEARTBEAT = "heartbeat"


class StoredDocuments:
    """The leader's side. `write(name, text)` is the fenced write: True written, False
    refused (`on_fenced(reason)` then ends the term), None when Redis did not answer."""

    def __init__(
        self, write: Callable[[str, str], bool | None], on_fenced: Callable[[str], object]
    ) -> None:
        self._write = write
        self._on_fenced = on_fenced
        self._lock = threading.Lock()
        self._latest: dict[str, str] = {}
        self._unstored: set[str] = set()

    def keep(self, name: str, body: dict[str, Any], *, store_now: bool) -> bool:
        """Remember the latest body; write it now or with the next `store()`. False when the
        write was refused (this worker's term is over: send nothing more)."""
        text = json.dumps(body, separators=(",", ":"))
        with self._lock:
            if self._latest.get(name) == text and name not in self._unstored:
                return True
            self._latest[name] = text
            self._unstored.add(name)
        return self._store_one(name) if store_now else True

    def lost(self) -> None:
        """Redis lost its data: every document is written again."""
        with self._lock:
            self._unstored |= set(self._latest)

    def store(self) -> None:
        with self._lock:
            names = sorted(self._unstored)
        for name in names:
            if not self._store_one(name):
                return

    def _store_one(self, name: str) -> bool:
        with self._lock:
            text = self._latest[name]
        result = self._write(name, text)
        if result is False:
            self._on_fenced(f"the write of the {name} document was refused")
            return False
        if result is True:
            with self._lock:
                if self._latest.get(name) == text:
                    self._unstored.discard(name)
        return True


def read_document(link: RedisLink, keys: ClusterKeys, name: str) -> dict[str, Any] | None:
    """A stored document, or None before any leader stored one. Raises RedisDown."""
    key = keys.document(name)
    text = link.call(f"read the {name} document", lambda: link.client.get(key))
    return json.loads(text) if text else None
