"""Teams availability + activity -> status and activity text (pure): every pair of the
documented values, the Teams states of the docs' permutation table, OOF, the config tables."""

from __future__ import annotations

import itertools

import pytest

from presence_dash.core.model import Status
from presence_dash.providers.teams.config import TeamsConfig
from presence_dash.providers.teams.mapping import TeamsState, teams_state

# presence resource type, v1.0
AVAILABILITY = (
    "Available", "AvailableIdle", "Away", "BeRightBack", "Busy", "BusyIdle", "DoNotDisturb",
    "Offline", "PresenceUnknown",
)  # fmt: skip
ACTIVITY = (
    "Available", "Away", "BeRightBack", "Busy", "DoNotDisturb", "InACall", "InAConferenceCall",
    "Inactive", "InAMeeting", "Offline", "OffWork", "OutOfOffice", "PresenceUnknown",
    "Presenting", "UrgentInterruptionsOnly",
)  # fmt: skip
BUSY_ACTIVITIES = {
    "Busy", "DoNotDisturb", "InACall", "InAConferenceCall", "InAMeeting", "Presenting",
    "UrgentInterruptionsOnly",
}  # fmt: skip
BY_AVAILABILITY = {
    "Available": Status.ONLINE,
    "AvailableIdle": Status.AWAY,
    "Away": Status.AWAY,
    "BeRightBack": Status.AWAY,
    "Busy": Status.BUSY,
    "BusyIdle": Status.BUSY,
    "DoNotDisturb": Status.BUSY,
    "Offline": Status.OFFLINE,
    "PresenceUnknown": Status.UNKNOWN,
}
CONFIG = TeamsConfig(
    tenant_id="contoso.onmicrosoft.com",
    client_id="535fb089-9ff3-47b6-9bfb-4f1264799865",
    client_secret_env="S",
)


def state(
    availability: str | None, activity: str | None, oof: bool = False, config: TeamsConfig = CONFIG
) -> TeamsState:
    return teams_state(
        availability, activity, oof, config.availability_table(), config.activity_table()
    )


@pytest.mark.parametrize(
    ("availability", "activity"), list(itertools.product(AVAILABILITY, ACTIVITY))
)
def test_every_documented_pair(availability: str, activity: str) -> None:
    got = state(availability, activity)
    expected = Status.BUSY if activity in BUSY_ACTIVITIES else BY_AVAILABILITY[availability]
    assert got.status == expected
    assert got.detail == f"{availability}/{activity}"
    # A busy activity is never shown as anything but busy, and busy always says why.
    if activity in BUSY_ACTIVITIES or BY_AVAILABILITY[availability] == Status.BUSY:
        assert got.status == Status.BUSY and got.activity


# "Manage presence state using the Microsoft Graph API": Teams state -> Graph pair.
@pytest.mark.parametrize(
    ("availability", "activity", "oof", "status", "text"),
    [
        ("Available", "Available", False, Status.ONLINE, None),
        ("Available", "OutOfOffice", False, Status.ONLINE, "Out of office"),
        ("Busy", "Busy", False, Status.BUSY, "Busy"),
        ("Busy", "InACall", False, Status.BUSY, "In a call"),
        ("Busy", "InAMeeting", False, Status.BUSY, "In a meeting"),
        ("Busy", "InACall", True, Status.BUSY, "In a call, out of office"),
        ("DoNotDisturb", "DoNotDisturb", False, Status.BUSY, "Do not disturb"),
        ("DoNotDisturb", "Presenting", False, Status.BUSY, "Presenting"),
        ("Away", "Away", False, Status.AWAY, "Away"),
        ("BeRightBack", "BeRightBack", False, Status.AWAY, "Be right back"),
        ("Offline", "OffWork", False, Status.OFFLINE, "Off work"),
        ("Offline", "OutOfOffice", True, Status.OFFLINE, "Out of office"),
        ("AvailableIdle", "Inactive", False, Status.AWAY, "Inactive"),
        ("BusyIdle", "InAMeeting", False, Status.BUSY, "In a meeting"),
        ("PresenceUnknown", "PresenceUnknown", False, Status.UNKNOWN, None),
    ],
)
def test_the_documented_teams_states(
    availability: str, activity: str, oof: bool, status: Status, text: str | None
) -> None:
    got = state(availability, activity, oof)
    assert (got.status, got.activity) == (status, text)


def test_values_are_matched_case_insensitively() -> None:
    # Newer doc pages spell the values camelCase.
    assert state("busy", "inAMeeting") == TeamsState(Status.BUSY, "In a meeting", "busy/inAMeeting")


def test_unknown_values_fall_back_and_never_hide_a_busy_activity() -> None:
    assert state("SomethingNew", "InACall").status == Status.BUSY
    assert state("SomethingNew", "Away").status == Status.AWAY  # the activity decides
    assert state("Away", "SomethingNew") == TeamsState(Status.AWAY, "Away", "Away/SomethingNew")
    assert state(None, None) == TeamsState(Status.UNKNOWN, None, "-/-")


def test_config_tables_override_one_value_each() -> None:
    config = TeamsConfig.model_validate(
        {
            **CONFIG.model_dump(),
            "availability_map": {"berightback": {"status": "busy", "activity": "Back soon"}},
            "activity_map": {"OffWork": "away"},
        }
    )
    assert state("BeRightBack", "BeRightBack", config=config) == TeamsState(
        Status.BUSY, "Be right back", "BeRightBack/BeRightBack"
    )
    assert state("Offline", "OffWork", config=config).status == Status.OFFLINE  # availability
    assert state("Away", "Away", config=config).status == Status.AWAY  # untouched default


def test_a_value_listed_twice_in_another_case_is_refused() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        TeamsConfig.model_validate(
            {**CONFIG.model_dump(), "activity_map": {"Away": "away", "away": "busy"}}
        )
