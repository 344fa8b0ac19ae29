"""ScreenMeet remote-support sessions: started, scheduled, rescheduled and closed by agents.

Not a presence provider (it observes nobody), so it is not in the provider registry: the app
factory calls `build_service` and starts it with the other runtime services, and the
`web/screenmeet.py` blueprint serves it.
"""

from __future__ import annotations

from typing import Any

import requests
import sqlalchemy as sa

from presence_dash.config import Settings
from presence_dash.core.clock import Clock
from presence_dash.screenmeet.client import ScreenMeetClient
from presence_dash.screenmeet.service import ScreenMeetService
from presence_dash.screenmeet.store import SessionStore


def build_service(
    settings: Settings, engine: sa.Engine, clock: Clock, socketio: Any
) -> ScreenMeetService:
    """The service; without a `[providers.screenmeet]` section it only lists stored sessions."""
    config = settings.providers.screenmeet
    client = None
    if config is not None:
        http = requests.Session()
        http.headers["User-Agent"] = "presence-dash"
        client = ScreenMeetClient(
            config.base_url,
            config.username,
            settings.secret(config.password_env) or "",
            config.timeout_seconds,
            http,
        )
    return ScreenMeetService(
        client,
        SessionStore(engine),
        clock,
        socketio.emit,
        spawn=socketio.start_background_task,
        sleep=socketio.sleep,
    )
