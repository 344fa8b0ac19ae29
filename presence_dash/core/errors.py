"""The CONTRACT's error body, `{"error": {"code", "message"}}`: built here and nowhere else.

Plain data, no Flask: the ScreenMeet outbox stores these bodies as replayable answers, the
Glance signal log keeps them, and the web layer (web/errors.py) serves them as JSON.
"""

from __future__ import annotations

from typing import Any


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
