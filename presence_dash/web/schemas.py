"""The JSON request bodies the API accepts: one pydantic model per body (bodies.py says
which endpoint takes which), and the check that turns a mismatch into the API's error.

A body is checked against its model before the handler runs (web/request_limits.py), so a
handler never meets a value of the wrong type: a list where a person id belongs, a number
beyond 64 bits, a NUL character that PostgreSQL refuses to store (each of those was a 500).
The handlers' own rules (a known person, a start time in the future) still decide what the
values mean. The same models are the request schemas of the OpenAPI document (openapi.py).

Errors keep the codes the API always had (docs/api.md): each body names its code, and a
field may name its own (`"prefs"`, or `"prefs:extra_forbidden"` for one kind of error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# Row ids (kiosk tokens, audit entries) are INTEGER columns: 32 bits on PostgreSQL.
ROW_ID_MAX = 2**31 - 1

# Text without NUL: PostgreSQL cannot store it in a text column (SQLite can, so the two
# databases would disagree), and no vendor field needs it.
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, StringConstraints(pattern=NO_NUL)]
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
# Glance group ids as the JSON number the API sends, or as digits (a query string's form).
GroupId = Int64 | Annotated[str, StringConstraints(pattern=r"^[0-9]{1,18}$")]


class Body(BaseModel):
    """Strict (no "1" for 1, no true for 1); unknown fields refused unless a body allows them."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class CobrowseBody(Body):
    group_id: GroupId | None = None


class SignalBody(Body):
    mtype: Literal["invoke", "signal"]
    data: dict[str, Any] = Field(
        description="invoke: {func: 'GLANCE.…', args?: [...]}; at most 4 KB and 5 levels"
    )
    group_id: GroupId | None = None


class KioskTokenBody(Body):
    model_config = ConfigDict(extra="allow")
    name: Annotated[str, StringConstraints(pattern=NO_NUL, min_length=1, max_length=100)]


@dataclass(frozen=True)
class BodySpec:
    model: type[BaseModel]
    code: str  # for a body that is absent, not JSON, not an object, or a field without a code
    field_codes: Mapping[str, str] = field(default_factory=dict)
    required: bool = True


class BodyRefused(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_body(spec: BodySpec, value: Any) -> None:
    """Raise BodyRefused (with the API's error code) unless `value` fits `spec.model`."""
    try:
        spec.model.model_validate(value)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        loc = [str(part) for part in error["loc"]]
        if not loc:
            raise BodyRefused(spec.code, "the body must be a JSON object") from None
        code = spec.field_codes.get(f"{loc[0]}:{error['type']}") or spec.field_codes.get(
            loc[0], spec.code
        )
        message = error["msg"]
        if error.get("ctx", {}).get("pattern") == NO_NUL:
            message = "NUL characters are not accepted"
        raise BodyRefused(code, f"{'.'.join(loc)}: {message}") from None
