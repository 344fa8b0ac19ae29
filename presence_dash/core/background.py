"""The one start/stop protocol of the background services (provider loops, push hub, the
database writers, ScreenMeet's reconcile loop, the sign-in sweeper, the visitor and alert
pushes, a web node's feed, a cluster worker): `Runtime` starts them in order and stops them
in reverse, so what produces stops before what stores."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class BackgroundService(Protocol):
    def start(self) -> None:
        """Begin the background work (spawn its task); returns at once."""

    def stop(self) -> None:
        """Ask the work to end and do now what must not wait for its task (flush what is
        pending, release vendor-side registrations): the process may exit right after."""


@dataclass(frozen=True)
class Tasks:
    """How a service runs in the background: the async runtime's (eventlet, gevent or
    threads, chosen in launch.py) spawn and cooperative sleep, e.g. SocketIO's
    `start_background_task` and `sleep`."""

    spawn: Callable[..., Any]
    sleep: Callable[[float], None]


class NotStartable(RuntimeError):
    """A service built without `Tasks` (tests drive its loop themselves)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} was built without Tasks: run its loop yourself")
