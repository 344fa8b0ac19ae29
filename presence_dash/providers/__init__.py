"""The providers: one package per vendor (`providers/<vendor>/`, exporting a `ProviderSpec`),
listed in `registry.py`; the rest of the app iterates the registry and never names a vendor."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import requests
import sqlalchemy as sa

from presence_dash.core.clock import Clock
from presence_dash.providers.base import PollingProvider, ProviderContext
from presence_dash.providers.notes import ProviderNotes
from presence_dash.providers.registry import PROVIDERS
from presence_dash.providers.spec import ProviderSpec

if TYPE_CHECKING:  # config.py imports the registry, so this module cannot import it back
    from presence_dash.config import Settings


def build_providers(
    settings: Settings,
    clock: Clock,
    engine: sa.Engine,
    only: Callable[[ProviderSpec], bool] = lambda spec: True,
) -> list[PollingProvider]:
    """Instantiate every provider whose config section is present (and that `only` keeps)."""
    people = settings.people()
    built = []
    for spec in PROVIDERS:
        if getattr(settings.providers, spec.name, None) is not None and only(spec):
            session = requests.Session()
            session.headers["User-Agent"] = "presence-dash"
            notes = ProviderNotes(engine, spec.name)
            built.append(spec.factory(ProviderContext(settings, people, session, clock, notes)))
    return built
