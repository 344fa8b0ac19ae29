"""Glance's spec, beside its modules until they move to providers/glance/ (then this is that
package's `__init__.py`). The factory imports glance.py when called: that module still
imports `GlanceConfig` from config.py, which imports the registry."""

from __future__ import annotations

from presence_dash.providers.base import PollingProvider, ProviderContext
from presence_dash.providers.glance_config import GlanceConfig
from presence_dash.providers.spec import DemoSpec, ProviderSpec, SimulatorSpec


def _provider(ctx: ProviderContext) -> PollingProvider:
    from presence_dash.providers.glance import GlanceProvider

    return GlanceProvider.from_context(ctx)


SPEC = ProviderSpec(
    name="glance",
    label="Glance",
    config_model=GlanceConfig,
    factory=_provider,
    person_field=None,  # Glance observes visitors, not the people on the board
    simulator=SimulatorSpec(
        start=f"{__package__}.glance_simulated:simulate", seeds="glance: visitors come and go"
    ),
    demo=DemoSpec(start=f"{__package__}.glance_simulated:start_demo"),
)
