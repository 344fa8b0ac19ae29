"""Board values -> the JSON shapes of the CONTRACT (PERSON, PROVIDER; the snapshot's text is
put together from these in snapshot_cache.py)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from presence_dash.core.model import PersonView, ProviderHealth
from presence_dash.core.timefmt import iso_z


def person_json(
    view: PersonView, stamp: Callable[[datetime], str | None] = iso_z
) -> dict[str, Any]:
    """PERSON; `stamp` writes each source's `observed_at` (person_parts puts markers there)."""
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
                "observed_at": stamp(src.observed_at),
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


def to_json(body: Any) -> str:
    """JSON text as python-socketio and Flask write it: compact, ASCII, keys in order."""
    return json.dumps(body, separators=(",", ":"))


# Put where each observed_at goes, then cut there: random, so no vendor text can contain it.
_MARK = f"\x00observed-{secrets.token_hex(8)}"
_MARK_JSON = to_json(_MARK)


def person_parts(view: PersonView) -> list[str]:
    """PERSON as JSON text cut where each source's `observed_at` goes (one more part than
    sources, in source name order): observed_at moves on every poll while nothing a user sees
    changes, so the parts stay valid until the person changes and only the times are filled
    in again (`join_person`)."""
    return to_json(person_json(view, stamp=lambda _: _MARK)).split(_MARK_JSON)


def join_person(parts: list[str], observed: Sequence[str]) -> str:
    """The PERSON text from `person_parts` and each source's observed_at as JSON text."""
    if len(observed) == 1:  # the common case, without building a list
        return parts[0] + observed[0] + parts[1]
    pieces = [parts[0]]
    for stamp, part in zip(observed, parts[1:], strict=True):
        pieces += (stamp, part)
    return "".join(pieces)


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
