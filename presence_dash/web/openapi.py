"""The OpenAPI 3.1 document of the HTTP API, served at `GET /api/openapi.json`.

Paths and path parameters come from the app's own URL map; request bodies from the schemas
the requests are checked against (bodies.py); response bodies from responses.py. What no
model can say (summaries, query parameters, which statuses a route answers, HTML pages and
vendor callbacks) is the table below, one entry per endpoint and method.
tests/test_openapi.py fails for a route without an entry, and the schemathesis run checks
real answers against the document.

Errors every route shares are added from what the request layer does: 400 `bad_request`
(NUL, a path number too large for a row id), 401/403 from the sign-in gate unless the route
is public, 403 `csrf_failed`/`cross_site_request`, 413 `body_too_large` and 429
`rate_limited` on state-changing calls, 404 where a path has parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.routing import Rule as UrlRule

from presence_dash.auth.policy import rule_for_route
from presence_dash.storage.idempotency import IDEMPOTENCY_HEADER, KEY_FORMAT
from presence_dash.web import responses as r
from presence_dash.web.bodies import BODIES
from presence_dash.web.schemas import ROW_ID_MAX

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HTML = "text/html"
TEXT = "text/plain"
ANY = "*/*"
REDIRECT = "redirect"

# A response: a model (JSON), a media type for non-JSON answers, or REDIRECT (a 302).
Answer = type[BaseModel] | str


@dataclass(frozen=True)
class Param:
    name: str
    schema: Mapping[str, Any]
    description: str = ""
    where: str = "query"


@dataclass(frozen=True)
class Op:
    summary: str
    answers: Mapping[int, Answer | tuple[Answer, ...]]
    params: tuple[Param, ...] = ()
    form: tuple[str, ...] = ()  # fields of an HTML form body
    tags: tuple[str, ...] = field(default=())


IDEMPOTENCY = Param(
    IDEMPOTENCY_HEADER, {"type": "string", "pattern": KEY_FORMAT.pattern}, where="header"
)
AUDIT_QUERY = (
    Param("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}),
    Param("before_id", {"type": "integer"}, "page on: the last id seen"),
    Param("actor", {"type": "string"}),
    Param("action", {"type": "string"}, "an endpoint name, e.g. visitors.cobrowse"),
    Param("since", {"type": "string", "format": "date-time"}, "ISO 8601 with a zone"),
)
TEAM = Param("team", {"type": "string"}, "show one team")
SCREENMEET_ERRORS = {409: r.Error, 422: r.Error, 502: r.Error, 503: r.Error, 504: r.Error}
GLANCE_ERRORS = {409: r.Error, 413: r.Error, 422: r.Error, 502: r.Error, 503: r.Error, 504: r.Error}
GROUP_ID = Param("group_id", {"type": "string", "pattern": r"^[0-9]{1,18}$"}, "a Glance group")

# (endpoint, method) -> what the table knows about it.
OPERATIONS: dict[tuple[str, str], Op] = {
    ("static", "GET"): Op("Static files (scripts, styles, images)", {200: ANY, 404: HTML}),
    ("pages.agent_view", "GET"): Op("The agent view", {200: HTML, 302: REDIRECT}, (TEAM,)),
    ("pages.wall_view", "GET"): Op(
        "The wall view (kiosk)",
        {200: HTML, 302: REDIRECT},
        (TEAM, Param("kiosk", {"type": "string"}, "a kiosk link's token")),
    ),
    ("auth.login_form", "GET"): Op(
        "The sign-in form", {200: HTML}, (Param("next", {"type": "string"}),)
    ),
    ("auth.login", "POST"): Op(
        "Sign in (form)",
        {302: REDIRECT, 400: HTML, 401: HTML, 429: HTML},
        form=("username", "password", "csrf_token", "next"),
    ),
    ("auth.logout", "POST"): Op("Sign out", {302: REDIRECT}, form=("csrf_token",)),
    ("auth.me", "GET"): Op("Who am I", {200: r.Me}),
    ("auth.admin_page", "GET"): Op("The admin page", {200: HTML}, AUDIT_QUERY),
    ("auth.audit_log", "GET"): Op("The audit log, newest first", {200: r.AuditPage}, AUDIT_QUERY),
    ("auth.list_kiosk_tokens", "GET"): Op("Kiosk links", {200: r.KioskTokens}),
    ("auth.create_kiosk_token", "POST"): Op("Create a kiosk link", {201: r.CreatedKioskToken}),
    ("auth.revoke_kiosk_token", "DELETE"): Op("Revoke a kiosk link", {200: r.KioskToken}),
    ("auth.admin_create_kiosk_token", "POST"): Op(
        "Create a kiosk link (admin page form)",
        {302: REDIRECT, 400: HTML},
        form=("name", "csrf_token"),
    ),
    ("auth.admin_revoke_kiosk_token", "POST"): Op(
        "Revoke a kiosk link (admin page form)", {302: REDIRECT, 404: HTML}, form=("csrf_token",)
    ),
    ("api.presence", "GET"): Op("Everyone's presence (the snapshot)", {200: r.Presence}),
    ("api.person_history", "GET"): Op(
        "A person's status changes, newest first",
        {200: r.History},
        (Param("hours", {"type": "number", "exclusiveMinimum": 0, "maximum": 744}),),
    ),
    ("api.openapi_document", "GET"): Op("This document", {200: "application/json"}),
    ("alerts_api.list_alerts", "GET"): Op(
        "Open threshold alerts and each team's online count", {200: r.Alerts}
    ),
    ("health.healthz", "GET"): Op("The process is alive", {200: r.Health}),
    ("health.readyz", "GET"): Op("Providers and database are ready", {200: r.Ready, 503: r.Ready}),
    ("health.metrics", "GET"): Op("Prometheus metrics", {200: TEXT}),
    **{
        ("hooks.vendor_hook", method): Op(
            "A vendor's callback, handled by that provider", {200: ANY, 202: ANY, 204: ANY}
        )
        for method in ("GET", "POST", "PUT", "DELETE")
    },
    ("screenmeet.list_sessions", "GET"): Op(
        "ScreenMeet sessions, newest first",
        {200: r.Sessions},
        (Param("closed", {"type": "string", "enum": ["0", "1", "false", "true"]}),),
    ),
    ("screenmeet.create_session", "POST"): Op(
        "Start or schedule a ScreenMeet session",
        {201: r.CreatedSession, **SCREENMEET_ERRORS},
        (IDEMPOTENCY,),
    ),
    ("screenmeet.reschedule_session", "PATCH"): Op(
        "Reschedule a scheduled session", {200: r.Session, **SCREENMEET_ERRORS}, (IDEMPOTENCY,)
    ),
    ("screenmeet.close_session", "DELETE"): Op(
        "Close a session", {200: r.Session, **SCREENMEET_ERRORS}, (IDEMPOTENCY,)
    ),
    ("visitors.list_visitors", "GET"): Op("Visitors on the web site (Glance)", {200: r.Visitors}),
    ("visitors.cobrowse", "POST"): Op(
        "Start co-browsing with a visitor",
        {200: r.SignalSent, **GLANCE_ERRORS},
        (IDEMPOTENCY, GROUP_ID),
    ),
    ("visitors.signal", "POST"): Op(
        "Send a visitor a Glance signal",
        {200: r.SignalSent, **GLANCE_ERRORS},
        (IDEMPOTENCY, GROUP_ID),
    ),
}

_PARAM = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>[a-z_]+)>")


def document(app: Flask) -> dict[str, Any]:
    """The document for `app` (built once per app; its routes do not change after start)."""
    cached = app.extensions.get("openapi_document")
    if cached is None:
        cached = app.extensions["openapi_document"] = _build(app)
    return cached


def missing_operations(app: Flask) -> list[str]:
    """`METHOD rule (endpoint)` of every route the table has no entry for."""
    return [
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule in app.url_map.iter_rules()
        for method in _methods(rule)
        if (rule.endpoint, method) not in OPERATIONS
    ]


def _methods(rule: UrlRule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def _build(app: Flask) -> dict[str, Any]:
    models: set[type[BaseModel]] = {spec.model for spec in BODIES.values()}
    for op in OPERATIONS.values():
        for answer in op.answers.values():
            models.update(a for a in _answers(answer) if isinstance(a, type))
    models |= {r.Error}
    ordered = sorted(models, key=lambda m: m.__name__)
    _keys, schemas = models_json_schema(
        [(m, "validation") for m in ordered], ref_template=REF, title="presence-dash"
    )
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda u: u.rule):
        template, params = _path(rule)
        for method in _methods(rule):
            op = OPERATIONS.get((rule.endpoint, method))
            if op is not None:
                paths.setdefault(template, {})[method.lower()] = _operation(
                    rule, method, template, op, params
                )
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "presence-dash",
            "version": "1.1",
            "description": "Real-time presence dashboard; see docs/api.md. Errors are "
            '{"error": {"code", "message"}}. State-changing calls need the X-CSRFToken '
            "header when sign-in is on.",
        },
        "paths": paths,
        "components": {"schemas": schemas.get("$defs", {})},
    }


def _answers(answer: Answer | tuple[Answer, ...]) -> tuple[Answer, ...]:
    return answer if isinstance(answer, tuple) else (answer,)


def _path(rule: UrlRule) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for found in _PARAM.finditer(rule.rule):
        schema: dict[str, Any] = {"type": "string"}
        if found["converter"] == "int":
            schema = {"type": "integer", "minimum": 0, "maximum": ROW_ID_MAX}
        params.append({"name": found["name"], "in": "path", "required": True, "schema": schema})
    return _PARAM.sub(lambda m: "{" + m["name"] + "}", rule.rule), params


def _operation(
    rule: UrlRule, method: str, template: str, op: Op, path_params: list[dict[str, Any]]
) -> dict[str, Any]:
    access = rule_for_route(rule.endpoint)
    json_errors = template.startswith(("/api/", "/hooks/")) or method != "GET"
    error: Answer | tuple[Answer, ...] = r.Error if json_errors else (r.Error, HTML)
    answers: dict[int, Answer | tuple[Answer, ...]] = {400: error}
    if access is None or access.role is not None:
        answers[403] = error
        if template.startswith("/api/") or method != "GET":
            answers[401] = r.Error
    if method in STATE_CHANGING:
        answers.update({403: error, 413: r.Error})
        if template.startswith("/api/"):
            answers[429] = r.Error
    if path_params:
        answers[404] = error
    for status, answer in op.answers.items():
        merged = _answers(answers[status]) if status in answers else ()
        answers[status] = tuple(dict.fromkeys((*_answers(answer), *merged)))
    result: dict[str, Any] = {
        "operationId": _operation_id(rule, method, template),
        "summary": op.summary,
        "x-access": "public" if access is None or access.role is None else access.role.label,
        "parameters": [*path_params, *(_param(p) for p in op.params)],
        "responses": {str(s): _response(s, answers[s]) for s in sorted(answers)},
    }
    body = _request_body(rule.endpoint, op)
    if body is not None:
        result["requestBody"] = body
    return result


def _operation_id(rule: UrlRule, method: str, template: str) -> str:
    suffix = "_sub" if template.count("{") > 1 and rule.endpoint == "hooks.vendor_hook" else ""
    return f"{rule.endpoint}.{method.lower()}{suffix}"


def _param(p: Param) -> dict[str, Any]:
    out = {"name": p.name, "in": p.where, "required": False, "schema": dict(p.schema)}
    if p.description:
        out["description"] = p.description
    return out


def _request_body(endpoint: str, op: Op) -> dict[str, Any] | None:
    spec = BODIES.get(endpoint)
    if spec is not None:
        return {
            "required": spec.required,
            "content": {
                "application/json": {"schema": {"$ref": REF.format(model=spec.model.__name__)}}
            },
        }
    if op.form:
        fields = {name: {"type": "string"} for name in op.form}
        schema = {"type": "object", "properties": fields}
        return {"content": {"application/x-www-form-urlencoded": {"schema": schema}}}
    return None


def _response(status: int, answer: Answer | tuple[Answer, ...]) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for one in _answers(answer):
        if one == REDIRECT:
            return {"description": "redirect (see Location)"}
        if isinstance(one, str):
            content[one] = {"schema": {}}
        else:
            content["application/json"] = {"schema": {"$ref": REF.format(model=one.__name__)}}
    return {"description": _DESCRIPTIONS.get(status, "see docs/api.md"), "content": content}


_DESCRIPTIONS = {
    200: "OK",
    201: "created",
    202: "accepted",
    204: "no content",
    302: "redirect",
    400: "bad request (see the error code)",
    401: "sign in first",
    403: "refused: role, CSRF token, cross-site, no access rule",
    404: "no such thing",
    409: "conflict with the current state",
    413: "request body too large",
    422: "Idempotency-Key reused for a different request",
    429: "too many requests; see Retry-After",
    502: "the vendor refused or failed",
    503: "not ready, or the feature is not configured",
    504: "the vendor did not answer in time",
}
