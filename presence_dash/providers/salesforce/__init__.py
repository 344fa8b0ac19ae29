"""Salesforce: UI sessions from AuthSession, login/logout events through `/hooks/salesforce`.

`provider` holds the adapter, `presence` the pure session rules, `config` the
`[providers.salesforce]` model and the User Id check, `simulated` how `presence-dash
simulate` and the demo run `simulators/salesforce.py`.
"""

from __future__ import annotations

from presence_dash.providers.salesforce.config import SalesforceConfig, check_user_id
from presence_dash.providers.salesforce.provider import SalesforceProvider
from presence_dash.providers.spec import (
    DemoSpec,
    PersonIdField,
    ProviderSpec,
    SimulatorOption,
    SimulatorSpec,
)

SPEC = ProviderSpec(
    name="salesforce",
    label="Salesforce",
    config_model=SalesforceConfig,
    factory=SalesforceProvider.from_context,
    person_field=PersonIdField("salesforce", check_user_id),
    simulator=SimulatorSpec(
        start=f"{__name__}.simulated:simulate",
        options=(
            SimulatorOption(
                "--client-id", "salesforce: the consumer key", "3MVG9sim.presence.dash"
            ),
            SimulatorOption(
                "--jwt-public-key", "salesforce: PEM file of the certificate's key (JWT bearer)"
            ),
            SimulatorOption(
                "--webhook-url",
                "salesforce: where login/logout events are sent (/hooks/salesforce)",
            ),
            SimulatorOption(
                "--webhook-secret-env",
                "salesforce: environment variable holding the webhook's HMAC secret",
                "SIM_WEBHOOK_SECRET",
            ),
        ),
        seeds="salesforce: logged in/out, lapsing sessions",
    ),
    demo=DemoSpec(
        start=f"{__name__}.simulated:start_demo",
        person_id=f"{__name__}.simulated:demo_id",
        skip_teams=frozenset({"Network Operations"}),  # network operations has no Salesforce
    ),
)

__all__ = ["SPEC", "SalesforceConfig", "SalesforceProvider"]
