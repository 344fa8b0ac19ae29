"""Microsoft Teams presence from Microsoft Graph (docs/providers/teams.md).

`provider` holds the adapter, `graph` the HTTP calls, `mapping` the pure state rules, `config`
the `[providers.teams]` model and the person id; `simulator` is a stand-in Graph that shares
no code with the adapter, `simulated` how `presence-dash simulate` and the demo run it.
"""

from __future__ import annotations

from presence_dash.providers.spec import (
    DemoSpec,
    PersonIdField,
    ProviderSpec,
    SimulatorOption,
    SimulatorSpec,
)
from presence_dash.providers.teams.config import (
    PERSON_FIELD,
    TeamsConfig,
    check_object_id,
    check_teams_id,
)
from presence_dash.providers.teams.provider import NAME, TeamsProvider

SPEC = ProviderSpec(
    name=NAME,
    label="Microsoft Teams",
    config_model=TeamsConfig,
    factory=TeamsProvider.from_context,
    person_field=PersonIdField(PERSON_FIELD, check_teams_id),
    simulator=SimulatorSpec(
        start=f"{__name__}.simulated:simulate",
        options=(
            SimulatorOption("--tenant-id", "teams: the tenant GUID the token endpoint serves"),
            # Not --client-id: Salesforce's flag of that name has a default of its own.
            SimulatorOption("--app-id", "teams: the app registration's Application (client) ID"),
        ),
        seeds="teams: the documented availability/activity pairs",
    ),
    demo=DemoSpec(
        start=f"{__name__}.simulated:start_demo", person_id=f"{__name__}.simulated:demo_id"
    ),
)

__all__ = [
    "NAME",
    "PERSON_FIELD",
    "SPEC",
    "TeamsConfig",
    "TeamsProvider",
    "check_object_id",
    "check_teams_id",
]
