"""Serving a simulator's WSGI app on a loopback port, in the background or in the foreground."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class SimulatorServer:
    """A threaded WSGI server on `host:port` (port 0 picks a free one)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        self.host = host
        self.port = self.server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, spawn: Callable[[Callable[[], None]], Any] | None = None) -> SimulatorServer:
        """Serve in the background: `spawn` is the app's start_background_task (green under
        eventlet/gevent); a plain daemon thread when none is given."""
        if spawn is not None:
            spawn(self.server.serve_forever)
        else:
            threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
