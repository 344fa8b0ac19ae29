"""Glance: the visitors' source (provider.py polls the presence service, direct.py the
allowlisted direct calls, records.py the vendor's visitor records). It observes web-site
visitors, not the people on the board; the visitors feature (presence_dash/visitors/) uses
it."""

from __future__ import annotations

from presence_dash.providers.base import PollingProvider
from presence_dash.providers.glance.config import GlanceConfig
from presence_dash.providers.glance.provider import GlanceProvider
from presence_dash.providers.spec import DemoSpec, ProviderSpec, SimulatorSpec
from presence_dash.visitors.source import VisitorSource


def visitor_source(provider: PollingProvider) -> VisitorSource:
    """The spec's factory built it, so it is ours."""
    assert isinstance(provider, GlanceProvider)
    return provider


SPEC = ProviderSpec(
    name="glance",
    label="Glance",
    config_model=GlanceConfig,
    factory=GlanceProvider.from_context,
    person_field=None,  # Glance observes visitors, not the people on the board
    simulator=SimulatorSpec(
        start=f"{__name__}.simulated:simulate", seeds="glance: visitors come and go"
    ),
    demo=DemoSpec(start=f"{__name__}.simulated:start_demo"),
    visitor_source=visitor_source,
)
