"""JSON request bodies parsed without surprises: nesting deeper than MAX_DEPTH is refused
before the parser sees it, so no body can reach Python's recursion limit (a 10,000-deep
array made `json.loads` raise RecursionError, which `get_json(silent=True)` does not catch:
a 500, and the audit hook re-parsing the body raised again and wrote no row).

`BoundedJSONProvider` puts the same parser behind Flask's `request.get_json`, so every
handler and hook that reads JSON gets it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

# Far beyond any body of this API (the deepest, a Glance signal, is 5 levels).
MAX_DEPTH = 32

# Strings are removed before brackets are counted ("[[[" inside a label is not nesting).
# Possessive quantifiers: an unterminated string cannot make the scan backtrack.
_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")


class BodyTooDeep(ValueError):
    """A ValueError, so `get_json(silent=True)` answers None for it like for any bad JSON."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the JSON body is nested more than {limit} levels deep")


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether `text` opens more than `limit` arrays/objects inside each other. Linear time,
    no recursion; it does not check that the text is valid JSON (the parser does)."""
    if text.count("[") + text.count("{") <= limit:
        return False  # the usual case: nothing to scan
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def loads(data: str | bytes | bytearray, limit: int = MAX_DEPTH) -> Any:
    """`json.loads` that refuses deep nesting (BodyTooDeep) and bytes that are not UTF-8;
    every failure is a ValueError."""
    text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    if too_deep(text, limit):
        raise BodyTooDeep(limit)
    return json.loads(text)


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with the bounded `loads` (dumps unchanged)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)
