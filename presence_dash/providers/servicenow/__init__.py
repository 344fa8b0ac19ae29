"""ServiceNow: presence from the UI16 presence endpoint or the Table API.

`provider` holds the adapter (the only place that knows the wire format), `config` the
`[providers.servicenow]` model and the sys_id check, `simulated` how `presence-dash simulate`
and the demo run `simulators/servicenow.py`.
"""

from __future__ import annotations

from presence_dash.providers.servicenow.config import ServiceNowConfig, check_sys_id
from presence_dash.providers.servicenow.provider import ServiceNowProvider
from presence_dash.providers.spec import DemoSpec, PersonIdField, ProviderSpec, SimulatorSpec

SPEC = ProviderSpec(
    name="servicenow",
    label="ServiceNow",
    config_model=ServiceNowConfig,
    factory=ServiceNowProvider.from_context,
    person_field=PersonIdField("servicenow", check_sys_id),
    simulator=SimulatorSpec(
        start=f"{__name__}.simulated:simulate", seeds="servicenow: active/idle/gone"
    ),
    demo=DemoSpec(
        start=f"{__name__}.simulated:start_demo", person_id=f"{__name__}.simulated:demo_id"
    ),
)

__all__ = ["SPEC", "ServiceNowConfig", "ServiceNowProvider"]
