"""Serving a simulator's WSGI app on a loopback port, in the background or in the foreground."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _SimulatorRequestHandler(WSGIRequestHandler):
    """Lets a simulator send its own `Date` (a simulated vendor clock); the standard
    handler always adds the real one first, which would make two."""

    _date_sent = True

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Server", self.version_string())
        self._date_sent = False

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "date":
            self._date_sent = True
        super().send_header(keyword, value)

    def end_headers(self) -> None:
        if not self._date_sent:
            self.send_header("Date", self.date_time_string())
        super().end_headers()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # simulators stay quiet; their /_sim/requests log is what tests read


SHUTDOWN_POLL_S = 0.05


class SimulatorServer:
    """A threaded WSGI server on `host:port` (port 0 picks a free one)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_SimulatorRequestHandler
        )
        self.host = host
        self.port = self.server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, spawn: Callable[[Callable[[], None]], Any] | None = None) -> SimulatorServer:
        """Serve in the background: `spawn` is the app's start_background_task (green under
        eventlet/gevent); a plain daemon thread when none is given."""
        # shutdown() waits for the loop to look up; with the default 0.5 s the demo's seven
        # simulators made every stop take seconds.
        serve = lambda: self.server.serve_forever(poll_interval=SHUTDOWN_POLL_S)  # noqa: E731
        if spawn is not None:
            spawn(serve)
        else:
            threading.Thread(target=serve, daemon=True).start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
