"""A local stand-in for Microsoft Graph presence and the Entra ID token endpoint.

Speaks what docs/providers/teams.md cites, quirks included: the client-credentials token
endpoint `POST /{tenant}/oauth2/v2.0/token` (form-encoded, `scope` must be a `/.default`,
OAuth errors `{"error", "error_description": "AADSTS...", "error_codes"}`, opaque bearer
tokens that lapse after `expires_in`), and `POST /v1.0/communications/getPresencesByUserId`
with `{"ids": [...]}`: at most 650 ids (more is a 400), 1,500 requests per 30 s per app
before a 429 with `Retry-After`, Graph's error body `{"error": {"code", "message",
"innerError"}}`, a 401 `InvalidAuthenticationToken` for a lapsed token, a 403 without the
`Presence.Read.All` consent. Ids that are no Teams user come back `PresenceUnknown`
(`unknown_ids = "omit"` leaves them out instead, which the docs do not rule out). The
directory answers `GET /v1.0/users/{id | userPrincipalName}` (names matched without regard
to case, the `/users('$name@x')` form too, 404 `Request_ResourceNotFound` for nobody, 403
`Authorization_RequestDenied` without `User.Read.All`), alone or inside `POST /v1.0/$batch`
(at most 20 requests, answers in any order: here reversed, each with its own status).
Shares no code with the adapter (providers/teams/{config,graph,mapping,provider}.py) so each
can catch the other's mistakes; it uses only the simulators' shared `/_sim/` routes.

Scripted mode (tests) is driven over HTTP under `/_sim/`: set users' presence, expire tokens,
change settings, queue faults, read the request log. Demo mode moves users through the
documented availability/activity pairs on its own.
"""

from __future__ import annotations

import math
import random
import re
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Flask, Response, jsonify, request

from presence_dash.simulators.control import add_fault_route

GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
MAX_IDS = 650
MAX_BATCH = 20
USER_PATH = re.compile(r"^/users(?:/(?P<plain>[^/()]+)|\('(?P<quoted>[^']+)'\))$")
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
FAULT_KINDS = {"429", "500", "503", "401", "slow", "malformed", "not_json", "token_500"}

# The Teams states and their Graph pairs ("Manage presence state using the Microsoft Graph
# API", presence state permutations), plus the idle and unknown values of the resource page.
DOCUMENTED_PAIRS: tuple[tuple[str, str], ...] = (
    ("Available", "Available"),
    ("Available", "OutOfOffice"),
    ("AvailableIdle", "Inactive"),
    ("Busy", "Busy"),
    ("Busy", "InACall"),
    ("Busy", "InAConferenceCall"),
    ("Busy", "InAMeeting"),
    ("BusyIdle", "InAMeeting"),
    ("DoNotDisturb", "DoNotDisturb"),
    ("DoNotDisturb", "Presenting"),
    ("DoNotDisturb", "UrgentInterruptionsOnly"),
    ("Away", "Away"),
    ("BeRightBack", "BeRightBack"),
    ("Offline", "OffWork"),
    ("Offline", "Offline"),
    ("Offline", "OutOfOffice"),
    ("PresenceUnknown", "PresenceUnknown"),
)
# Demo weights: mostly at work, some in calls and meetings, a few away or gone.
DEMO_WEIGHTS = (8, 1, 1, 2, 3, 1, 3, 1, 1, 1, 1, 2, 1, 2, 1, 1, 0)


@dataclass
class GraphUser:
    availability: str = "Available"
    activity: str = "Available"
    out_of_office: bool = False
    sequence: int = 0

    def presence(self, user_id: str) -> dict[str, Any]:
        """All properties, as "an actual call" returns them (the docs' example is shortened)."""
        return {
            "id": user_id,
            "availability": self.availability,
            "activity": self.activity,
            "statusMessage": None,
            "outOfOfficeSettings": {"message": None, "isOutOfOffice": self.out_of_office},
            "sequenceNumber": f"C{self.sequence:016d}",
        }


@dataclass
class GraphSim:
    """The simulated tenant. Token lifetimes run on `time.monotonic()`."""

    tenant_id: str = "8f2c5d4e-1b3a-4c6d-9e7f-0a1b2c3d4e5f"
    tenant_domain: str = "contoso.onmicrosoft.com"
    client_id: str = "535fb089-9ff3-47b6-9bfb-4f1264799865"
    client_secret: str = "secret"
    token_ttl_s: float = 3599.0
    permission_granted: bool = True  # Presence.Read.All with admin consent
    user_read_granted: bool = True  # User.Read.All with admin consent
    unknown_ids: str = "unknown"  # "unknown" (PresenceUnknown) | "omit"
    rate_limit: int = 1500  # requests per `rate_window_s` per app and tenant
    rate_window_s: float = 30.0
    users: dict[str, GraphUser] = field(default_factory=dict)  # by lower-case object id
    # casefolded user principal name -> (the name as written, its object id)
    directory: dict[str, tuple[str, str]] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)
    recent: deque[float] = field(default_factory=deque)  # presence request times
    faults: deque[dict[str, Any]] = field(default_factory=deque)
    requests_log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=2000))
    demo: dict[str, float] = field(default_factory=dict)  # user -> when its state ends
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set_user(
        self, user_id: str, availability: str, activity: str, out_of_office: bool = False
    ) -> None:
        with self.lock:
            key = user_id.lower()
            self.demo.pop(key, None)
            old = self.users.get(key)
            seq = old.sequence + 1 if old else 1
            self.users[key] = GraphUser(availability, activity, out_of_office, seq)

    def add_directory_user(self, upn: str, user_id: str) -> None:
        with self.lock:
            self.directory[upn.casefold()] = (upn, user_id)

    def lookup_user(self, url: str) -> tuple[int, dict[str, Any]]:
        """One `GET /users/{id | userPrincipalName}` (url relative to /v1.0): status, body."""
        parts = urlsplit(url if url.startswith("/") else "/" + url)
        match = USER_PATH.match(parts.path)
        if match is None:
            return 400, _error_body("BadRequest", f"Resource not found for the segment {url!r}.")
        key = unquote(match["plain"] or match["quoted"])
        if match["plain"] and key.startswith("$"):
            # Get user: "/users/$x@y.com fails with a 400 Bad Request" (OData system option).
            return 400, _error_body("BadRequest", "Invalid query option in the request URL.")
        if not self.user_read_granted:
            return 403, _error_body(
                "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
        with self.lock:
            entry = self.directory.get(key.casefold())
            if entry is None and GUID.match(key):
                entry = next(
                    (e for e in self.directory.values() if e[1].lower() == key.lower()), None
                )
        if entry is None:
            return 404, _error_body(
                "Request_ResourceNotFound",
                f"Resource '{key}' does not exist or one of its queried reference-property "
                "objects are not present.",
            )
        return 200, {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName)/$entity",
            "id": entry[1],
            "userPrincipalName": entry[0],
        }

    def add_demo_users(self, user_ids: list[str]) -> None:
        now = time.monotonic()
        with self.lock:
            for user_id in user_ids:
                self._demo_move(user_id.lower())
                self.demo[user_id.lower()] = now + self.rng.uniform(5, 90)

    def advance_demo(self) -> None:
        now = time.monotonic()
        for user_id, until in list(self.demo.items()):
            if now >= until:
                self._demo_move(user_id)
                self.demo[user_id] = now + self.rng.uniform(20, 150)

    def _demo_move(self, user_id: str) -> None:
        availability, activity = self.rng.choices(DOCUMENTED_PAIRS, DEMO_WEIGHTS)[0]
        old = self.users.get(user_id)
        seq = old.sequence + 1 if old else 1
        self.users[user_id] = GraphUser(availability, activity, activity == "OutOfOffice", seq)

    def issue_token(self) -> str:
        token = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(48)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_ttl_s
        return token

    def token_state(self, header: str) -> str:
        """ "valid", "expired" or "invalid" for an Authorization header."""
        token = header[7:] if header.startswith("Bearer ") else None
        with self.lock:
            expires = self.tokens.get(token or "")
        if expires is None:
            return "invalid"
        return "valid" if time.monotonic() < expires else "expired"

    def expire_tokens(self) -> int:
        with self.lock:
            now = time.monotonic()
            for token in self.tokens:
                self.tokens[token] = min(self.tokens[token], now)
            return len(self.tokens)

    def throttle_wait(self) -> int | None:
        """Seconds until a request fits the rate window again, or None (and counted)."""
        now = time.monotonic()
        with self.lock:
            while self.recent and self.recent[0] <= now - self.rate_window_s:
                self.recent.popleft()
            if len(self.recent) >= self.rate_limit:
                return max(1, math.ceil(self.recent[0] + self.rate_window_s - now))
            self.recent.append(now)
            return None

    def take_fault(self, token_endpoint: bool) -> dict[str, Any] | None:
        with self.lock:
            for fault in self.faults:
                if fault["kind"].startswith("token_") == token_endpoint:
                    self.faults.remove(fault)
                    return fault
            return None


def create_app(sim: GraphSim) -> Flask:
    app = Flask(__name__)

    @app.post("/<tenant>/oauth2/v2.0/token")
    def token(tenant: str) -> Any:
        fault = sim.take_fault(token_endpoint=True)
        sim.requests_log.append({"path": "token", "at": time.time(), "fault": _kind(fault)})
        if fault:
            return _graph_error(500, "InternalServerError", "The token service failed.")
        if tenant.lower() not in (sim.tenant_id.lower(), sim.tenant_domain.lower()):
            return _oauth_error(
                400, "invalid_request", 90002, f"Tenant '{tenant}' not found. Check the tenant id."
            )
        form = request.form
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if request.authorization and request.authorization.type == "basic":
            client_id = request.authorization.username  # RFC 6749 2.3.1, also supported
            client_secret = request.authorization.password
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        if client_id != sim.client_id:
            return _oauth_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory.",
            )
        if client_secret != sim.client_secret:
            return _oauth_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                "the client secret value, not the client secret ID.",
            )
        scope = form.get("scope", "")
        if scope != GRAPH_SCOPE:
            return _oauth_error(
                400,
                "invalid_scope",
                70011,
                f"The provided value for the input parameter 'scope' is not valid. The scope "
                f"{scope} is not valid.",
            )
        ttl = int(sim.token_ttl_s)
        return jsonify(
            {
                "token_type": "Bearer",
                "expires_in": ttl,
                "ext_expires_in": ttl,
                "access_token": sim.issue_token(),
            }
        )

    def refused_token() -> Any:
        auth = sim.token_state(request.headers.get("Authorization", ""))
        if auth == "expired":
            return _graph_error(
                401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
            )
        if auth == "invalid":
            return _graph_error(
                401, "InvalidAuthenticationToken", "Access token validation failure."
            )
        return None

    @app.get("/v1.0/users/<path:user>")
    def user(user: str) -> Any:
        if (refused := refused_token()) is not None:
            return refused
        sim.requests_log.append({"path": "user", "at": time.time(), "fault": None})
        query = request.query_string.decode()
        status, body = sim.lookup_user("/users/" + user + (f"?{query}" if query else ""))
        return jsonify(body), status

    @app.get("/v1.0/users('<path:user>')")
    def user_quoted(user: str) -> Any:
        if (refused := refused_token()) is not None:
            return refused
        sim.requests_log.append({"path": "user", "at": time.time(), "fault": None})
        status, body = sim.lookup_user(f"/users('{user}')")
        return jsonify(body), status

    @app.post("/v1.0/$batch")
    def batch() -> Any:
        if (refused := refused_token()) is not None:
            return refused
        body = request.get_json(silent=True)
        subs = body.get("requests") if isinstance(body, dict) else None
        count = len(subs) if isinstance(subs, list) else None
        sim.requests_log.append({"path": "batch", "requests": count, "at": time.time()})
        if not isinstance(subs, list) or not subs:
            return _graph_error(400, "BadRequest", "Invalid batch payload format.")
        if len(subs) > MAX_BATCH:
            return _graph_error(
                400, "BadRequest", f"Number of batch requests exceeds the limit of {MAX_BATCH}."
            )
        ids = [r.get("id") if isinstance(r, dict) else None for r in subs]
        if any(not isinstance(i, str) for i in ids) or len(set(ids)) != len(ids):
            return _graph_error(400, "BadRequest", "Each request needs a unique string 'id'.")
        responses = []
        for sub in subs:
            if sub.get("method") != "GET" or not isinstance(sub.get("url"), str):
                status, answer = 400, _error_body("BadRequest", "Only GET /users is simulated.")
            else:
                status, answer = sim.lookup_user(sub["url"])
            responses.append(
                {
                    "id": sub["id"],
                    "status": status,
                    "headers": {"Content-Type": "application/json"},
                    "body": answer,
                }
            )
        # "Responses might appear in a different order than the requests": reversed here.
        return jsonify({"responses": responses[::-1]})

    @app.post("/v1.0/communications/getPresencesByUserId")
    def presences() -> Any:
        if (refused := refused_token()) is not None:
            return refused
        fault = sim.take_fault(token_endpoint=False)
        body = request.get_json(silent=True)
        count = (
            len(body["ids"])
            if isinstance(body, dict) and isinstance(body.get("ids"), list)
            else None
        )
        sim.requests_log.append(
            {"path": "presences", "ids": count, "at": time.time(), "fault": _kind(fault)}
        )
        if fault and (early := _apply_fault(fault)) is not None:
            return early
        if not sim.permission_granted:
            return _graph_error(
                403, "Forbidden", "Insufficient privileges to complete the operation."
            )
        if (wait := sim.throttle_wait()) is not None:
            return _graph_error(
                429,
                "TooManyRequests",
                "Too many requests. Retry after the time in the Retry-After header.",
                {"Retry-After": str(wait)},
            )
        if not request.is_json:
            return _graph_error(
                415, "UnsupportedMediaType", "Content-Type must be application/json."
            )
        ids, problem = _requested_ids(body)
        if problem:
            return _graph_error(400, "BadRequest", problem)
        with sim.lock:
            sim.advance_demo()
            value = []
            for user_id in ids:
                user = sim.users.get(user_id.lower())
                if user is not None:
                    value.append(user.presence(user_id))
                elif sim.unknown_ids == "unknown":
                    value.append(GraphUser("PresenceUnknown", "PresenceUnknown").presence(user_id))
        if fault and fault["kind"] == "malformed":
            return jsonify({"presences": value})
        return jsonify(
            {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(presence)",
                "value": value,
            }
        )

    @app.post("/_sim/users")
    def set_users() -> Any:
        """`{"users": {"<id>": {"availability", "activity", "out_of_office"?}}}`."""
        users = (request.get_json(silent=True) or {}).get("users") or {}
        for user_id, state in users.items():
            sim.set_user(
                user_id,
                str(state.get("availability", "Available")),
                str(state.get("activity", "Available")),
                bool(state.get("out_of_office", False)),
            )
        return jsonify({"users": len(sim.users)})

    @app.post("/_sim/directory")
    def set_directory() -> Any:
        """`{"users": {"<userPrincipalName>": "<object id>"}}`: who `GET /users/...` finds."""
        users = (request.get_json(silent=True) or {}).get("users") or {}
        for upn, user_id in users.items():
            sim.add_directory_user(str(upn), str(user_id))
        return jsonify({"directory": len(sim.directory)})

    @app.delete("/_sim/users/<user_id>")
    def remove_user(user_id: str) -> Any:
        with sim.lock:
            sim.demo.pop(user_id.lower(), None)
            return jsonify({"removed": sim.users.pop(user_id.lower(), None) is not None})

    @app.post("/_sim/expire-tokens")
    def expire_tokens() -> Any:
        return jsonify({"expired": sim.expire_tokens()})

    @app.post("/_sim/settings")
    def settings() -> Any:
        body = request.get_json(silent=True) or {}
        if body.get("unknown_ids", sim.unknown_ids) not in ("unknown", "omit"):
            return jsonify({"error": "unknown_ids: unknown or omit"}), 400
        sim.unknown_ids = body.get("unknown_ids", sim.unknown_ids)
        sim.token_ttl_s = float(body.get("token_ttl_s", sim.token_ttl_s))
        sim.permission_granted = bool(body.get("permission_granted", sim.permission_granted))
        sim.user_read_granted = bool(body.get("user_read_granted", sim.user_read_granted))
        sim.rate_limit = int(body.get("rate_limit", sim.rate_limit))
        sim.rate_window_s = float(body.get("rate_window_s", sim.rate_window_s))
        sim.client_secret = str(body.get("client_secret", sim.client_secret))
        return jsonify(
            {
                "unknown_ids": sim.unknown_ids,
                "token_ttl_s": sim.token_ttl_s,
                "permission_granted": sim.permission_granted,
                "user_read_granted": sim.user_read_granted,
                "rate_limit": sim.rate_limit,
                "rate_window_s": sim.rate_window_s,
            }
        )

    def queue_faults(kind: str, count: int, delay_s: float) -> int:
        retry_after = (request.get_json(silent=True) or {}).get("retry_after", 1)
        with sim.lock:
            sim.faults.extend(
                {"kind": kind, "delay_s": delay_s, "retry_after": retry_after} for _ in range(count)
            )
            return len(sim.faults)

    add_fault_route(app, FAULT_KINDS, queue_faults)

    @app.get("/_sim/requests")
    def request_log() -> Any:
        return jsonify({"requests": list(sim.requests_log), "pending_faults": len(sim.faults)})

    return app


def _requested_ids(body: Any) -> tuple[list[str], str | None]:
    if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
        return [], "The request body must be a JSON object with an 'ids' string collection."
    ids = body["ids"]
    if len(ids) > MAX_IDS:
        return [], f"Maximum of {MAX_IDS} user IDs are supported per API request."
    bad = [i for i in ids if not isinstance(i, str) or not GUID.match(i)]
    if bad:
        return [], f"Invalid user id: {str(bad[0])[:60]!r}."
    return ids, None


def _apply_fault(fault: dict[str, Any]) -> Any:
    kind = fault["kind"]
    if kind in ("500", "503"):
        code = "InternalServerError" if kind == "500" else "ServiceUnavailable"
        return _graph_error(int(kind), code, "The service is temporarily unavailable.")
    if kind == "429":
        return _graph_error(
            429,
            "TooManyRequests",
            "Too many requests. Retry after the time in the Retry-After header.",
            {"Retry-After": str(fault["retry_after"])},
        )
    if kind == "401":
        return _graph_error(401, "InvalidAuthenticationToken", "Access token validation failure.")
    if kind == "slow":
        time.sleep(fault["delay_s"])
    if kind == "not_json":
        return Response('{"value": [{"id": ', mimetype="application/json")
    return None


def _kind(fault: dict[str, Any] | None) -> str | None:
    return fault["kind"] if fault else None


def _graph_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Any:
    return jsonify(_error_body(code, message)), status, headers or {}


def _error_body(code: str, message: str) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    inner = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": request_id,
        "client-request-id": request_id,
    }
    return {"error": {"code": code, "message": message, "innerError": inner}}


def _oauth_error(status: int, error: str, aadsts: int, text: str) -> Any:
    trace, correlation = uuid.uuid4(), uuid.uuid4()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    body = {
        "error": error,
        "error_description": f"AADSTS{aadsts}: {text}\r\nTrace ID: {trace}\r\n"
        f"Correlation ID: {correlation}\r\nTimestamp: {stamp}",
        "error_codes": [aadsts],
        "timestamp": stamp,
        "trace_id": str(trace),
        "correlation_id": str(correlation),
    }
    return jsonify(body), status
