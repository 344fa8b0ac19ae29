"""A local stand-in for the Salesforce APIs presence-dash reads session presence from.

Speaks the wire format of docs/providers/salesforce.md: the OAuth token endpoint (client
credentials and the RS256 JWT bearer flow, Salesforce's `{"error", "error_description"}`
bodies), the REST query endpoint with `nextRecordsUrl` paging (URLs over 16 KB are refused, so
long `IN` lists must be chunked), an honest SOQL parser over `AuthSession` (salesforce_soql.py),
error arrays `[{"message", "errorCode"}]`, a `Date` header on the org's clock and
`Sforce-Limit-Info`. Sessions expire by the maths (`LastModifiedDate + NumSecondsValid`) and
stay in the table until a later cleanup, as in Salesforce, so a client must do the maths.
The org's Login Flow and LogoutEventStream trigger are played by signed webhook calls.
Shares no code with the adapter so each can catch the other's mistakes.

Scripted mode (tests) is driven over HTTP under `/_sim/`; demo mode logs users in (with a
password or through SAML SSO, some with an extra API session as Spring '25 orgs list), lets
sessions simply lapse like a closed browser, and has exactly one user log out (a
LogoutEventStream event), on a background thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import random
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
import requests
from flask import Flask, Response, g, jsonify, request

from presence_dash.simulators.callouts import Callouts, start_ticker
from presence_dash.simulators.control import add_fault_route
from presence_dash.simulators.salesforce_soql import (
    FIELDS,
    Junction,
    SoqlError,
    compile_soql,
    make_id,
    normalize_id,
    parse_datetime,
)

log = logging.getLogger(__name__)

ORG_ID = "00D5g000004ZsimEAC"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN_URLS = ("https://login.salesforce.com", "https://test.salesforce.com")
JWT_MAX_AHEAD_S = 300  # Salesforce wants exp within ~3 minutes; we allow 5 for clock skew
MAX_URL_BYTES = 16_384
CURSOR_IDLE_S = 15 * 60  # query locators time out after 15 idle minutes
FAULT_KINDS = {"401", "500", "503", "slow", "limit", "malformed"}
SIGNATURE_HEADER = "X-Presence-Signature"
VERSION = r"v\d{2,3}\.\d"

# -- the simulated org -----------------------------------------------------------------------


class SfError(Exception):
    """A REST API error: Salesforce answers with `[{"message", "errorCode"}]`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class OAuthError(Exception):
    """A token endpoint error: `{"error", "error_description"}` (RFC 6749 style)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


@dataclass
class SimUser:
    id: str  # 18 characters
    username: str
    name: str


@dataclass
class AuthSession:
    """One AuthSession row; times are epoch seconds on the org clock."""

    id: str
    users_id: str
    created: float
    last_modified: float
    seconds_valid: int
    session_type: str = "UI"
    login_type: str = "Application"
    source_ip: str = "203.0.113.10"
    user_type: str = "Standard"
    level: str = "STANDARD"
    parent_id: str | None = None
    is_current: bool = False

    def raw(self, name: str) -> Any:
        return {
            "Id": self.id,
            "UsersId": self.users_id,
            "CreatedDate": self.created,
            "LastModifiedDate": self.last_modified,
            "NumSecondsValid": self.seconds_valid,
            "SessionType": self.session_type,
            "LoginType": self.login_type,
            "SourceIp": self.source_ip,
            "UserType": self.user_type,
            "SessionSecurityLevel": self.level,
            "ParentId": self.parent_id,
            "IsCurrent": self.is_current,
        }[name]


@dataclass
class Token:
    username: str
    expires_at: float  # org clock: the session timeout of the integration user


@dataclass
class Cursor:
    """A query locator: the rest of a result set, paged by `nextRecordsUrl`."""

    rows: list[dict[str, Any]]
    version: str
    touched: float  # time.monotonic() of the last use


# How the demo's users sign in to the UI, weighted: an SSO org's logins carry a SAML type.
DEMO_LOGIN_TYPES = {"Application": 2, "SAML Idp Initiated SSO": 1, "SAML Sfdc Initiated SSO": 1}
DEMO_LOGOUT_AFTER_S = 45.0  # the demo's one logout comes this long after the start


@dataclass
class DemoUser:
    state: str  # "in" (working), "closed" (browser closed, session lapsing) | "out"
    until: float  # org time when the state ends
    login_type: str = "Application"  # how this user signs in to the UI
    logs_out: bool = False  # the demo's one user who logs out (and then stays out)


@dataclass
class SalesforceSim:
    """The simulated org. Session and token maths run on `now()`: wall time plus `offset_s`,
    or `frozen_at` when a test pins the clock to a second."""

    client_id: str = "3MVG9sim.presence.dash"
    client_secret: str = "secret"
    api_user: str = "presence.dash@example.com"  # client-credentials run-as, JWT subject
    jwt_public_key: str | None = None  # PEM of the connected app's certificate
    token_ttl_s: float = 7200.0
    session_seconds: int = 7200  # NumSecondsValid of new UI sessions (2 h, the default)
    page_size: int = 2000  # records per query page (Salesforce's default batch size)
    api_limit: int = 15_000  # API requests per 24 h
    offset_s: float = 0.0
    frozen_at: float | None = None
    webhook_url: str | None = None  # our /hooks/salesforce: the Login Flow / trigger callout
    webhook_secret: str | None = None
    webhook_timeout_s: float = 2.0
    api_usage: int = 0
    users: dict[str, SimUser] = field(default_factory=dict)
    sessions: dict[str, AuthSession] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    cursors: dict[str, Cursor] = field(default_factory=dict)
    faults: deque[dict[str, Any]] = field(default_factory=deque)
    requests_log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=2000))
    webhooks: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1000))
    demo: dict[str, DemoUser] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _counter: int = 0
    _callouts: Callouts = field(
        default_factory=lambda: Callouts("salesforce-sim-webhook"), repr=False
    )
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def now(self) -> float:
        return self.frozen_at if self.frozen_at is not None else time.time() + self.offset_s

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return make_id(prefix, self._counter)

    # -- users and sessions ------------------------------------------------------------------

    def add_user(self, user_id: str | None = None, name: str = "") -> SimUser:
        with self.lock:
            uid = normalize_id(user_id) if user_id else self._next_id("005")
            if uid is None:
                raise ValueError(f"not a Salesforce id: {user_id!r}")
            if uid not in self.users:
                name = name or f"User {uid[-6:]}"
                username = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") + "@example.com"
                self.users[uid] = SimUser(uid, username, name)
            return self.users[uid]

    def login(
        self,
        user_id: str,
        *,
        seconds_valid: int | None = None,
        last_modified: float | None = None,
        session_type: str = "UI",
        login_type: str = "Application",
        notify: bool = True,
        created: float | None = None,
    ) -> AuthSession:
        """A UI login: a new AuthSession row and, like a Login Flow callout, a webhook call.
        `created` (CreatedDate) defaults to `last_modified`: a session older than its last
        update is one that activity has extended."""
        with self.lock:
            user = self.add_user(user_id)
            now = self.now()
            at = now if last_modified is None else last_modified
            start = at if created is None else created
            if start > at:
                raise ValueError("CreatedDate after LastModifiedDate")
            row = AuthSession(
                self._next_id("0Ak"),
                user.id,
                start,
                at,
                self.session_seconds if seconds_valid is None else seconds_valid,
                session_type,
                login_type,
            )
            self.sessions[row.id] = row
            if notify and session_type == "UI":
                self._queue_webhook(user.id, "login", now)
            return row

    def logout(self, user_id: str, notify: bool = True) -> int:
        """A UI logout ends the user's sessions (the rows go) and, like a trigger on
        LogoutEventStream, calls the webhook; closing the browser is `login` + no logout."""
        with self.lock:
            uid = normalize_id(user_id) or user_id
            ended = [s for s in self.sessions.values() if s.users_id == uid]
            for row in ended:
                del self.sessions[row.id]
            if notify:
                self._queue_webhook(uid, "logout", self.now())
            return len(ended)

    def touch(self, user_id: str) -> int:
        """Activity in the second half of a session's life extends it (LastModifiedDate moves
        on), as Salesforce does; returns how many sessions moved."""
        with self.lock:
            now, moved = self.now(), 0
            for row in self.sessions.values():
                halfway = row.last_modified + row.seconds_valid / 2
                alive = row.last_modified + row.seconds_valid > now
                if row.users_id == user_id and halfway < now and alive:
                    row.last_modified, moved = now, moved + 1
            return moved

    # -- tokens ------------------------------------------------------------------------------

    def issue_token(self, username: str, login_url: str) -> dict[str, Any]:
        with self.lock:
            token = f"{ORG_ID}!AR" + secrets.token_urlsafe(48)
            self.tokens[token] = Token(username, self.now() + self.token_ttl_s)
            issued = str(int(self.now() * 1000))
        identity = f"{login_url}/id/{ORG_ID}/{make_id('005', 0)}"
        # signature: HMAC-SHA256 of id + issued_at with the client secret (OAuth guide)
        mac = hmac.new(self.client_secret.encode(), (identity + issued).encode(), hashlib.sha256)
        return {
            "access_token": token,
            "instance_url": login_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued,
            "signature": base64.b64encode(mac.digest()).decode(),
            "scope": "api",
        }

    def check_token(self, header: str) -> str:
        with self.lock:
            token = self.tokens.get(header[7:]) if header.startswith("Bearer ") else None
            if token is None or token.expires_at <= self.now():
                raise SfError(401, "INVALID_SESSION_ID", "Session expired or invalid")
            return token.username

    def expire_tokens(self) -> int:
        with self.lock:
            for token in self.tokens.values():
                token.expires_at = min(token.expires_at, self.now())
            return len(self.tokens)

    def verify_assertion(self, assertion: str, own_url: str) -> str:
        """The JWT bearer checks: RS256 signature by the app's certificate, iss = consumer key,
        aud = a login URL, exp soon (on the org clock), sub = a user who may use the app."""
        if not self.jwt_public_key:
            raise OAuthError("invalid_grant", "invalid assertion")
        try:
            claims = jwt.decode(
                assertion,
                self.jwt_public_key,
                algorithms=["RS256"],
                audience=[*LOGIN_URLS, own_url],
                options={"require": ["iss", "sub", "aud", "exp"], "verify_exp": False},
            )
        except jwt.InvalidAudienceError:
            raise OAuthError("invalid_grant", "audience is invalid") from None
        except jwt.PyJWTError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        if claims["iss"] != self.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        exp = float(claims["exp"])
        if exp <= self.now() or exp > self.now() + JWT_MAX_AHEAD_S:
            raise OAuthError("invalid_grant", "expired authorization code")
        if claims["sub"] != self.api_user:
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")
        return str(claims["sub"])

    # -- queries -----------------------------------------------------------------------------

    def query(self, text: str, version: str) -> dict[str, Any]:
        soql = compile_soql(text)
        with self.lock:
            rows = [s for s in self.sessions.values() if _matches(soql.where, s)]
            for name, descending, _ in reversed(soql.order):
                # nulls first ascending, last descending (SOQL's default)
                rows.sort(key=lambda s, n=name: _sort_key(s.raw(n)), reverse=descending)
            if soql.limit is not None:
                rows = rows[: soql.limit]
            records = [_record(s, [f for f, _ in soql.fields], version) for s in rows]
            return self._page(records, version, 0, None)

    def more(self, locator: str, version: str) -> dict[str, Any]:
        name, _, start = locator.rpartition("-")
        with self.lock:
            self._drop_idle_cursors()
            cursor = self.cursors.get(name)
            if cursor is None or not start.isdigit() or int(start) >= len(cursor.rows):
                raise SfError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            cursor.touched = time.monotonic()
            return self._page(cursor.rows, version, int(start), name)

    def _page(
        self, rows: list[dict[str, Any]], version: str, start: int, locator: str | None
    ) -> dict[str, Any]:
        end = start + max(1, self.page_size)
        body: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows)}
        if end < len(rows):
            if locator is None:
                locator = "01g" + self._next_id("01g")[3:]
                self.cursors[locator] = Cursor(rows, version, time.monotonic())
            body["nextRecordsUrl"] = f"/services/data/{version}/query/{locator}-{end}"
        elif locator is not None:
            self.cursors.pop(locator, None)
        body["records"] = rows[start:end]
        return body

    def _drop_idle_cursors(self) -> None:
        idle = time.monotonic() - CURSOR_IDLE_S
        self.cursors = {k: c for k, c in self.cursors.items() if c.touched > idle}

    # -- faults ------------------------------------------------------------------------------

    def add_fault(self, kind: str, count: int = 1, delay_s: float = 2.0) -> None:
        with self.lock:
            self.faults.extend({"kind": kind, "delay_s": delay_s} for _ in range(count))

    def take_fault(self) -> dict[str, Any] | None:
        with self.lock:
            return self.faults.popleft() if self.faults else None

    def state(self) -> dict[str, Any]:
        with self.lock:
            now = self.now()
            return {
                "now": _sf_time(now),
                "users": len(self.users),
                "sessions": [
                    {
                        "Id": s.id,
                        "UsersId": s.users_id,
                        "CreatedDate": _sf_time(s.created),
                        "LastModifiedDate": _sf_time(s.last_modified),
                        "SessionType": s.session_type,
                        "LoginType": s.login_type,
                        "NumSecondsValid": s.seconds_valid,
                        "valid": s.last_modified + s.seconds_valid > now,
                    }
                    for s in self.sessions.values()
                ],
                "tokens": sum(1 for t in self.tokens.values() if t.expires_at > now),
                "api_usage": self.api_usage,
                "pending_faults": len(self.faults),
            }

    # -- webhook calls (Login Flow / LogoutEventStream trigger) ------------------------------

    def _queue_webhook(self, user_id: str, event: str, at: float) -> None:
        """Sent from a worker thread, in order: a callout never holds up the org."""
        if not (self.webhook_url and self.webhook_secret):
            return
        when = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
        event_time = when.replace("+00:00", "Z")
        self._callouts.put(lambda: self._send(user_id, event, event_time))

    def _send(self, user_id: str, event: str, when: str) -> None:
        body = json.dumps({"user_id": user_id, "event": event, "event_time": when}).encode()
        secret = (self.webhook_secret or "").encode()
        signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        entry: dict[str, Any] = {"user_id": user_id, "event": event, "event_time": when}
        try:  # one attempt: an Apex callout that fails is not retried
            reply = requests.post(
                self.webhook_url or "",
                data=body,
                headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
                timeout=self.webhook_timeout_s,
            )
            entry["status"] = reply.status_code
        except requests.RequestException as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
        log.info("webhook %s %s -> %s", event, user_id, entry.get("status", entry.get("error")))
        self.webhooks.append(entry)

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every queued webhook call has been sent (or failed)."""
        return self._callouts.drain(timeout)

    def close(self) -> None:
        """Stop the webhook worker and the demo thread."""
        self._stop.set()
        self._callouts.close()

    # -- demo mode ---------------------------------------------------------------------------

    def add_demo_users(
        self,
        user_ids: list[str],
        rng: random.Random | None = None,
        *,
        logout_user: str | None = None,
        logout_after_s: float = DEMO_LOGOUT_AFTER_S,
    ) -> None:
        """Demo mode: most users are working (signed in with a password or SAML SSO, some
        with an extra API session of login type Unknown, which must not count), some closed
        the browser so that their session lapses unseen by events, some are not signed in
        (a few with only an API session). Sessions are short so lapses show within minutes.
        Exactly one user, `logout_user` (default: the first), is working at the start and
        logs out of the UI `logout_after_s` later: a LogoutEventStream event through the
        webhook. Nobody else logs out, so the demo's one "Logged out" is easy to find."""
        if rng is not None:
            self.rng = rng
        if not user_ids:
            return
        leaver = normalize_id(logout_user or user_ids[0])
        if leaver not in {normalize_id(u) for u in user_ids}:
            raise ValueError(f"logout_user {logout_user!r} is not one of the demo users")
        kinds, weights = zip(*DEMO_LOGIN_TYPES.items(), strict=True)
        with self.lock:
            now = self.now()
            for uid in user_ids:
                user = self.add_user(uid)
                demo = DemoUser("out", now, self.rng.choices(kinds, weights)[0])
                demo.logs_out = user.id == leaver
                if not demo.logs_out:
                    demo.state = self.rng.choices(["in", "closed", "out"], [6, 1, 3])[0]
                else:
                    demo.state = "in"
                if demo.state == "in":
                    # signed in a while ago; activity has kept the session alive since
                    started = now - self.rng.uniform(60, 3600)
                    self.login(user.id, login_type=demo.login_type, created=started, notify=False)
                    if self.rng.random() < 0.3:
                        self._api_session(user.id, started)
                elif demo.state == "closed":
                    ago = self.rng.uniform(0, self.session_seconds * 0.8)
                    self.login(
                        user.id, last_modified=now - ago, login_type=demo.login_type, notify=False
                    )
                elif self.rng.random() < 0.25:
                    self._api_session(user.id, now - self.rng.uniform(0, 600))
                demo.until = now + (logout_after_s if demo.logs_out else self.rng.uniform(5, 90))
                self.demo[user.id] = demo

    def _api_session(self, user_id: str, created: float) -> AuthSession:
        """A valid API session of login type Unknown, as orgs list next to UI logins since
        Spring '25 (docs/providers/salesforce.md): not a UI login, so never "online"."""
        return self.login(
            user_id, session_type="API", login_type="Unknown", created=created, notify=False
        )

    def advance_demo(self) -> list[str]:
        """Apply the demo changes that are due; working users keep their sessions alive.
        Working users close the browser (the session lapses), others sign in again; only
        the one `logs_out` user logs out, once."""
        changed = []
        with self.lock:
            now = self.now()
            for uid, demo in self.demo.items():
                if now >= demo.until:
                    if demo.state == "in" and demo.logs_out:
                        demo.state = "out"
                        self.logout(uid)  # the webhook carries the LogoutEventStream event
                    elif demo.state == "in":
                        demo.state = "closed"
                    else:
                        demo.state = "in"
                        self.login(uid, login_type=demo.login_type)
                    dwell = {"in": (30, 150), "closed": (60, 240), "out": (20, 120)}[demo.state]
                    demo.until = now + self.rng.uniform(*dwell)
                    if demo.logs_out and demo.state == "out":
                        demo.until = math.inf  # logged out for the rest of the demo
                    changed.append(uid)
                elif demo.state == "in":
                    self.touch(uid)
        return changed

    def start_demo(self, interval_s: float = 1.0) -> threading.Thread:
        return start_ticker("salesforce-sim-demo", interval_s, self._stop, self.advance_demo)


def _matches(node: Any, row: AuthSession) -> bool:
    if node is None:
        return True
    if isinstance(node, Junction):
        results = (_matches(p, row) for p in node.parts)
        return all(results) if node.kind == "and" else any(results)
    value = row.raw(node.field)
    if isinstance(value, str):
        value = value.casefold()  # ids and strings compare without case, as in SOQL
    if node.op == "IN":
        return value in node.values
    other = node.values[0]
    if node.op == "=":
        return value == other
    if node.op == "!=":
        return value != other
    if value is None or other is None:
        return False
    return {
        "<": value < other,
        "<=": value <= other,
        ">": value > other,
        ">=": value >= other,
    }[node.op]


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    return (1, value.casefold() if isinstance(value, str) else value)


def _sf_time(epoch: float) -> str:
    """`2026-11-22T15:04:05.000+0000`, Salesforce's REST date-time form."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _record(row: AuthSession, fields: list[str], version: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "attributes": {
            "type": "AuthSession",
            "url": f"/services/data/{version}/sobjects/AuthSession/{row.id}",
        }
    }
    for name in fields:
        value = row.raw(name)
        record[name] = _sf_time(value) if FIELDS[name] == "datetime" else value
    return record


def _http_date(epoch: float) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(epoch))


# -- the HTTP face ---------------------------------------------------------------------------


def create_app(sim: SalesforceSim) -> Flask:
    app = Flask(__name__)

    @app.errorhandler(SfError)
    def sf_error(exc: SfError) -> Response:
        return _sf_error(exc.status, exc.code, exc.message)

    @app.errorhandler(OAuthError)
    def oauth_error(exc: OAuthError) -> Response:
        body = {"error": exc.error, "error_description": exc.description}
        return Response(json.dumps(body), exc.status, content_type="application/json")

    @app.before_request
    def gate() -> Response | None:
        """API requests: URL length, token, daily limit, then a queued fault (if any)."""
        g.fault = None
        if not request.path.startswith("/services/data/"):
            return None
        if len(request.environ.get("REQUEST_URI") or request.full_path) > MAX_URL_BYTES:
            # the front door refuses these before the API sees them: no Salesforce error body
            return Response("URI Too Long", 414, content_type="text/plain")
        sim.check_token(request.headers.get("Authorization", ""))
        with sim.lock:
            if sim.api_usage >= sim.api_limit:
                raise SfError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            sim.api_usage += 1
        fault = sim.take_fault()
        g.fault = fault and fault["kind"]
        if fault is None:
            return None
        if fault["kind"] == "slow":
            time.sleep(fault["delay_s"])
            return None
        if fault["kind"] == "malformed":  # a body cut off mid-way (a proxy, a crash)
            text = '{"totalSize":3,"done":true,"records":[{"attributes":{"type":"AuthSe'
            return Response(text, 200, content_type="application/json")
        status, code, message = {
            "401": (401, "INVALID_SESSION_ID", "Session expired or invalid"),
            "500": (500, "UNKNOWN_EXCEPTION", "An unexpected error occurred."),
            "503": (503, "SERVER_UNAVAILABLE", "Server temporarily unavailable"),
            "limit": (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
        }[fault["kind"]]
        return _sf_error(status, code, message)

    @app.after_request
    def stamp(response: Response) -> Response:
        """Every answer carries the org's clock; API answers carry the usage header."""
        response.headers["Date"] = _http_date(sim.now())
        if request.path.startswith("/services/"):
            if request.path.startswith("/services/data/"):
                response.headers["Sforce-Limit-Info"] = f"api-usage={sim.api_usage}/{sim.api_limit}"
            sim.requests_log.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "fault": g.get("fault"),
                    "grant": request.form.get("grant_type") if request.method == "POST" else None,
                    "soql": request.args.get("q"),
                    "at": time.time(),
                }
            )
        return response

    @app.post("/services/oauth2/token")
    def token() -> Response:
        form = request.form
        grant = form.get("grant_type", "")
        own_url = request.host_url.rstrip("/")
        if grant == "client_credentials":
            if form.get("client_id") != sim.client_id:
                raise OAuthError("invalid_client_id", "client identifier invalid")
            if not hmac.compare_digest(
                form.get("client_secret", "").encode(), sim.client_secret.encode()
            ):
                raise OAuthError("invalid_client", "invalid client credentials")
            username = sim.api_user
        elif grant == JWT_GRANT:
            username = sim.verify_assertion(form.get("assertion", ""), own_url)
        else:
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        # the org's instance is this same server (a real org names e.g. na1.salesforce.com)
        return jsonify(sim.issue_token(username, own_url))

    @app.get("/services/data/<version>/query")
    def query(version: str) -> Response:
        _check_version(version)
        text = request.args.get("q")
        if not text:
            raise SfError(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            return jsonify(sim.query(text, version))
        except SoqlError as exc:
            raise SfError(400, exc.code, _soql_message(text, exc)) from None

    @app.get("/services/data/<version>/query/<locator>")
    def query_more(version: str, locator: str) -> Response:
        _check_version(version)
        return jsonify(sim.more(locator, version))

    _control_api(app, sim)
    return app


def _check_version(version: str) -> None:
    if not re.fullmatch(VERSION, version):
        raise SfError(404, "NOT_FOUND", "The requested resource does not exist")


def _soql_message(text: str, exc: SoqlError) -> str:
    """Salesforce quotes the statement and points at the column for parse errors."""
    if exc.pos is None or exc.code != "MALFORMED_QUERY":
        return exc.message
    snippet = text[max(0, exc.pos - 40) : exc.pos + 40]
    return f"\n{snippet}\nERROR at Row:1:Column:{exc.pos + 1}\n{exc.message}"


def _sf_error(status: int, code: str, message: str) -> Response:
    body = json.dumps([{"message": message, "errorCode": code}])
    return Response(body, status, content_type="application/json;charset=UTF-8")


def _control_api(app: Flask, sim: SalesforceSim) -> None:
    """`/_sim/`: what tests and people drive the simulated org with (JSON)."""

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}

    def user_id(raw: str) -> str:
        uid = normalize_id(raw)
        if uid is None:
            raise SfError(400, "INVALID_ID", f"not a Salesforce id: {raw[:40]!r}")
        return uid

    @app.post("/_sim/users")
    def add_user() -> Any:
        data = body()
        try:
            user = sim.add_user(data.get("id"), str(data.get("name", "")))
        except ValueError as exc:
            return jsonify({"error": str(exc)}), 400
        return jsonify({"id": user.id, "username": user.username, "name": user.name})

    @app.post("/_sim/users/<uid>/login")
    def login(uid: str) -> Any:
        data = body()
        last_modified, created = data.get("last_modified"), data.get("created")
        try:
            seconds = data.get("seconds_valid")
            row = sim.login(
                user_id(uid),
                seconds_valid=None if seconds is None else int(seconds),
                last_modified=None if last_modified is None else parse_datetime(last_modified),
                created=None if created is None else parse_datetime(created),
                session_type=str(data.get("session_type", "UI")),
                login_type=str(data.get("login_type", "Application")),
                notify=bool(data.get("notify", True)),
            )
        except (SoqlError, TypeError, ValueError) as exc:
            return jsonify({"error": f"bad login: {exc}"}), 400
        with sim.lock:
            sim.demo.pop(row.users_id, None)
        return jsonify(
            {
                "Id": row.id,
                "UsersId": row.users_id,
                "CreatedDate": _sf_time(row.created),
                "LastModifiedDate": _sf_time(row.last_modified),
                "NumSecondsValid": row.seconds_valid,
            }
        )

    @app.post("/_sim/users/<uid>/logout")
    def logout(uid: str) -> Any:
        uid = user_id(uid)
        with sim.lock:
            sim.demo.pop(uid, None)
            ended = sim.logout(uid, notify=bool(body().get("notify", True)))
        return jsonify({"ended": ended})

    @app.post("/_sim/clock")
    def clock() -> Any:
        """`{"offset_s": s}` shifts the org clock; `{"at": iso}` pins it; `{}` real time."""
        data = body()
        try:
            with sim.lock:
                sim.frozen_at = parse_datetime(data["at"]) if data.get("at") else None
                sim.offset_s = float(data.get("offset_s", 0.0))
        except (SoqlError, TypeError, ValueError) as exc:
            return jsonify({"error": f"bad clock: {exc}"}), 400
        return jsonify({"now": _sf_time(sim.now()), "date": _http_date(sim.now())})

    @app.post("/_sim/expire-tokens")
    def expire_tokens() -> Any:
        return jsonify({"expired": sim.expire_tokens()})

    @app.post("/_sim/settings")
    def settings() -> Any:
        """Change the connected app's secret, the page size or the API limit."""
        data = body()
        with sim.lock:
            sim.client_secret = str(data.get("client_secret", sim.client_secret))
            sim.page_size = max(1, int(data.get("page_size", sim.page_size)))
            sim.api_limit = int(data.get("api_limit", sim.api_limit))
            sim.api_usage = int(data.get("api_usage", sim.api_usage))
        return jsonify(
            {"page_size": sim.page_size, "api_limit": sim.api_limit, "api_usage": sim.api_usage}
        )

    def queue_faults(kind: str, count: int, delay_s: float) -> int:
        sim.add_fault(kind, count, delay_s)
        return len(sim.faults)

    add_fault_route(app, FAULT_KINDS, queue_faults)

    @app.get("/_sim/state")
    def state() -> Any:
        return jsonify(sim.state())

    @app.get("/_sim/requests")
    def requests_log() -> Any:
        return jsonify({"requests": list(sim.requests_log), "pending_faults": len(sim.faults)})

    @app.get("/_sim/webhooks")
    def webhooks() -> Any:
        sim.drain()
        return jsonify({"sent": list(sim.webhooks)})
