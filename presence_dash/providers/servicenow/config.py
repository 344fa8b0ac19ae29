"""`[providers.servicenow]` and the person's sys_id (docs/providers/servicenow.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from presence_dash.providers.config_base import EnvName, ProviderCommon


class ServiceNowConfig(ProviderCommon):
    username: str
    password_env: EnvName
    poll_seconds: float = Field(5, ge=0.05, le=3600)
    online_within_s: float = Field(30, gt=0)
    away_within_s: float = Field(60, gt=0)
    # "ui": the UI16 presence endpoint; "table": sys_user_presence through the Table API.
    mode: Literal["ui", "table"] = "ui"
    # Names the public sources disagree on or leave open (docs/providers/servicenow.md).
    request_method: Literal["GET", "POST"] = "POST"
    users_field: str = "users"
    user_id_key: str = "user"
    batch_size: int = Field(500, ge=1, le=10_000)

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> ServiceNowConfig:
        if self.away_within_s < self.online_within_s:
            raise ValueError("away_within_s must be >= online_within_s")
        return self


def check_sys_id(value: str) -> str:
    """A person's `servicenow` key: the sys_user record's sys_id."""
    if not (len(value) == 32 and all(c in "0123456789abcdef" for c in value)):
        raise ValueError("expected a 32-character sys_id (lowercase hex)")
    return value
