"""The provider registry: one line per vendor; the rest of the app never names a vendor."""

from __future__ import annotations

from collections.abc import Callable

import requests
import sqlalchemy as sa

from ..config import Settings
from ..provider_notes import ProviderNotes
from .base import Clock, PollingProvider, ProviderContext
from .cisco import CiscoPwsProvider
from .glance import GlanceProvider
from .salesforce import SalesforceProvider
from .servicenow import ServiceNowProvider

ProviderFactory = Callable[[ProviderContext], PollingProvider]

REGISTRY: dict[str, ProviderFactory] = {
    "servicenow": ServiceNowProvider.from_context,
    "cisco": CiscoPwsProvider.from_context,
    "glance": GlanceProvider.from_context,
    "salesforce": SalesforceProvider.from_context,
}


def build_providers(settings: Settings, clock: Clock, engine: sa.Engine) -> list[PollingProvider]:
    """Instantiate every provider whose config section is present."""
    people = settings.people()
    built = []
    for name, factory in REGISTRY.items():
        if getattr(settings.providers, name, None) is not None:
            session = requests.Session()
            session.headers["User-Agent"] = "presence-dash"
            notes = ProviderNotes(engine, name)
            built.append(factory(ProviderContext(settings, people, session, clock, notes)))
    return built
