"""Which JSON body each endpoint takes: one table by Flask endpoint name (like the access
rules in auth/policy.py), read by the request check (request_limits.py) and the OpenAPI
document (openapi.py), so what is checked and what is documented cannot drift apart."""

from __future__ import annotations

from presence_dash.web.schemas import BodySpec, CobrowseBody, KioskTokenBody, SignalBody
from presence_dash.web.screenmeet_schemas import RescheduleBody, SessionBody

BODIES: dict[str, BodySpec] = {
    "visitors.cobrowse": BodySpec(
        CobrowseBody, "bad_body", {"group_id": "bad_group_id"}, required=False
    ),
    "visitors.signal": BodySpec(
        SignalBody,
        "bad_body",
        {"mtype": "bad_mtype", "data": "bad_data", "group_id": "bad_group_id"},
    ),
    "screenmeet.create_session": BodySpec(
        SessionBody,
        "bad_request",
        {
            "type": "bad_type",
            "prefs": "bad_prefs",
            "prefs:extra_forbidden": "unknown_pref",
            "start_time": "bad_start_time",
        },
    ),
    "screenmeet.reschedule_session": BodySpec(RescheduleBody, "bad_start_time"),
    "auth.create_kiosk_token": BodySpec(KioskTokenBody, "bad_name"),
}
