"""Log each distinct problem once: a vendor or a client repeating the same bad input every
few seconds must not flood the log, and must not grow memory either (problems can carry
client addresses or headers), so at most `limit` are remembered before starting over."""

from __future__ import annotations

import logging


class WarnOnce:
    def __init__(self, logger: logging.Logger, prefix: str, limit: int = 100) -> None:
        self.logger = logger
        self.prefix = prefix
        self.limit = limit
        self._seen: set[str] = set()

    def __call__(self, problem: str, key: str | None = None) -> None:
        """Warn about `problem` unless it (or `key`, when given) was warned about already."""
        seen = key if key is not None else problem
        if seen in self._seen:
            return
        if len(self._seen) >= self.limit:
            self._seen.clear()
        self._seen.add(seen)
        self.logger.warning("%s%s", self.prefix, problem)
