"""`[providers.cisco]` and its default state table (docs/providers/cisco.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from presence_dash.providers.config_base import (
    EnvName,
    HttpUrl,
    ProviderCommon,
    StateMap,
    StateMapping,
    state_table,
)

# PWS basic states and RPID activities (lower case) -> status and activity. Busy, DND, on
# the phone, in a meeting and presenting are busy: a team lead must never send work to them
# as if they were free (docs/providers/cisco.md lists where each state comes from).
CISCO_DEFAULT_STATE_MAP: dict[str, StateMapping] = state_table(
    {
        "AVAILABLE": ("online", None),
        "AWAY": ("away", "Away"),
        "DND": ("busy", "Do not disturb"),
        "BUSY": ("busy", "Busy"),
        "VACATION": ("offline", "On vacation"),
        "UNAVAILABLE": ("offline", None),
        "UNKNOWN": ("unknown", "Unknown to IM&P"),
        "available": ("online", None),
        "away": ("away", "Away"),
        "dnd": ("busy", "Do not disturb"),
        "busy": ("busy", "Busy"),
        "on-the-phone": ("busy", "On the phone"),
        "meeting": ("busy", "In a meeting"),
        "presenting": ("busy", "Presenting"),
        "vacation": ("offline", "On vacation"),
    }
)


class CiscoConfig(ProviderCommon):
    """IM&P Presence Web Services; `base_url` is `https://<imp>:8083` (HTTP: 8082)."""

    app_user: str
    app_password_env: EnvName
    end_user: str
    callback_url: HttpUrl
    presence_type: Literal["basic", "rich"] = "basic"
    resync_seconds: float = Field(600, ge=0.1, le=86_400)
    expiry_seconds: int = Field(3600, ge=3600, le=86_400)
    verify_tls: bool | str = True  # or a CA bundle path (IM&P often has a private CA)
    # PWS state -> status (or {status, activity}), merged over CISCO_DEFAULT_STATE_MAP.
    state_map: StateMap = {}

    def mapping_for(self, state: str) -> StateMapping | None:
        return self.state_map.get(state, CISCO_DEFAULT_STATE_MAP.get(state))
