"""The `/_sim/` control routes every simulator shares (tests and demos drive them over
HTTP). Simulators share these with each other, never with the clients they test."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from flask import Flask, jsonify, request


def add_fault_route(
    app: Flask, kinds: Collection[str], queue: Callable[[str, int, float], int]
) -> None:
    """`POST /_sim/faults {"kind", "count"?, "delay_s"?}`: the next `count` vendor calls fail
    that way; `queue(kind, count, delay_s)` stores them and returns how many are queued."""

    @app.post("/_sim/faults")
    def add_fault() -> Any:
        body = request.get_json(silent=True) or {}
        kind = str(body.get("kind"))
        if kind not in kinds:
            return jsonify({"error": f"kind must be one of {sorted(kinds)}"}), 400
        try:
            count, delay_s = int(body.get("count", 1)), float(body.get("delay_s", 2.0))
        except (TypeError, ValueError):
            return jsonify({"error": "count must be an integer and delay_s a number"}), 400
        return jsonify({"queued": queue(kind, count, delay_s)})


def basic_auth_is(username: str, password: str) -> bool:
    """Whether the request carries HTTP basic auth with exactly these credentials
    (werkzeug parses the header; a malformed one is simply not a match)."""
    auth = request.authorization
    return (
        auth is not None
        and auth.type == "basic"
        and (auth.username, auth.password) == (username, password)
    )


def add_password_route(app: Flask, sim: Any) -> None:
    """`POST /_sim/password {"password"}`: the vendor rotated the API user's password."""

    @app.post("/_sim/password")
    def set_password() -> Any:
        sim.password = str((request.get_json(silent=True) or {}).get("password", ""))
        return jsonify({"ok": True})


def fault_list_queue(faults: list[dict[str, Any]]) -> Callable[[str, int, float], int]:
    """A `queue` for simulators that keep their faults as a list of dicts."""

    def queue(kind: str, count: int, delay_s: float) -> int:
        faults.extend({"kind": kind, "delay_s": delay_s} for _ in range(count))
        return len(faults)

    return queue
