"""The provider registry: one line per vendor. Adding a provider is its package under
providers/<vendor>/ (exporting `SPEC`), its simulator, and one line here."""

from __future__ import annotations

from presence_dash.providers import cisco, glance, salesforce, servicenow, teams
from presence_dash.providers.spec import ProviderSpec

# The order is the health strip's and the config's.
PROVIDERS: tuple[ProviderSpec, ...] = (
    servicenow.SPEC,
    cisco.SPEC,
    glance.SPEC,
    salesforce.SPEC,
    teams.SPEC,
)


def provider_spec(name: str) -> ProviderSpec | None:
    return next((spec for spec in PROVIDERS if spec.name == name), None)


def provider_labels() -> dict[str, str]:
    """Names shown for each provider, for the templates and static/js/labels.js."""
    return {spec.name: spec.label for spec in PROVIDERS}
