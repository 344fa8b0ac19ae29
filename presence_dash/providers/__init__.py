"""The provider registry: one line per vendor; the rest of the app never names a vendor."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import requests

from ..config import Settings
from ..model import Person
from .base import Clock, PollingProvider
from .servicenow import ServiceNowProvider

ProviderFactory = Callable[[Settings, Sequence[Person], requests.Session, Clock], PollingProvider]

REGISTRY: dict[str, ProviderFactory] = {
    "servicenow": ServiceNowProvider.from_settings,
}


def build_providers(settings: Settings, clock: Clock) -> list[PollingProvider]:
    """Instantiate every provider whose config section is present."""
    people = settings.people()
    built = []
    for name, factory in REGISTRY.items():
        if getattr(settings.providers, name, None) is not None:
            session = requests.Session()
            session.headers["User-Agent"] = "presence-dash"
            built.append(factory(settings, people, session, clock))
    return built
