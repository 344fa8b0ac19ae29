"""The push hub's snapshot body, built on a real board and a real (unstarted) SocketIO."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_socketio import SocketIO

from presence_dash.core.board import PresenceBoard
from presence_dash.core.model import Observation, Person, Status
from presence_dash.core.timefmt import utc_now
from presence_dash.metrics import Metrics
from presence_dash.push.hub import PushHub


def test_snapshot_seq_follows_a_publish_of_already_cached_changes() -> None:
    now = utc_now()
    board = PresenceBoard([Person("ada", "Ada", "Desk")], {"servicenow": timedelta(60)}, now)
    socketio = SocketIO(Flask(__name__), async_mode="threading")
    hub = PushHub(socketio, board, utc_now, 0.05, Metrics.create())

    board.apply("servicenow", [Observation("ada", "servicenow", Status.ONLINE, now)], now)
    cached = hub.snapshot_payload()  # built between the change and its batch
    assert cached["seq"] == 0 and cached["people"][0]["status"] == "online"

    batch = board.publish()
    assert batch is not None and batch.seq == 1
    # A client given seq 0 would see batch 2 next as a gap; /api/presence would lag.
    assert hub.snapshot_payload()["seq"] == 1


class _Sent:
    """The hub's emit target: what it sent, in order (the real fan-out is tested end to end
    in tests/cluster/ and tests/browser/test_heartbeat.py)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def emit(self, event: str, data: object = None, **kwargs: object) -> None:
        self.events.append((event, data))


def test_a_quiet_hub_sends_a_heartbeat_with_the_current_seq_and_a_busy_one_does_not() -> None:
    now = utc_now()
    board = PresenceBoard([Person("ada", "Ada", "Desk")], {"servicenow": timedelta(60)}, now)
    sent = _Sent()
    hub = PushHub(sent, board, utc_now, 0.05, Metrics.create(), heartbeat_s=0.0)  # type: ignore[arg-type]

    board.apply("servicenow", [Observation("ada", "servicenow", Status.ONLINE, now)], now)
    hub.flush()  # a batch: no heartbeat beside it
    assert [e for e, _ in sent.events] == ["presence", "providers", "providers"]
    hub.flush()  # nothing changed: the heartbeat says seq 1 is current
    event, body = sent.events[-1]
    assert event == "heartbeat"
    assert body["seq"] == 1 and body["server_time"].endswith("Z")  # type: ignore[index]

    recent = _Sent()
    PushHub(recent, board, utc_now, 0.05, Metrics.create()).flush()  # type: ignore[arg-type]
    assert "heartbeat" not in [e for e, _ in recent.events]  # not before HEARTBEAT_S of quiet
