"""The visitor board: who is on the company web site right now, per Glance group.

Pure state and logic, like board.py: callers pass the time in; nothing here does I/O. The
visitor source (visitors/source.py) `replace_group`s each group after a `/query`; the push
loop `publish`es a numbered snapshot when anything a user can see changed. A `visitors` event
carries the whole list (it is short), so a client that missed one is whole again with the next.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Visitor:
    """One visitor present in one Glance group. `metadata` holds the fields Glance returned
    that we do not interpret (the vendor leaves them open), shown as they are."""

    group_id: int
    visitor_id: str
    since: datetime | None
    metadata: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def key(self) -> tuple[int, str]:
        return (self.group_id, self.visitor_id)


@dataclass(frozen=True)
class VisitorsBatch:
    seq: int
    visitors: list[Visitor]


class VisitorBoard:
    """Thread-safe; every method is short and never blocks on I/O."""

    def __init__(
        self, group_ids: Iterable[int], *, on_dirty: Callable[[], None] = lambda: None
    ) -> None:
        self._lock = threading.Lock()
        self._groups = list(dict.fromkeys(group_ids))
        self._visitors: dict[tuple[int, str], Visitor] = {}
        self._seq = 0
        self._dirty = False
        self.on_dirty = on_dirty

    @property
    def group_ids(self) -> list[int]:
        return list(self._groups)

    @property
    def seq(self) -> int:
        return self._seq

    def continue_from(self, seq: int) -> None:
        """Number on from `seq` (what the last leading worker published), so browsers, which
        ignore a list older than theirs, take this worker's lists after a takeover."""
        with self._lock:
            self._seq = max(self._seq, seq)

    def replace_group(self, group_id: int, visitors: Iterable[Visitor], now: datetime) -> bool:
        """The full list of `group_id`'s visitors (a `/query`); True if anything changed.
        A visitor seen before keeps its `since` when Glance does not say when they came."""
        with self._lock:
            fresh: dict[tuple[int, str], Visitor] = {}
            for visitor in visitors:
                if visitor.group_id != group_id:
                    continue
                old = self._visitors.get(visitor.key)
                since = visitor.since or (old.since if old else now)
                fresh[visitor.key] = Visitor(group_id, visitor.visitor_id, since, visitor.metadata)
            current = {k: v for k, v in self._visitors.items() if k[0] == group_id}
            if current == fresh:
                return False
            for key in current:
                del self._visitors[key]
            self._visitors.update(fresh)
            self._mark_dirty()
            return True

    def remove(self, group_id: int, visitor_id: str) -> bool:
        """Forget a visitor Glance says has left (a signal found them gone)."""
        with self._lock:
            if self._visitors.pop((group_id, visitor_id), None) is None:
                return False
            self._mark_dirty()
            return True

    def publish(self) -> VisitorsBatch | None:
        """The whole list as a new numbered batch, or None when nothing changed."""
        with self._lock:
            if not self._dirty:
                return None
            self._dirty = False
            self._seq += 1
            return VisitorsBatch(self._seq, self._sorted())

    def snapshot(self) -> VisitorsBatch:
        with self._lock:
            return VisitorsBatch(self._seq, self._sorted())

    def groups_of(self, visitor_id: str) -> list[int]:
        """The groups in which `visitor_id` is present (a visitor id is unique per group)."""
        with self._lock:
            return [g for g, v in self._visitors if v == visitor_id]

    def counts(self) -> dict[int, int]:
        """Visitors per configured group (zero included, so a wall can show 0)."""
        with self._lock:
            counts = dict.fromkeys(self._groups, 0)
            for group_id, _ in self._visitors:
                counts[group_id] = counts.get(group_id, 0) + 1
            return counts

    def _sorted(self) -> list[Visitor]:
        # Longest-present first within a group: the visitor who has waited longest is the
        # one an agent most likely wants to help.
        def order(v: Visitor) -> tuple[int, float, str]:
            return (v.group_id, v.since.timestamp() if v.since else 0.0, v.visitor_id)

        return sorted(self._visitors.values(), key=order)

    def _mark_dirty(self) -> None:
        self._dirty = True
        self.on_dirty()
