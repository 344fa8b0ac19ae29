"""`[providers.teams]`: Microsoft Graph presence for an Entra ID tenant, and the person id.

Defaults point at the public cloud (graph.microsoft.com, login.microsoftonline.com);
`base_url` and `login_url` move both for a national cloud or the simulator. The two state
tables say what each Graph value means (docs/providers/teams.md, "Mapping"); a config entry
replaces the default for that value only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from presence_dash.providers.config_base import (
    EnvName,
    HttpUrl,
    ProviderCommon,
    StateMap,
    StateMapping,
    state_table,
)

# Entra ID object ids are GUIDs; Graph compares them without regard to case.
OBJECT_ID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# The token endpoint takes the tenant "in GUID or domain-name format" (client credentials docs).
TENANT = r"^([0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}|[A-Za-z0-9][A-Za-z0-9.-]{0,252})$"
GUID = r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"

# What a `[[people]]` entry or a directory CSV column names a person's Teams user by. Not
# `teams`: next to the `team` column that would read as a list of teams.
PERSON_FIELD = "teams_id"
MAX_IDS_PER_REQUEST = 650  # getPresencesByUserId: "Maximum of 650 user IDs ... per API request"
MAX_BATCH_REQUESTS = 20  # JSON batching: "up to 20 requests" in one $batch
# A user principal name is an email-shaped sign-in name (alias@domain): one `@`, no spaces,
# a dotted domain. B2B guests' `#EXT#` names fit too (the `#` is escaped on the wire).
UPN = re.compile(
    r"^[^@\s/\\?]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def is_object_id(value: str) -> bool:
    return bool(OBJECT_ID.match(value))


def is_upn(value: str) -> bool:
    return bool(UPN.match(value)) and len(value) <= 113  # Entra's UPN limit: 113 characters


def check_teams_id(value: str) -> str:
    """The person-id validator: an Entra object id (a GUID), or a user principal name that
    the provider looks up through Graph (docs/providers/teams.md, "User principal names")."""
    value = value.strip()
    if not (is_object_id(value) or is_upn(value)):
        raise ValueError(
            "expected an Entra ID object id (a GUID such as "
            "fa8bf3dc-eca7-46b7-bad1-db199b62afc3) or a user principal name (such as "
            f"adele.vance@contoso.com), not {value[:60]!r}"
        )
    return value


check_object_id = check_teams_id  # the name this validator had before UPNs were accepted


# availability -> status. Busy wins over everything when sources disagree (rules.PRECEDENCE),
# so every value that may mean "do not send work now" is busy here: BusyIdle is a busy
# calendar with an idle device (UCMA's IdleBusy), still busy; AvailableIdle is an idle device
# with nothing on the calendar, which Teams itself shows as away.
TEAMS_DEFAULT_AVAILABILITY_MAP: dict[str, StateMapping] = state_table(
    {
        "Available": ("online", None),
        "AvailableIdle": ("away", "Idle"),
        "Away": ("away", "Away"),
        "BeRightBack": ("away", "Be right back"),
        "Busy": ("busy", "Busy"),
        "BusyIdle": ("busy", "Busy"),
        "DoNotDisturb": ("busy", "Do not disturb"),
        "Offline": ("offline", None),
        "PresenceUnknown": ("unknown", None),
        # The live v1.0 resource page also lists these as availability values.
        "Focusing": ("busy", "Focusing"),
        "InACall": ("busy", "In a call"),
        "InAMeeting": ("busy", "In a meeting"),
        "Presenting": ("busy", "Presenting"),
    }
)

# activity -> status and text. An activity whose status is busy makes the person busy whatever
# the availability says; other activities only name what the availability shows (and decide
# the status when the availability is unknown to us).
TEAMS_DEFAULT_ACTIVITY_MAP: dict[str, StateMapping] = state_table(
    {
        "Available": ("online", None),
        "Away": ("away", "Away"),
        "BeRightBack": ("away", "Be right back"),
        "Busy": ("busy", "Busy"),
        "DoNotDisturb": ("busy", "Do not disturb"),
        "InACall": ("busy", "In a call"),
        "InAConferenceCall": ("busy", "In a conference call"),
        "Inactive": ("away", "Inactive"),
        "InAMeeting": ("busy", "In a meeting"),
        "Offline": ("offline", None),
        "OffWork": ("offline", "Off work"),
        "OutOfOffice": ("offline", "Out of office"),
        "PresenceUnknown": ("unknown", None),
        "Presenting": ("busy", "Presenting"),
        "UrgentInterruptionsOnly": ("busy", "Urgent interruptions only"),
        "Focusing": ("busy", "Focusing"),
    }
)


def folded(table: Mapping[str, StateMapping]) -> dict[str, StateMapping]:
    """The docs spell values PascalCase (`InAMeeting`) on some pages and camelCase
    (`inAMeeting`) on others: tables are looked up case-insensitively."""
    return {key.casefold(): value for key, value in table.items()}


class TeamsConfig(ProviderCommon):
    """Client credentials for an Entra ID app registration with the application permission
    `Presence.Read.All` (admin consent), and `User.Read.All` too when people are named by
    user principal name."""

    base_url: HttpUrl = "https://graph.microsoft.com/v1.0"
    login_url: HttpUrl = "https://login.microsoftonline.com"
    tenant_id: Annotated[str, StringConstraints(pattern=TENANT)]
    client_id: Annotated[str, StringConstraints(pattern=GUID)]
    client_secret_env: EnvName
    scope: Annotated[str, StringConstraints(pattern=r"^https?://\S+/\.default$")] = (
        "https://graph.microsoft.com/.default"
    )
    # 650 ids per request and 1,500 requests per 30 s per app and tenant: 5 s polls of 5,000
    # people are 8 requests, far under the limit.
    poll_seconds: float = Field(10, ge=0.1, le=3600)
    batch_size: int = Field(MAX_IDS_PER_REQUEST, ge=1, le=MAX_IDS_PER_REQUEST)
    # A token is renewed this long before `expires_in` runs out (at most halfway through its
    # life), so no request goes out with a token about to lapse.
    token_renew_seconds: float = Field(300, ge=0, le=3600)
    # How long a user principal name -> object id lookup is trusted: a renamed or re-created
    # account is picked up within this time (or on restart).
    upn_refresh_seconds: float = Field(86400, ge=60, le=30 * 86400)
    # Graph value -> status (or {status, activity}), merged over the defaults above.
    availability_map: StateMap = {}
    activity_map: StateMap = {}

    @field_validator("availability_map", "activity_map")
    @classmethod
    def _no_duplicate_spellings(cls, table: dict[str, StateMapping]) -> dict[str, StateMapping]:
        keys = [key.casefold() for key in table]
        if len(keys) != len(set(keys)):
            raise ValueError("a value is listed twice (keys are compared case-insensitively)")
        return table

    def availability_table(self) -> dict[str, StateMapping]:
        return {**folded(TEAMS_DEFAULT_AVAILABILITY_MAP), **folded(self.availability_map)}

    def activity_table(self) -> dict[str, StateMapping]:
        return {**folded(TEAMS_DEFAULT_ACTIVITY_MAP), **folded(self.activity_map)}
