"""The JSON the API answers with, as pydantic models: the response schemas of the OpenAPI
document (openapi.py). Nothing builds answers from these (serialize.py, screenmeet/wire.py,
visitor_push.py and the handlers do); the schemathesis run and tests/test_openapi.py check
real answers against them, so a field added, renamed or retyped without its schema fails.

Objects the CONTRACT fixes (PERSON, PROVIDER, the error body) allow no other fields.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Timestamp = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$",
        description="ISO 8601 UTC with milliseconds and Z",
    ),
]
Status = Literal["online", "busy", "away", "offline", "unknown"]
ProviderStateName = Literal["ok", "degraded", "down", "disabled"]
RoleName = Literal["viewer", "agent", "admin"]


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    """An answer that may grow fields (documented ones are still checked)."""

    model_config = ConfigDict(extra="allow")


class ErrorDetail(Closed):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    message: str


class Error(Closed):
    error: ErrorDetail


class Source(Closed):
    status: Status
    detail: str | None
    observed_at: Timestamp | None
    stale: bool
    activity: str | None


class Person(Closed):
    id: str
    name: str
    team: str
    status: Status
    since: Timestamp | None
    detail: str | None
    sources: dict[str, Source]
    activity: str | None = Field(description="what the person is doing, as a source said it")
    activity_source: str | None = Field(description="the source that decided the status")
    since_exact: bool = Field(description="false: since is when this dashboard first saw it")


class Provider(Closed):
    state: ProviderStateName
    last_success: Timestamp | None
    error: str | None = Field(description="null except for admins")


class Presence(Closed):
    seq: int
    server_time: Timestamp
    people: list[Person]
    providers: dict[str, Provider]


class Change(Closed):
    from_: Status = Field(alias="from")
    to: Status
    at: Timestamp


class SourceChange(Change):
    activity: str | None = Field(description="what the source said the person was doing")
    detail: str | None = Field(description="the source's raw vendor state")


class History(Closed):
    person_id: str
    hours: float
    changes: list[Change]
    sources: dict[str, list[SourceChange]] = Field(
        description="per source, newest first; the last may be older than the window: the "
        "change in force when the window began (v1.1)"
    )


class Alert(Closed):
    id: str = Field(description="team:<team>:<kind> or person:<person id>:<kind>")
    kind: Literal["below_minimum", "away_too_long", "busy_too_long"]
    team: str
    person_id: str | None
    since: Timestamp = Field(description="when the condition began")
    value: int = Field(description="people online (team) or minutes in the status (person)")
    threshold: int
    message: str


class TeamAlertState(Closed):
    min_online: int | None
    max_away_minutes: int | None
    max_busy_minutes: int | None
    people: int
    online: int
    short: bool


class Alerts(Closed):
    server_time: Timestamp
    alerts: list[Alert]
    teams: dict[str, TeamAlertState]


class Visitor(Open):
    group_id: int
    visitor_id: str
    status: Literal["present"]
    since: Timestamp | None
    metadata: dict[str, Any]


class Visitors(Closed):
    seq: int
    enabled: bool
    visitors: list[Visitor]
    counts: dict[str, int]
    labels: dict[str, str] | None = Field(None, description="group names; only with Glance")


class SignalSent(Closed):
    status: Literal["sent"]
    visitor_id: str
    group_id: int
    mtype: Literal["invoke", "signal"]


class Session(Open):
    id: str
    type: str
    label: str
    status: str = Field(description="new, scheduled, closed, or another ScreenMeet status")
    scheduled: bool
    start_time: Timestamp | None
    pin: str | None
    user_url: str | None
    expires_at: Timestamp | None
    expired: bool
    settings: dict[str, Any]
    parent_object_table: str
    parent_object_sys_id: str
    parent_object_display_name: str
    person_id: str | None
    notes: list[str]
    created_by: str
    created_at: Timestamp
    updated_at: Timestamp
    closed_by: str | None
    closed_at: Timestamp | None


class CreatedSession(Session):
    host_url: str | None = Field(description="the agent's host view; only in this answer")


class Sessions(Closed):
    enabled: bool
    sessions: list[Session]


class IdentityJson(Closed):
    name: str
    role: RoleName
    via: str


class Me(Closed):
    signed_in: bool
    identity: IdentityJson | None


class AuditEntry(Closed):
    id: int
    at: Timestamp
    actor: str
    role: str
    action: str
    target: str
    params: Any
    result: str
    status: int
    client_addr: str


class AuditPage(Closed):
    entries: list[AuditEntry]
    next_before_id: int | None


class KioskToken(Closed):
    id: int
    name: str
    created_by: str
    created_at: Timestamp
    revoked_by: str | None
    revoked_at: Timestamp | None
    active: bool


class CreatedKioskToken(KioskToken):
    wall_url: str = Field(description="shown once")


class KioskTokens(Closed):
    tokens: list[KioskToken]


class Health(Closed):
    status: Literal["ok"]


class Ready(Closed):
    ready: bool
    providers: dict[str, Provider]
    database: str
    problems: dict[str, str]
