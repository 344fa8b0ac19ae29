"""What any request must be before a handler sees it: at most MAX_CONTENT_LENGTH bytes (413
`body_too_large`), no NUL anywhere (400 `bad_request`: PostgreSQL refuses to store it, so a
NUL reached a 500 there and not on SQLite), path numbers that fit a row id, JSON nested at
most json_body.MAX_DEPTH deep (400 `body_too_deep`), and a JSON body that fits its schema
(bodies.py; 400 with the route's own code).

The checks run after the sign-in gate (registered later, so a stranger learns nothing about
the schemas) and before the handler. `audit_body` gives the audit hook the body without
reading or parsing it unsafely a second time.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from presence_dash.web import json_body
from presence_dash.web.bodies import BODIES
from presence_dash.web.errors import error_response
from presence_dash.web.schemas import ROW_ID_MAX, BodyRefused, BodySpec, check_body

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Vendor callbacks read their raw bytes themselves: parsing a form there would consume them.
RAW_BODY_BLUEPRINTS = frozenset({"hooks"})
_PARSED = "request_limits_body"  # g: the JSON body parsed by the schema check
_REFUSED = "request_limits_refused"  # g: the body was refused unread (too large)


def register_request_limits(app: Flask) -> None:
    """Install the bounded JSON parser, the checks and the 413 answer on `app`."""
    provider = json_body.BoundedJSONProvider(app)
    provider.sort_keys = app.json.sort_keys  # type: ignore[attr-defined]
    app.json = provider
    app.before_request(_check_request)
    app.register_error_handler(RequestEntityTooLarge, _too_large)


def _too_large(_exc: Exception | None = None) -> ResponseReturnValue:
    g.setdefault(_REFUSED, True)
    limit = request.max_content_length
    return error_response(
        413, "body_too_large", f"the request body is larger than the limit of {limit} bytes"
    )


def _over_limit() -> bool:
    limit = request.max_content_length
    return limit is not None and (request.content_length or 0) > limit


def _check_request() -> ResponseReturnValue | None:
    if _over_limit():
        return _too_large()  # before anything reads it
    where = _nul_in_request()
    if where:
        return error_response(400, "bad_request", f"NUL characters are not accepted ({where})")
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int) and not 0 <= value <= ROW_ID_MAX:
            return error_response(400, "bad_request", f"{name} is out of range (0-{ROW_ID_MAX})")
    spec = BODIES.get(request.endpoint or "")
    if spec is None:
        return None
    try:
        present, value = _json_body(spec)
        if present or spec.required:
            check_body(spec, value)
    except json_body.BodyTooDeep as exc:
        return error_response(400, "body_too_deep", str(exc))
    except BodyRefused as exc:
        return error_response(400, exc.code, exc.message)
    return None


def _nul_in_request() -> str | None:
    """Where a NUL is, if anywhere: path, query, headers, form fields (JSON bodies: schemas)."""
    if "\x00" in request.path:
        return "path"
    if any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        return "query"
    if any("\x00" in k or "\x00" in v for k, v in request.headers.items()):
        return "headers"
    if request.mimetype in FORM_TYPES and request.blueprint not in RAW_BODY_BLUEPRINTS:
        form = request.form.items(multi=True)
        if any("\x00" in k or "\x00" in v for k, v in form):
            return "form"
    return None


def _json_body(spec: BodySpec) -> tuple[bool, Any]:
    """(present, value) of the request's JSON body, parsed once with the bounded parser and
    kept for the audit row."""
    data = request.get_data(cache=True)
    if not data.strip():
        return False, None
    if not request.is_json:
        raise BodyRefused(spec.code, "expected a JSON body (Content-Type: application/json)")
    try:
        value = json_body.loads(data)
    except json_body.BodyTooDeep:
        raise
    except ValueError:
        raise BodyRefused(spec.code, "the body is not valid JSON") from None
    setattr(g, _PARSED, value)
    return True, value


def audit_body() -> Any:
    """The request body for its audit row. Never raises, and never reads a body again that
    was refused for its size: the one parsed by the schema check if there was one, else a
    bounded parse of the already size-checked bytes, else a note saying why there is none."""
    if _PARSED in g:
        return g.get(_PARSED)
    if g.get(_REFUSED) or _over_limit():
        return f"[not recorded: larger than {request.max_content_length} bytes]"
    try:
        if request.is_json:
            return json_body.loads(request.get_data(cache=True))
        return request.form.to_dict() or None
    except json_body.BodyTooDeep:
        return f"[not recorded: nested more than {json_body.MAX_DEPTH} levels deep]"
    except (ValueError, HTTPException):  # not JSON after all; a chunked body over the limit
        return None
