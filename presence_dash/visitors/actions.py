"""Actions on Glance visitors (co-browse, signal): request validation and idempotency.

Pure logic, no I/O: `parse_signal` checks a body against what we are willing to send a
visitor's browser; `check_idempotency_key` applies the API's key rule
(storage/idempotency.py), so a double click or a client retry on any web node sends one
signal, not two. The HTTP layer (web/visitors_api.py) calls these.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from presence_dash.storage.idempotency import BadKey, parse_key

COBROWSE_FUNC = "GLANCE.Cobrowse.Visitor.startSession"
MTYPES = ("invoke", "signal")
# Only Glance's own visitor-side API may be invoked: a dotted name under GLANCE.
INVOKE_FUNC = re.compile(r"^GLANCE(\.[A-Za-z_][A-Za-z0-9_]{0,63}){1,6}$")
INVOKE_KEYS = {"func", "args"}
MAX_DATA_BYTES = 4096
MAX_DEPTH = 5


class InvalidAction(ValueError):
    """A request body or header we refuse; `code` is the API error code."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class SignalMessage:
    mtype: str
    data: dict[str, Any]


def cobrowse_message() -> SignalMessage:
    return SignalMessage("invoke", {"func": COBROWSE_FUNC})


def parse_signal(body: Any) -> SignalMessage:
    """`{"mtype": "invoke"|"signal", "data": {...}}`, checked; InvalidAction otherwise."""
    if not isinstance(body, dict):
        raise InvalidAction("bad_body", 'expected a JSON object {"mtype": ..., "data": {...}}')
    unknown = set(body) - {"mtype", "data", "group_id"}
    if unknown:
        raise InvalidAction("bad_body", f"unknown field(s): {', '.join(sorted(unknown))}")
    mtype = body.get("mtype")
    if mtype not in MTYPES:
        raise InvalidAction("bad_mtype", f"mtype must be one of {', '.join(MTYPES)}")
    data = body.get("data")
    if not isinstance(data, dict):
        raise InvalidAction("bad_data", "data must be a JSON object")
    if _depth(data) > MAX_DEPTH:
        raise InvalidAction("bad_data", f"data is nested more than {MAX_DEPTH} levels deep")
    size = len(json.dumps(data, separators=(",", ":")).encode())
    if size > MAX_DATA_BYTES:
        raise InvalidAction(
            "data_too_large", f"data is {size} bytes; at most {MAX_DATA_BYTES}", status=413
        )
    if mtype == "invoke":
        func = data.get("func")
        if not isinstance(func, str) or not INVOKE_FUNC.match(func):
            raise InvalidAction(
                "bad_func", "invoke needs data.func naming a Glance function (GLANCE.X.y)"
            )
        extra = set(data) - INVOKE_KEYS
        if extra:
            raise InvalidAction("bad_data", f"invoke takes only func and args, not {sorted(extra)}")
        if "args" in data and not isinstance(data["args"], list):
            raise InvalidAction("bad_data", "invoke args must be a list")
    return SignalMessage(mtype, data)


def parse_group_id(value: Any, configured: list[int]) -> int | None:
    """An optional `group_id` (body or query): None, or one of the configured groups."""
    if value is None or value == "":
        return None
    try:
        group_id = int(value)
    except (TypeError, ValueError):
        raise InvalidAction("bad_group_id", "group_id must be an integer") from None
    if isinstance(value, bool) or group_id not in configured:
        raise InvalidAction("unknown_group", f"group {value!r} is not a configured Glance group")
    return group_id


def _depth(value: Any, level: int = 1) -> int:
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level - 1


def check_idempotency_key(header: str | None) -> str | None:
    """The API's key rule (storage/idempotency.py), refused like any other bad input."""
    try:
        return parse_key(header)
    except BadKey:
        raise InvalidAction(BadKey.code, BadKey.message, BadKey.status) from None
