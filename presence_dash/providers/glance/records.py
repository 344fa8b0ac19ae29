"""Glance presence records -> visitors: pure parsing, no I/O.

The fields of a record are documented only for `/lookupvisitor` (`visitorid`, `groupid`,
`visitorpresent` and `timestamp` as epoch seconds in strings, routing fields); `/query`'s
answer is not documented publicly. So parsing is tolerant: several container shapes are
accepted, unknown fields are kept as opaque metadata (what a visitor's page reported), and
records without a usable visitor id are skipped and counted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from presence_dash.visitors.board import Visitor

# Glance's own limit for visitor ids: at most 62 of A-Z a-z 0-9 - _ ~ (Visitor Presence API).
VISITOR_ID = re.compile(r"^[A-Za-z0-9_~-]{1,62}$")
# Routing fields of a presence record: internal plumbing, not something to show an agent.
ROUTING_FIELDS = {"groupid", "visitorid", "visitorId", "ds", "direct", "directserver"}
ROUTING_FIELDS |= {"tlsport", "httpsport"}
TIME_FIELDS = ("visitorpresent", "timestamp")
MAX_METADATA_KEYS = 20
MAX_METADATA_CHARS = 200
MAX_KEY_CHARS = 60


class MalformedRecords(ValueError):
    """The answer is neither a list of records nor an object holding them."""


def parse_query(group_id: int, body: Any) -> tuple[list[Visitor], int]:
    """`/query`'s visitors and how many records were skipped. Accepted: a list of records,
    an object with such a list under any key, or an object keyed by visitor id."""
    records: list[Any]
    if isinstance(body, list):
        records = body
    elif isinstance(body, dict):
        lists = [v for v in body.values() if isinstance(v, list)]
        if lists:
            records = lists[0]
        else:
            records = [
                {"visitorid": key, **value} if isinstance(value, dict) else None
                for key, value in body.items()
                if key not in ROUTING_FIELDS
            ]
    else:
        raise MalformedRecords("neither a list nor an object")
    visitors = []
    for record in records:
        visitor = parse_record(group_id, record) if isinstance(record, dict) else None
        if visitor is not None:
            visitors.append(visitor)
    return visitors, len(records) - len(visitors)


def parse_record(group_id: int, record: Mapping[str, Any]) -> Visitor | None:
    """One presence record as a Visitor, or None without a valid visitor id."""
    visitor_id = record.get("visitorid", record.get("visitorId"))
    if not isinstance(visitor_id, str) or not VISITOR_ID.match(visitor_id):
        return None
    since = next((t for f in TIME_FIELDS if (t := epoch(record.get(f)))), None)
    metadata: dict[str, Any] = {}
    for key, value in record.items():
        if len(metadata) >= MAX_METADATA_KEYS:
            break
        if key not in ROUTING_FIELDS and key not in TIME_FIELDS:
            metadata[str(key)[:MAX_KEY_CHARS]] = shown(value)
    return Visitor(group_id, visitor_id, since, metadata)


def is_present(record: Mapping[str, Any]) -> bool:
    """`/lookupvisitor` says the visitor is on the site (`visitorpresent` is their arrival
    time; absent, false or zero means not present)."""
    return record.get("visitorpresent") not in (None, False, 0, "", "0", "false")


def epoch(value: Any) -> datetime | None:
    """Glance's times are epoch seconds, often as strings ("1583953702.0")."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if not 946_684_800 <= seconds <= 32_503_680_000:  # 2000..3000: anything else is not a time
        return None
    return datetime.fromtimestamp(seconds, UTC)


def shown(value: Any) -> Any:
    """Metadata as a user will see it: short scalars; anything nested as short JSON."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text[:MAX_METADATA_CHARS]
