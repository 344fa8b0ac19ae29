"""The push hub's snapshot body, built on a real board and a real (unstarted) SocketIO."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_socketio import SocketIO

from presence_dash.board import PresenceBoard
from presence_dash.hub import PushHub
from presence_dash.metrics import Metrics
from presence_dash.model import Observation, Person, Status
from presence_dash.timefmt import utc_now


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
