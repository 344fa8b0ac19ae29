"""What the leading worker writes to Redis: every `presence` batch in a change log keyed by
seq, the last seq, each published person's state (statuses and `since`, so a standby that
takes over restores them and nothing flaps), the snapshot at most once a second and the
providers' health. Every write is one Lua script that first checks the writer's fencing
token (leader.py) and that its seq moves on, so a deposed leader's writes are refused and no
seq is stored twice.

`FencedEmitter` stands in for the SocketIO object the push hub emits through: a batch goes
to browsers (through the Redis message queue) only after its fenced write succeeded.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any

from presence_dash.cluster.documents import ALERTS, DOCUMENTS, HEARTBEAT, StoredDocuments
from presence_dash.cluster.feed_log import continue_seq
from presence_dash.cluster.keys import ClusterKeys
from presence_dash.cluster.metrics import ClusterMetrics
from presence_dash.cluster.redis_link import RedisDown, RedisLink
from presence_dash.core.board import PresenceBoard, SavedBoard, SavedPerson
from presence_dash.core.model import Status
from presence_dash.core.timefmt import iso_z, parse_iso_z
from presence_dash.storage.board_state import saved_sources, sources_text

log = logging.getLogger(__name__)


class Written(Enum):
    OK = "ok"
    FENCED = "fenced"  # our term is over (or a newer seq was published): stop at once
    FAILED = "failed"  # Redis did not answer; the caller keeps going and retries


def saved_person_json(person: SavedPerson) -> str:
    return json.dumps(
        {
            "status": person.status.value,
            "since": iso_z(person.since),
            "since_exact": person.since_exact,
            "saved_at": iso_z(person.saved_at),
            "sources": sources_text(person),
        }
    )


def saved_person_from_json(text: str | bytes) -> SavedPerson:
    data = json.loads(text)
    return SavedPerson(
        Status(data["status"]),
        parse_iso_z(data["since"]),
        bool(data["since_exact"]),
        parse_iso_z(data["saved_at"]),
        saved_sources(data["sources"]),
    )


# KEYS: lock, seq, log, state, last_success, snapshot_seq
# ARGV: token, seq, entry, log_size, people count, (id, state)*, success count, (name, at)*
_PUBLISH = """
local holder = redis.call('GET', KEYS[1])
if not holder then return 4 end  -- Redis lost its data: the renewal re-claims the lock
if holder ~= ARGV[1] then return 0 end
local seq = tonumber(ARGV[2])
if seq <= tonumber(redis.call('GET', KEYS[2]) or '0') then return -1 end
redis.call('ZADD', KEYS[3], seq, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', seq - tonumber(ARGV[4]))
redis.call('SET', KEYS[2], seq)
local i = 6
for _ = 1, tonumber(ARGV[5]) do
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1])
  i = i + 2
end
local successes = tonumber(ARGV[i])
i = i + 1
for _ = 1, successes do
  redis.call('HSET', KEYS[5], ARGV[i], ARGV[i + 1])
  i = i + 2
end
if redis.call('EXISTS', KEYS[6]) == 0 then return 2 end
return 1
"""

# A snapshot never claims a seq that was not published (a standby would publish that seq
# again with other changes). KEYS: lock, seq, snapshot, snapshot_seq; ARGV: token, seq, body
_SNAPSHOT = """
local holder = redis.call('GET', KEYS[1])
if not holder then return 4 end  -- Redis lost its data: the renewal re-claims the lock
if holder ~= ARGV[1] then return 0 end
local seq = tonumber(ARGV[2])
local published = tonumber(redis.call('GET', KEYS[2]) or '0')
if seq > published then
  if published > 0 then return 3 end  -- its batch is not written yet: next time
  redis.call('SET', KEYS[2], seq)  -- Redis lost its data: the stream goes on from ours
end
redis.call('SET', KEYS[3], ARGV[3])
redis.call('SET', KEYS[4], seq)
return 1
"""

# One body under one key (provider health, the alerts and visitors documents).
# KEYS: lock, key; ARGV: token, body
_STORE = """
local holder = redis.call('GET', KEYS[1])
if not holder then return 4 end  -- Redis lost its data: the renewal re-claims the lock
if holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1
"""


_NO_LOCK = 4  # what the scripts answer while the lock is missing (not refused: retried)


class BoardFeed:
    def __init__(
        self, link: RedisLink, keys: ClusterKeys, metrics: ClusterMetrics, log_size: int
    ) -> None:
        self.link = link
        self.keys = keys
        self.metrics = metrics
        self.log_size = log_size
        client = link.client
        self._publish = client.register_script(_PUBLISH)
        self._snapshot = client.register_script(_SNAPSHOT)
        self._store = client.register_script(_STORE)

    def load(self) -> tuple[int | None, SavedBoard]:
        """(last seq published, the published state) for a leader taking over."""

        def read() -> tuple[Any, Any, Any]:
            pipe = self.link.client.pipeline(transaction=True)
            pipe.get(self.keys.seq).hgetall(self.keys.state).hgetall(self.keys.last_success)
            return tuple(pipe.execute())  # type: ignore[return-value]

        seq, state, successes = self.link.call("load the published board", read)
        people: dict[str, SavedPerson] = {}
        for pid, text in state.items():
            try:
                people[pid.decode()] = saved_person_from_json(text)
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("feed: ignoring the saved state of %r (%s)", pid, exc)
        last = {n.decode(): parse_iso_z(t.decode()) for n, t in successes.items()}
        return (int(seq) if seq is not None else None), SavedBoard(people, last)

    def publish(self, token: str, batch: dict[str, Any], saved: SavedBoard) -> Written | bool:
        """Write one batch (the `presence` payload) and its people's state. Returns OK,
        FENCED or FAILED; OK comes back as `True` when the snapshot is missing (Redis lost
        its data): the caller writes one at once."""
        args: list[Any] = [token, batch["seq"], json.dumps(batch), self.log_size]
        args.append(len(saved.people))
        for pid, person in saved.people.items():
            args += [pid, saved_person_json(person)]
        args.append(len(saved.last_success))
        for name, at in saved.last_success.items():
            args += [name, iso_z(at)]
        keys = [self.keys.lock, self.keys.seq, self.keys.log, self.keys.state]
        keys += [self.keys.last_success, self.keys.snapshot_seq]
        result = self._run("publish a batch", lambda: self._publish(keys=keys, args=args))
        if isinstance(result, Written):
            return result
        return True if result == 2 else Written.OK

    def write_snapshot(self, token: str, seq: int, body: str) -> Written:
        keys = [self.keys.lock, self.keys.seq, self.keys.snapshot, self.keys.snapshot_seq]
        result = self._run(
            "store the snapshot", lambda: self._snapshot(keys=keys, args=[token, seq, body])
        )
        if isinstance(result, Written):
            return result
        return Written.OK if result == 1 else Written.FAILED

    def write_providers(self, token: str, body: dict[str, Any]) -> Written:
        return self._write(token, self.keys.providers, json.dumps(body), "store provider health")

    def write_document(self, token: str, name: str, text: str) -> Written:
        """The latest `alerts` or `visitors` body (documents.py), fenced like a batch."""
        return self._write(token, self.keys.document(name), text, f"store the {name} document")

    def _write(self, token: str, key: str, text: str, what: str) -> Written:
        keys = [self.keys.lock, key]
        result = self._run(what, lambda: self._store(keys=keys, args=[token, text]))
        return result if isinstance(result, Written) else Written.OK

    def _run(self, what: str, call: Callable[[], Any]) -> Written | int:
        try:
            result = int(self.link.call(what, call))
        except RedisDown:
            return Written.FAILED
        if result <= 0:
            self.metrics.fenced.inc()
            return Written.FENCED
        return Written.FAILED if result == _NO_LOCK else result


class PublishedSeq:
    """The highest seq this worker process published, kept across its terms: when Redis
    lost its data (restarted without persistence) the next term still numbers on from it."""

    def __init__(self) -> None:
        self.value = 0


class FencedEmitter:
    """The SocketIO object the worker's push hub is given. `presence` batches and the
    provider health are written to Redis first (fenced); what was refused is not emitted.
    Everything else is the wrapped SocketIO's (sleep, background tasks, other events)."""

    def __init__(
        self,
        socketio: Any,
        feed: BoardFeed,
        board: PresenceBoard,
        clock: Callable[[], datetime],
        on_fenced: Callable[[str], object],
        published: PublishedSeq | None = None,
    ) -> None:
        self._socketio = socketio
        self.published = published or PublishedSeq()
        self.feed = feed
        self.board = board
        self.clock = clock
        self.on_fenced = on_fenced
        self.token: str | None = None  # set when the term begins
        self.snapshot_wanted = True
        self._unsaved: set[str] = set()  # people of batches whose write failed
        # The last seq a web node can serve (a heartbeat never names a later one).
        self.confirmed_seq = 0
        # The newest batch whose write failed, sent again by the snapshot loop unless a later
        # one got through: on a quiet floor nothing else would carry its changes.
        self._retry: dict[str, Any] | None = None
        # One write of a batch at a time (the hub and the snapshot loop): seqs must reach
        # Redis in order, or the older one is refused as if our term were over.
        self._publish_lock = threading.Lock()
        self.documents = StoredDocuments(self._write_document, on_fenced)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._socketio, name)

    def continue_from_redis(self) -> SavedBoard:
        """What the last leader published: the board numbers on from its seq, and the
        caller restores the returned state. Call before the term's hub starts."""
        published, saved = self.feed.load()
        seq = continue_seq(max(published or 0, self.published.value), self.board.seq)
        self.board.continue_from(seq)
        self.confirmed_seq = seq
        log.info("feed: continuing from seq %d, %d people saved in Redis", seq, len(saved.people))
        return saved

    def emit(self, event: str, data: Any = None, **kwargs: Any) -> None:
        if self.token is None:
            return  # not leading (yet, or any more)
        if event == "presence":
            if not self._published(data):
                return
        elif event == HEARTBEAT:
            # The board's seq may be ahead of Redis (a write failed): a web node could not
            # answer a resync to it, so the heartbeat names what browsers can catch up to.
            # Web nodes relay it from Redis (web_feed.py), not from pub/sub.
            self.documents.keep(HEARTBEAT, {**data, "seq": self.confirmed_seq}, store_now=True)
            return
        elif event in DOCUMENTS:
            if not self.documents.keep(event, data, store_now=True):
                return
        elif event == "providers" and "to" in kwargs:
            from presence_dash.push.hub import DETAILS_ROOM  # the detailed body is the one stored

            stored = kwargs["to"] == DETAILS_ROOM
            if stored and self.feed.write_providers(self.token, data) is Written.FENCED:
                self.on_fenced("a provider health write was refused")
                return
        self._socketio.emit(event, data, **kwargs)

    def retry_failed(self) -> None:
        """Send the batch a failed write left behind, if no later one got through (the term's
        snapshot loop calls this before storing the snapshot)."""
        with self._publish_lock:
            batch = self._retry
            if batch is None or self.token is None or not self._published_locked(batch):
                return
        log.info("feed: batch %d published on a retry", batch["seq"])
        self._socketio.emit("presence", batch)

    def _published(self, batch: dict[str, Any]) -> bool:
        with self._publish_lock:
            return self._published_locked(batch)

    def _published_locked(self, batch: dict[str, Any]) -> bool:
        assert self.token is not None
        ids = {person["id"] for person in batch["changes"]} | self._unsaved
        saved = self.board.saved(self.clock(), ids)
        result = self.feed.publish(self.token, batch, saved)
        if result is Written.FENCED:
            self.on_fenced(f"the write of batch {batch['seq']} was refused")
            return False
        if result is Written.FAILED:
            # Not sent now: `retry_failed` sends it when Redis is back, unless the next
            # batch got there first (browsers then see a gap and resync, and the log has
            # none to give, so they get a snapshot). These people's state goes with either.
            self._unsaved = ids
            self._retry = batch
            return False
        self._unsaved = set()
        self._retry = None
        self.published.value = max(self.published.value, batch["seq"])
        self.confirmed_seq = max(self.confirmed_seq, batch["seq"])
        if result is True:  # Redis lost its data: the documents went with it
            self.snapshot_wanted = True
            self.documents.lost()
        return True

    def keep_alerts(self, body: dict[str, Any]) -> None:
        """Every evaluation (alert_push.py), also those not sent as an event: stored with
        the next `store_documents`; a changed one is sent, and stored at once, by `emit`."""
        if self.token is not None:
            self.documents.keep(ALERTS, body, store_now=False)

    def store_documents(self) -> None:
        """Write the documents a failed write (or Redis losing its data) left behind (the
        term's snapshot loop calls this once a second)."""
        if self.token is not None:
            self.documents.store()

    def _write_document(self, name: str, text: str) -> bool | None:
        if self.token is None:
            return None
        result = self.feed.write_document(self.token, name, text)
        return None if result is Written.FAILED else result is Written.OK

    def write_snapshot(self, body: str, seq: int) -> None:
        """Store the snapshot (the term's snapshot loop calls this once a second)."""
        if self.token is None:
            return
        result = self.feed.write_snapshot(self.token, seq, body)
        if result is Written.FENCED:
            self.on_fenced("the snapshot write was refused")
        elif result is Written.OK:
            self.snapshot_wanted = False
            self.confirmed_seq = max(self.confirmed_seq, seq)  # a resync gets this snapshot
