"""Background upkeep for sign-in: disconnect wall screens whose kiosk token was revoked and
sockets whose sign-in ended (also when it happened on another node, or the sign-in
expired), write the anonymous-noise counts whose window closed, and drop audit rows past
retention and expired sign-ins."""

from __future__ import annotations

import logging
import time
from typing import Any

from presence_dash.auth.gate import AuthRuntime

log = logging.getLogger(__name__)

KIOSK_CHECK_SECONDS = 2.0
PURGE_EVERY_SECONDS = 24 * 3600


class AuthSweeper:
    def __init__(self, auth: AuthRuntime, socketio: Any) -> None:
        self.auth = auth
        self.socketio = socketio
        self._stopped = False
        self._last_purge = float("-inf")

    def start(self) -> None:
        self.socketio.start_background_task(self._run)

    def stop(self) -> None:
        self._stopped = True
        try:
            self.auth.noise.flush(everything=True)  # the counts of the windows still open
        except Exception:
            log.exception("auth: could not write the last anonymous-noise counts")

    def sweep_once(self) -> list[str]:
        """Disconnect revoked walls and ended sign-ins now; returns their sids."""
        sids = self.auth.revoked_kiosk_sockets() + self.auth.ended_sign_in_sockets()
        for sid in sids:
            self.socketio.server.disconnect(sid, namespace="/")
            self.auth.socket_gone(sid)
        if time.monotonic() - self._last_purge > PURGE_EVERY_SECONDS:
            self._last_purge = time.monotonic()
            self.auth.sign_ins.purge_expired()
            removed = self.auth.audit.purge(self.auth.config.audit_retention_days)
            if removed:
                log.info(
                    "audit: removed %d entries older than %d days",
                    removed,
                    self.auth.config.audit_retention_days,
                )
        self.auth.noise.flush()
        return sids

    def _run(self) -> None:
        while not self._stopped:
            try:
                self.sweep_once()
            except Exception:  # a database hiccup must not end the sweeping
                log.exception("auth: sweep failed; retrying")
            self.socketio.sleep(KIOSK_CHECK_SECONDS)
