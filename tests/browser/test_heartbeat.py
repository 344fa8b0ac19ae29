"""The `heartbeat` event in Chromium: the connection module resyncs when a heartbeat names a
seq ahead of its own (a batch it never got), and the wall's "data as of" takes the
heartbeat's server_time on a quiet floor instead of ageing (against the real server)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import DashServer, person, wait_for

pytestmark = pytest.mark.browser

# A stand-in for window.io: records what the module emits, and fires server events.
FAKE_IO = """
window.fakeSocket = {
  handlers: {}, sent: [], connected: true,
  on(name, fn) { (this.handlers[name] = this.handlers[name] || []).push(fn); return this; },
  emit(name, body) { this.sent.push([name, body]); },
  fire(name, body) { (this.handlers[name] || []).forEach((fn) => fn(body)); },
};
"""


def test_a_heartbeat_ahead_of_the_client_starts_a_resync(
    page: Any,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
    tmp_path: Path,
) -> None:
    server = dash_server(make_config(tmp_path, [], None))
    page.goto(server.url + "/healthz")  # same origin: the module imports are allowed
    page.evaluate(FAKE_IO)
    sent = page.evaluate(
        """async () => {
        const { connect } = await import("/static/js/connection.js");
        let seq = 5;
        const socket = window.fakeSocket;
        connect({
          getSeq: () => seq,
          onSnapshot: (s) => { seq = s.seq; },
          onPresence: (changes, s) => { seq = s; },
          onProviders: () => {},
          onState: () => {},
          io: () => socket,
        });
        socket.fire("connect");
        socket.fire("heartbeat", { seq: 5, server_time: "2026-12-01T12:00:05Z" });
        const quiet = socket.sent.length;
        socket.fire("heartbeat", { seq: 7, server_time: "2026-12-01T12:00:10Z" });
        const afterAhead = socket.sent.slice(quiet);
        socket.fire("heartbeat", { seq: 7, server_time: "2026-12-01T12:00:15Z" });
        const whilePending = socket.sent.length - quiet - afterAhead.length;
        socket.fire("presence", { seq: 7, changes: [], resync: true });
        return { quiet, afterAhead, whilePending, seq };
    }"""
    )
    assert sent["quiet"] == 0  # in step: nothing asked
    assert sent["afterAhead"] == [["resync", {"seq": 5}]]
    assert sent["whilePending"] == 0  # one resync at a time
    assert sent["seq"] == 7


def test_the_walls_data_as_of_follows_heartbeats_on_a_quiet_floor(
    page: Any,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
    tmp_path: Path,
) -> None:
    # No provider: nothing ever changes, so no batch carries a newer server_time.
    server = dash_server(make_config(tmp_path, [person("ada")], None))
    page.goto(server.url + "/wall")
    as_of = page.locator("#data-as-of .as-of-time")

    def shown() -> str:
        return str(as_of.get_attribute("datetime") or "")

    first = wait_for(shown, 10, what="a data-as-of time")
    later = wait_for(lambda: shown() > first and shown(), 15, what="a heartbeat's time")
    assert later > first
