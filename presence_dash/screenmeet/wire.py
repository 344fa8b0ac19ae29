"""The dashboard's JSON for a ScreenMeet session (REST answers and the `screenmeet` event).

`host_url` is the agent's secret (it carries the host token): only the answer to the request
that created the session includes it; lists and broadcasts never do. Broadcasts reach every
connected browser (wall screens too), so they also leave out the PIN and the customer link,
which would let anyone join the customer's session; agents' pages fetch those from the list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from presence_dash.core.timefmt import iso_z
from presence_dash.screenmeet.rules import effective_status
from presence_dash.screenmeet.store import StoredSession


def session_json(
    s: StoredSession, now: datetime, *, with_host: bool = False, public: bool = False
) -> dict[str, Any]:
    expired = s.expires_at is not None and s.expires_at <= now
    body: dict[str, Any] = {
        "id": s.id,
        "type": s.type,
        "label": s.label,
        "status": effective_status(s.status, s.start_time, now),
        "scheduled": s.scheduled,
        "start_time": iso_z(s.start_time),
        "pin": f"{s.pin:06d}" if s.pin else None,
        "user_url": s.user_url,
        "expires_at": iso_z(s.expires_at),
        "expired": expired,
        "settings": s.settings,
        "parent_object_table": s.parent_object_table,
        "parent_object_sys_id": s.parent_object_sys_id,
        "parent_object_display_name": s.parent_object_display_name,
        "person_id": s.person_id,
        "notes": list(s.notes),
        "created_by": s.created_by,
        "created_at": iso_z(s.created_at),
        "updated_at": iso_z(s.updated_at),
        "closed_by": s.closed_by,
        "closed_at": iso_z(s.closed_at),
    }
    if with_host:
        body["host_url"] = s.host_url
    if public:
        del body["pin"], body["user_url"]
    return body
