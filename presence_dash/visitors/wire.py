"""Our JSON for visitors (CONTRACT `visitors` event and `GET /api/visitors`)."""

from __future__ import annotations

from typing import Any

from presence_dash.core.timefmt import iso_z
from presence_dash.visitors.board import Visitor, VisitorsBatch


def visitor_json(visitor: Visitor) -> dict[str, Any]:
    return {
        "group_id": visitor.group_id,
        "visitor_id": visitor.visitor_id,
        "status": "present",
        "since": iso_z(visitor.since) if visitor.since else None,
        "metadata": dict(visitor.metadata),
    }


def visitors_json(batch: VisitorsBatch, counts: dict[int, int]) -> dict[str, Any]:
    """The CONTRACT's `visitors` body, plus visitor counts per group (for the wall)."""
    return {
        "seq": batch.seq,
        "visitors": [visitor_json(v) for v in batch.visitors],
        "counts": {str(group): n for group, n in counts.items()},
    }
