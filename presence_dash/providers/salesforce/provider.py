"""Salesforce: presence from UI sessions (SOQL on AuthSession) plus login/logout events.

Polling finds sessions that simply expire (closed browsers); the org's Login Flow and
LogoutEventStream trigger call `POST /hooks/salesforce` so logins and logouts show within
seconds. Session validity is computed on Salesforce's clock (the `Date` header), never
ours. Plain `requests` + PyJWT rather than simple-salesforce: that library hard-codes
https://<domain>.salesforce.com URLs, so it could not be pointed at a proxy or simulator.
See docs/providers/salesforce.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import jwt
import requests

from presence_dash.core.errors import error_body
from presence_dash.core.model import Observation, Person, Status
from presence_dash.core.timefmt import parse_iso_z
from presence_dash.core.warn_once import WarnOnce
from presence_dash.providers.base import (
    AuthFailed,
    Clock,
    HookRequest,
    HookResponse,
    PollingProvider,
    ProviderContext,
    UpdateFailed,
)
from presence_dash.providers.http_errors import request_failed
from presence_dash.providers.salesforce.config import SalesforceConfig
from presence_dash.providers.salesforce.presence import (
    Event,
    Session,
    SourceState,
    ValidSessions,
    hook_state,
    next_seen_expiry,
    user_state,
    valid_sessions,
)

log = logging.getLogger(__package__)  # presence_dash.providers.salesforce, as before the move

TOKEN_PATH = "/services/oauth2/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SIGNATURE_HEADER = "X-Presence-Signature"
MAX_PAGES = 1000  # a runaway nextRecordsUrl chain must end
LIMIT_BACKOFF_S = 900.0  # daily API limit used up: polling harder will not help
USAGE_WARNING = 0.9  # share of the org's daily API requests that calls for a human


# CreatedDate dates "online since": AuthSession has no LoginTime (that is on LoginHistory,
# whose row a reused session even re-points to the newest login) [SF-AUTHSESSION].
SESSIONS_SOQL = (
    "SELECT UsersId, CreatedDate, LastModifiedDate, NumSecondsValid FROM AuthSession "
    "WHERE {where} ORDER BY LastModifiedDate ASC"
)


@dataclass(frozen=True)
class _Token:
    access_token: str
    instance_url: str


class SalesforceProvider(PollingProvider):
    name = "salesforce"

    def __init__(
        self,
        config: SalesforceConfig,
        secret: str,
        webhook_secret: str | None,
        people: Sequence[Person],
        http: requests.Session,
        clock: Clock,
    ) -> None:
        super().__init__(people, http, clock)
        self.config = config
        self._secret = secret  # client secret, or the JWT private key (PEM)
        self._webhook_secret = webhook_secret
        self._token: _Token | None = None
        self._events: dict[str, Event] = {}
        # Per user, Salesforce's clock: the last state shown (so a newer session taking over
        # keeps "online since") and the expiry of the sessions last seen valid (which dates
        # "offline since" when they run out).
        self._states: dict[str, SourceState] = {}
        self._seen_expiry: dict[str, datetime | None] = {}
        # Per user, the last "since" shown: (Salesforce's clock, ours). The clock offset is
        # re-estimated from every `Date` header (1 s resolution), and a vendor time stamp
        # that did not change must not move on the page with each estimate.
        self._shown_since: dict[str, tuple[datetime | None, datetime | None]] = {}
        self._recent_signatures: dict[str, float] = {}
        self._warn_once = WarnOnce(log, "salesforce: ")
        # Salesforce's clock minus ours, from the last `Date` header: event times in webhook
        # calls are on Salesforce's clock, so their age is measured on it too.
        self._server_offset = timedelta(0)

    @classmethod
    def from_context(cls, ctx: ProviderContext) -> SalesforceProvider:
        config = ctx.settings.providers.salesforce
        assert config is not None
        env = (
            config.client_secret_env
            if config.auth == "client_credentials"
            else (config.private_key_env)
        )
        return cls(
            config,
            ctx.settings.secret(env) or "",
            ctx.settings.secret(config.webhook_secret_env),
            ctx.people,
            ctx.http,
            ctx.clock,
        )

    def normalize_id(self, vendor_id: str) -> str:
        """The 15-character, case-sensitive form: people may be configured with either form
        (several entries for one user must be asked about once) and Salesforce takes both."""
        return _id15(vendor_id)

    @property
    def poll_seconds(self) -> float:
        return self.config.poll_seconds

    # -- polling -----------------------------------------------------------------------------

    def poll(self) -> list[Observation]:
        # Each Salesforce user once, however many people entries (teams) name them.
        sessions: dict[str, list[Session]] = {}
        server_now: datetime | None = None
        for chunk in _chunks(list(self.people_by_vendor_id), self.config.ids_per_query):
            records, now = self._query_all(self._soql(chunk))
            server_now = server_now or now
            for record in records:
                parsed = self._session(record)
                if parsed is not None:
                    sessions.setdefault(parsed[0], []).append(parsed[1])
        now = server_now or self.clock()
        observations = []
        for user_id in self.people_by_vendor_id:
            valid = valid_sessions(sessions.get(user_id, ()), now)
            observations.extend(self._observe(user_id, self._decide(user_id, valid, now)))
        return observations

    def _decide(self, user_id: str, valid: ValidSessions | None, now: datetime) -> SourceState:
        """This poll's state for one user (Salesforce's clock), remembered for the next."""
        event = self._events.get(user_id)
        seen = self._seen_expiry.get(user_id)
        grace = timedelta(seconds=2 * self.config.poll_seconds)
        state = user_state(valid, event, self._states.get(user_id), seen, now, grace)
        if event and event.kind == "logout" and state.status == Status.ONLINE:
            del self._events[user_id]  # a session newer than the logout: they came back
        self._seen_expiry[user_id] = next_seen_expiry(valid, seen, now)
        self._states[user_id] = state
        return state

    def _observe(self, user_id: str, state: SourceState) -> list[Observation]:
        observed = self.clock()
        shown = self._shown_since.get(user_id)
        if shown and shown[0] == state.since:
            since = shown[1]  # the same vendor time: the same moment, not a new estimate
        else:
            since = self._our_time(state.since, observed)
            self._shown_since[user_id] = (state.since, since)
        return [
            Observation(pid, self.name, state.status, observed, state.detail, state.activity, since)
            for pid in self.people_by_vendor_id[user_id]
        ]

    def _our_time(self, server_time: datetime | None, now: datetime) -> datetime | None:
        """A time stamp on Salesforce's clock as ours (the `Date` header's offset), never in
        the future: a clock estimate a second off must not date a state after now."""
        if server_time is None:
            return None
        return min(server_time - self._server_offset, now)

    def _session(self, record: Any) -> tuple[str, Session] | None:
        """(our user key, the session) of a row for a configured user."""
        try:
            user = str(record["UsersId"])
            last_modified = _sf_datetime(record["LastModifiedDate"])
            seconds = int(record["NumSecondsValid"])
        except (KeyError, TypeError, ValueError):
            self._warn_once("AuthSession record without UsersId/LastModifiedDate/NumSecondsValid")
            return None
        try:
            created: datetime | None = _sf_datetime(record["CreatedDate"])
        except (KeyError, TypeError, ValueError):
            # the session still counts; only its start is unknown ("since" is first seen)
            self._warn_once("AuthSession record without a readable CreatedDate")
            created = None
        key = self._user_key(user)
        return None if key is None else (key, Session(created, last_modified, seconds))

    def _user_key(self, user_id: str) -> str | None:
        """Our key for a Salesforce Id in either form; None when nobody is configured so."""
        key = _id15(user_id)
        return key if key in self.people_by_vendor_id else None

    def _soql(self, user_ids: list[str]) -> str:
        # SOQL, not SQL, and no injection: ids are normalised alphanumerics, every literal is
        # escaped, and the configured values are pattern-checked at load.
        ids = ", ".join(f"'{_soql_escape(u)}'" for u in user_ids)
        login_types = ", ".join(f"'{_soql_escape(t)}'" for t in self.config.ui_login_types)
        conditions = [
            f"UsersId IN ({ids})",
            f"SessionType = '{_soql_escape(self.config.session_type)}'",
            f"LoginType IN ({login_types})",
        ]
        return SESSIONS_SOQL.replace("{where}", " AND ".join(conditions))

    # -- REST --------------------------------------------------------------------------------

    def _query_all(self, soql: str) -> tuple[list[Any], datetime]:
        """All records of a query, following nextRecordsUrl; with Salesforce's `Date`."""
        path = f"/services/data/v{self.config.api_version}/query"
        response = self._get(path, params={"q": soql})
        ours = self.clock()
        server_now = _date_header(response) or ours
        self._server_offset = server_now - ours
        self.health_warning = _usage_warning(response)
        records: list[Any] = []
        for _ in range(MAX_PAGES):
            body = _json(response)
            if not isinstance(body, dict) or not isinstance(body.get("records"), list):
                raise UpdateFailed("malformed response: query result without records")
            records.extend(body["records"])
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not isinstance(next_url, str):
                return records, server_now
            response = self._get(next_url)
        raise UpdateFailed("query result pages never ended")

    def _get(self, path: str, params: dict[str, str] | None = None) -> requests.Response:
        """GET with the cached token; on INVALID_SESSION_ID get a new token once."""
        for attempt in (1, 2):
            token = self._token or self._authenticate()
            url = urljoin(token.instance_url.rstrip("/") + "/", path.lstrip("/"))
            headers = {
                "Authorization": f"Bearer {token.access_token}",
                "Accept": "application/json",
            }
            try:
                response = self.http.get(
                    url, params=params, headers=headers, timeout=self.config.timeout_seconds
                )
            except requests.RequestException as exc:
                raise request_failed(exc, self.config.timeout_seconds) from None
            if response.status_code == 200:
                return response
            code, message = _sf_error(response)
            if response.status_code == 401 and attempt == 1:
                log.info("salesforce: token refused (%s); getting a new one", code)
                self._token = None
                continue
            if response.status_code == 401:
                raise AuthFailed(f"Salesforce refused a fresh token: {code}: {message}")
            if code == "REQUEST_LIMIT_EXCEEDED":
                raise UpdateFailed(f"API limit reached: {message}", retry_after=LIMIT_BACKOFF_S)
            detail = ": ".join(part for part in (code, message) if part)
            raise UpdateFailed(f"HTTP {response.status_code}" + (f" {detail}" if detail else ""))
        raise AssertionError("unreachable")

    def _authenticate(self) -> _Token:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.config.client_id,
            "client_secret": self._secret,
        }
        if self.config.auth == "jwt_bearer":
            form = {"grant_type": JWT_GRANT, "assertion": self._assertion()}
        url = self.config.base_url.rstrip("/") + TOKEN_PATH
        try:
            response = self.http.post(url, data=form, timeout=self.config.timeout_seconds)
        except requests.RequestException as exc:
            raise request_failed(exc, self.config.timeout_seconds) from None
        body = _json(response) if response.content else {}
        if response.status_code in (400, 401, 403):
            error = body.get("error", "error") if isinstance(body, dict) else "error"
            description = body.get("error_description", "") if isinstance(body, dict) else ""
            raise AuthFailed(f"Salesforce refused the token request: {error}: {description}")
        if response.status_code != 200:
            raise UpdateFailed(f"token request failed: HTTP {response.status_code}")
        try:
            self._token = _Token(str(body["access_token"]), str(body["instance_url"]))
        except (KeyError, TypeError):
            raise UpdateFailed("malformed response: token reply without access_token") from None
        return self._token

    def _assertion(self) -> str:
        claims = {
            "iss": self.config.client_id,
            "sub": self.config.username,
            "aud": self.config.base_url.rstrip("/"),
            "exp": int(time.time()) + 170,
        }
        try:
            return jwt.encode(claims, self._secret, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise AuthFailed(
                f"cannot sign the JWT assertion ({type(exc).__name__}: "
                "check private_key_env holds a PEM RSA key)"
            ) from None

    # -- login/logout events -----------------------------------------------------------------

    def handle_hook(self, request: HookRequest) -> HookResponse | None:
        if request.path or not self._webhook_secret:
            return None
        if request.method != "POST":
            return _json_answer(405, "method_not_allowed", "POST only")
        signature = next(
            (v for k, v in request.headers.items() if k.lower() == SIGNATURE_HEADER.lower()), ""
        )
        mac = hmac.new(self._webhook_secret.encode(), request.body, hashlib.sha256)
        expected = "sha256=" + mac.hexdigest()
        # bytes: compare_digest refuses str with non-ASCII characters (a forged header)
        if not hmac.compare_digest(signature.encode("utf-8", "replace"), expected.encode()):
            self._warn_once(f"webhook call with a bad signature from {request.remote_addr}")
            return _json_answer(401, "bad_signature", "missing or wrong signature")
        try:
            event = json.loads(request.body)
            user_id, kind = str(event["user_id"]), str(event["event"])
            at = parse_iso_z(str(event["event_time"]))
        except (ValueError, KeyError, TypeError):
            return _json_answer(
                400, "bad_event", 'expected {"user_id", "event": "login"|"logout", "event_time"}'
            )
        if kind not in ("login", "logout"):
            return _json_answer(400, "bad_event", "event must be login or logout")
        age = abs((self.clock() + self._server_offset - at).total_seconds())
        if age > self.config.webhook_max_age_s:
            self._warn_once(f"webhook event {age:.0f} s away from now refused (replay?)")
            return _json_answer(400, "stale_event", "event_time is too far from now")
        if not self._first_use(signature):
            return _json_answer(409, "replayed_event", "this event was already received")
        user = self._user_key(user_id)
        if user is None:
            return _json_answer(404, "unknown_user", "not a configured Salesforce user")
        current = self._events.get(user)
        observations: tuple[Observation, ...] = ()
        if current is None or current.at <= at:  # out-of-order events: the newest wins
            self._events[user] = Event(kind, at)
            # Shown at once (CONTRACT: a logout -> offline at once), even if the refresh
            # this also asks for fails; that refresh then confirms it with the sessions.
            state = hook_state(self._events[user], self._states.get(user))
            self._states[user] = state
            observations = tuple(self._observe(user, state))
        return HookResponse(
            200,
            json.dumps({"ok": True}),
            "application/json",
            refresh=True,
            observations=observations,
        )

    def _first_use(self, signature: str) -> bool:
        now = time.monotonic()
        horizon = 2 * self.config.webhook_max_age_s
        self._recent_signatures = {
            s: t for s, t in self._recent_signatures.items() if now - t < horizon
        }
        if signature in self._recent_signatures:
            return False
        self._recent_signatures[signature] = now
        return True


def _json_answer(status: int, code: str, message: str) -> HookResponse:
    body = json.dumps(error_body(code, message))
    return HookResponse(status, body, "application/json")


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise UpdateFailed("malformed response: body is not JSON") from None


def _sf_error(response: requests.Response) -> tuple[str, str]:
    """Salesforce errors are a JSON array of {"message", "errorCode"}."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    first = body[0] if isinstance(body, list) and body else body
    if isinstance(first, dict):
        return str(first.get("errorCode", "")), str(first.get("message", ""))[:200]
    return "", ""


def _usage_warning(response: requests.Response) -> str | None:
    """`Sforce-Limit-Info: api-usage=N/M`: the whole org shares M requests a day, so running
    short is worth a warning before REQUEST_LIMIT_EXCEEDED stops every integration."""
    match = re.search(r"api-usage=(\d+)/(\d+)", response.headers.get("Sforce-Limit-Info", ""))
    if not match:
        return None
    used, limit = int(match[1]), int(match[2])
    if limit and used >= USAGE_WARNING * limit:
        return f"Salesforce API usage {used}/{limit} today: the org is close to its daily limit"
    return None


def _date_header(response: requests.Response) -> datetime | None:
    try:
        return parsedate_to_datetime(response.headers["Date"]).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        return None


def _sf_datetime(value: str) -> datetime:
    """`2026-11-22T15:04:05.000+0000`."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


_CASE_BITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def _id15(value: str) -> str:
    """An 18-character id's last three characters encode which of the first 15 are upper
    case (five per character), so a case-mangled 18-character id still names one record."""
    if len(value) != 18:
        return value
    chars = list(value[:15])
    for chunk, flag in enumerate(value[15:]):
        bits = _CASE_BITS.find(flag.upper())
        if bits < 0:
            return value[:15]
        for i in range(5):
            c = chars[chunk * 5 + i]
            chars[chunk * 5 + i] = c.upper() if bits & (1 << i) else c.lower()
    return "".join(chars)


def _soql_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
