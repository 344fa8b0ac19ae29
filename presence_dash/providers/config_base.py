"""Config pieces every provider's config model is built from (`providers/<vendor>/config.py`).

Kept apart from config.py, which builds `[providers]` and the person id keys from the
registry: a provider's config must import without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints


class Section(BaseModel):
    """A config table: unknown keys are errors (they are usually typos), values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class ProviderCommon(Section):
    base_url: HttpUrl
    timeout_seconds: float = Field(10, gt=0, le=300)
    # Longest wait between retries while the provider fails for a reason that fixes itself
    # (timeouts, 5xx, malformed answers); None: the provider's retry interval + 5 s, so dots
    # are right again within that long of the vendor answering (docs/reliability.md).
    # Credentials refused back off longer whatever this says; a vendor's Retry-After wins.
    max_backoff_seconds: float | None = Field(None, ge=1, le=3600)


MappedStatus = Literal["online", "busy", "away", "offline", "unknown"]


class StateMapping(Section):
    """What one vendor state means: a status and the activity text shown with it."""

    status: MappedStatus
    activity: Annotated[str, StringConstraints(max_length=60)] | None = None


def _state_mapping(value: Any) -> Any:
    # `state_map = {DND = "busy"}` (the v1 form) stays valid: a bare status, no activity.
    return {"status": value} if isinstance(value, str) else value


StateMap = dict[str, Annotated[StateMapping, BeforeValidator(_state_mapping)]]


def state_table(rows: Mapping[str, tuple[MappedStatus, str | None]]) -> dict[str, StateMapping]:
    """A provider's default state table from (status, activity) rows."""
    return {state: StateMapping(status=st, activity=act) for state, (st, act) in rows.items()}
