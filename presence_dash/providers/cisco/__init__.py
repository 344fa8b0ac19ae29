"""Cisco IM&P Presence Web Services: presence pushed to `/hooks/cisco/pws`, fetched in bulk.

`provider` holds the adapter, `pidf` the PIDF/RPID reading, `config` the `[providers.cisco]`
model, `simulated` how `presence-dash simulate` and the demo run `simulators/cisco_pws.py`.
"""

from __future__ import annotations

from presence_dash.providers.cisco.config import CiscoConfig
from presence_dash.providers.cisco.provider import CiscoPwsProvider
from presence_dash.providers.spec import (
    DemoSpec,
    PersonIdField,
    ProviderSpec,
    SimulatorOption,
    SimulatorSpec,
)

SPEC = ProviderSpec(
    name="cisco",
    label="Cisco",
    config_model=CiscoConfig,
    factory=CiscoPwsProvider.from_context,
    # The IM&P contact URI (user@domain); IM&P itself says which ones it knows.
    person_field=PersonIdField("cisco"),
    simulator=SimulatorSpec(
        start=f"{__name__}.simulated:simulate",
        options=(
            SimulatorOption(
                "--end-user",
                "cisco: the end user the application user may log in",
                "presence.dash@example.com",
            ),
        ),
        seeds="cisco: available/away/DND/offline",
    ),
    demo=DemoSpec(
        start=f"{__name__}.simulated:start_demo",
        person_id=f"{__name__}.simulated:demo_id",
        skip_teams=frozenset({"Field Engineering"}),  # field engineers have no softphone
    ),
)

__all__ = ["SPEC", "CiscoConfig", "CiscoPwsProvider"]
