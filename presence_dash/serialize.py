"""Board values -> the JSON shapes of the CONTRACT (PERSON, PROVIDER, snapshot)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .board import Snapshot
from .model import PersonView, ProviderHealth
from .timefmt import iso_z


def person_json(view: PersonView) -> dict[str, Any]:
    return {
        "id": view.id,
        "name": view.name,
        "team": view.team,
        "status": view.status.value,
        "since": iso_z(view.since),
        "detail": view.detail,
        "sources": {
            name: {
                "status": src.status.value,
                "detail": src.detail,
                "observed_at": iso_z(src.observed_at),
                "stale": src.stale,
                "activity": src.activity,
            }
            for name, src in view.sources.items()
        },
        # CONTRACT v1.1
        "activity": view.activity,
        "activity_source": view.activity_source,
        "since_exact": view.since_exact,
    }


def provider_json(health: ProviderHealth) -> dict[str, Any]:
    return {
        "state": health.state.value,
        "last_success": iso_z(health.last_success),
        "error": health.error,
    }


def providers_json(health: dict[str, ProviderHealth]) -> dict[str, Any]:
    return {name: provider_json(h) for name, h in sorted(health.items())}


def without_error_details(providers: dict[str, Any]) -> dict[str, Any]:
    """PROVIDER objects for non-admins: the state stays, the vendor's error text (host
    names, account names, vendor messages) is for admins only."""
    return {name: {**body, "error": None} for name, body in providers.items()}


def snapshot_json(snapshot: Snapshot, now: datetime) -> dict[str, Any]:
    return {
        "seq": snapshot.seq,
        "server_time": iso_z(now),
        "people": [person_json(p) for p in snapshot.people],
        "providers": providers_json(snapshot.providers),
    }
