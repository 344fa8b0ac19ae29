"""The snapshot, encoded once per board version and shared by every client that asks.

A reconnect wave (a server restart, a network blip) brings hundreds of browsers that each
need the whole board: 1.2 MB of JSON at 5,000 people. Handed to python-socketio as a dict,
every connect cost ~100 ms of CPU without a yield (it walks the payload looking for binary
parts, then JSON-encodes it again), so pings starved and clients dropped (issue 13). Here:
- each person's JSON text is kept until that person changes (`board.people_delta` says
  who); only their sources' `observed_at`, which moves on every poll, is filled in again;
- the body text is one join of those texts per board version (and at most once a second
  for `server_time`, which clients use to set their clock);
- the Socket.IO EVENT packet `2["snapshot",{...}]` is wrapped once in an Engine.IO MESSAGE
  packet, already encoded, which every client is sent as the same object: queued clients
  share one string instead of holding a copy each.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from engineio import packet as eio_packet

from presence_dash.core.board import PresenceBoard
from presence_dash.core.clock import Clock
from presence_dash.core.timefmt import iso_z
from presence_dash.push.wire import (
    join_person,
    person_parts,
    providers_json,
    to_json,
    without_error_details,
)

# How old the cached `server_time` may be while nothing else changed. Clients set their
# clock offset from it; a second is within what they already tolerate (the wall's
# "data as of" is shown to the second).
SERVER_TIME_MAX_AGE_S = 1.0
_STAMPS_KEPT = 4096  # observed_at texts memoised (a poll shares one time for everyone)


@dataclass(frozen=True)
class _Encoded:
    key: tuple[int, int, str]  # (people mark, seq, providers text)
    at: float  # clock seconds when server_time was taken
    body: str
    packet: eio_packet.Packet | None  # built on first ask: HTTP only needs the body


class SnapshotCache:
    """Thread-safe. `body(details)` for HTTP, `packet(details)` for Socket.IO clients."""

    def __init__(
        self, board: PresenceBoard, clock: Clock, on_encode: Callable[[], object] = lambda: None
    ) -> None:
        self.board = board
        self.clock = clock
        self.on_encode = on_encode  # counts encodes (metrics; the once-per-version test)
        self._lock = threading.Lock()
        self._order = [p.id for p in board.people()]
        self._versions: dict[str, int] = {}
        self._parts: dict[str, list[str]] = {}
        self._texts: dict[str, str] = {}
        self._stamps: dict[datetime, str] = {}
        self._mark = -1
        self._seq = 0
        self._people = ""
        self._providers: dict[bool, str] = {True: "{}", False: "{}"}
        self._encoded: dict[bool, _Encoded] = {}

    def body(self, details: bool = True) -> str:
        """The snapshot body (`GET /api/presence`) as JSON text. `details=False`: provider
        errors left out (non-admins)."""
        return self._current(details).body

    def packet(self, details: bool = True) -> eio_packet.Packet:
        """The `snapshot` event as an encoded Engine.IO packet, for
        `socketio.server.eio.send_packet` (the same object for every client)."""
        with self._lock:
            encoded = self._current_locked(details)
            if encoded.packet is None:
                pkt = eio_packet.Packet(eio_packet.MESSAGE, data=f'2["snapshot",{encoded.body}]')
                pkt.encode()  # now, once: writers reuse the encoded text
                encoded = _Encoded(encoded.key, encoded.at, encoded.body, pkt)
                self._encoded[details] = encoded
            return encoded.packet

    def _current(self, details: bool) -> _Encoded:
        with self._lock:
            return self._current_locked(details)

    def _current_locked(self, details: bool) -> _Encoded:
        self._refresh_people()
        key = (self._mark, self._seq, self._providers[details])
        now = self.clock().timestamp()
        cached = self._encoded.get(details)
        if cached is not None and cached.key == key and now - cached.at < SERVER_TIME_MAX_AGE_S:
            return cached
        body = (
            f'{{"seq":{self._seq},"server_time":{to_json(iso_z(self.clock()))},'
            f'"people":[{self._people}],"providers":{self._providers[details]}}}'
        )
        self.on_encode()
        cached = _Encoded(key, now, body, None)
        self._encoded[details] = cached
        return cached

    def _refresh_people(self) -> None:
        """Bring the people text up to date with the board: render who changed, fill in new
        observation times for who was only seen again, and join once if anything moved."""
        delta = self.board.people_delta(self._mark, self._versions)
        providers = providers_json(delta.providers)
        self._providers = {
            True: to_json(providers),
            False: to_json(without_error_details(providers)),
        }
        self._seq = delta.seq
        if delta.mark == self._mark:
            return
        for version, view in delta.changed:
            parts = person_parts(view)
            self._versions[view.id] = version
            self._parts[view.id] = parts
            observed = [self._stamp(s.observed_at) for s in view.sources.values()]
            self._texts[view.id] = join_person(parts, observed)
        for pid, times in delta.observed.items():
            self._texts[pid] = join_person(self._parts[pid], [self._stamp(t) for t in times])
        self._people = ",".join(self._texts[pid] for pid in self._order)
        self._mark = delta.mark

    def _stamp(self, moment: datetime) -> str:
        text = self._stamps.get(moment)
        if text is None:
            if len(self._stamps) >= _STAMPS_KEPT:
                self._stamps.clear()
            text = self._stamps[moment] = to_json(iso_z(moment))
        return text
