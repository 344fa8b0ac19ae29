"""Glance: web-site visitors per group (Presence Agent REST API) and signals to them.

Wire details and their public sources: docs/providers/glance.md. Every call carries a bearer
token from the Glance Authorization API; tokens are per group, cached until shortly before
they expire (Glance asks clients not to re-authorize more often), and renewed once on a 401.
Signalling is two steps: `/findvisitor` on the load balancer names the presence server the
visitor is connected to, then `/signalvisitor` goes to that server, but only when its name
passes the allowlist (providers/glance_direct.py): that name comes from the network.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from ..config import GlanceConfig
from ..model import Observation, Person
from ..visitors import Visitor, VisitorBoard
from .base import AuthFailed, Clock, PollingProvider, ProviderContext, UpdateFailed
from .glance_direct import DirectServer, check_direct, default_allowlist
from .http_errors import describe_http_error, request_failed, retry_after_seconds

log = logging.getLogger(__name__)

# Glance's own limit for visitor ids: at most 62 of A-Z a-z 0-9 - _ ~ (Visitor Presence API).
VISITOR_ID = re.compile(r"^[A-Za-z0-9_~-]{1,62}$")
RENEW_BEFORE = timedelta(seconds=60)
LOGIN_KEY_SECONDS = 300  # the login key only has to outlive the authorization call
# Routing fields of a presence record: internal plumbing, not something to show an agent.
ROUTING_FIELDS = {"groupid", "visitorid", "ds", "direct", "directserver", "tlsport", "httpsport"}
TIME_FIELDS = ("visitorpresent", "timestamp")
MAX_METADATA_KEYS = 20
MAX_METADATA_CHARS = 200


class VisitorGone(Exception):
    """Glance says the visitor is not on the site (any more)."""


@dataclass(frozen=True)
class SignalSent:
    server: str  # the presence server that accepted it, as "host[:port]"


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: datetime


def login_key(api_key: str, partner_id: int, partner_user_id: str, expires: int) -> str:
    """A version-1 Glance login key: `$1$<expiry>$<base64url(HMAC-SHA256)>` without padding,
    over partner id + partner user id + version + expiry (Glance "Login Key" article)."""
    message = f"{partner_id}{partner_user_id}1{expires}".encode()
    digest = hmac.new(api_key.encode(), message, hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return f"$1${expires}${signature}"


class GlanceProvider(PollingProvider):
    name = "glance"

    def __init__(
        self,
        config: GlanceConfig,
        secret: str,
        http: requests.Session,
        clock: Clock,
        *,
        people: Sequence[Person] = (),
        on_visitors_changed: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(people, http, clock)
        self.config = config
        self._secret = secret  # the API key (login key flow) or the user's password
        self.allowlist = config.direct_allowlist or default_allowlist(config.base_url)
        self.visitors = VisitorBoard(config.group_ids, on_dirty=on_visitors_changed)
        self._tokens: dict[int, _Token] = {}
        self._token_lock = threading.Lock()
        self._warned: set[str] = set()

    @classmethod
    def from_context(cls, ctx: ProviderContext) -> GlanceProvider:
        config = ctx.settings.providers.glance
        assert config is not None
        env = config.api_key_env if config.partner_user_id else config.password_env
        secret = ctx.settings.secret(env) or ""
        return cls(config, secret, ctx.http, ctx.clock, people=ctx.people)

    @property
    def poll_seconds(self) -> float:
        return self.config.poll_seconds

    # -- polling: who is on the site --------------------------------------------------------

    def poll(self) -> list[Observation]:
        for group_id in self.config.group_ids:
            body = self._call("GET", self._lb("/query"), group_id, {"groupid": str(group_id)})
            self.visitors.replace_group(group_id, self._parse_query(group_id, body), self.clock())
        return []  # visitors are not people: they go to the visitor board

    def lookup(self, group_id: int, visitor_id: str) -> Visitor | None:
        """One visitor's presence record (`/lookupvisitor`), or None when not on the site."""
        params = {"groupid": str(group_id), "visitorid": visitor_id}
        body = self._call("GET", self._lb("/lookupvisitor"), group_id, params)
        if not isinstance(body, dict) or not _truthy(body.get("visitorpresent")):
            return None
        return self._visitor(group_id, body)

    # -- signalling -------------------------------------------------------------------------

    def find(self, group_id: int, visitor_id: str) -> DirectServer | None:
        """The presence server the visitor is connected to (allowlisted), or None if gone.
        Raises DirectServerRefused for a name outside the allowlist."""
        params = {"groupid": str(group_id), "visitorid": visitor_id}
        body = self._call("GET", self._lb("/findvisitor"), group_id, params)
        if not isinstance(body, dict):
            raise UpdateFailed("malformed findvisitor answer: not an object")
        found = body.get("visitorfound")
        if found is False or found is None:
            return None
        # Two shapes in Glance's docs: {"visitorfound": {"direct": ...}} (older article) and
        # {"visitorfound": true, "direct": ..., "directserver": ...} (current reference).
        direct = found.get("direct") if isinstance(found, dict) else body.get("direct")
        if direct is None:
            raise UpdateFailed("malformed findvisitor answer: no 'direct' server")
        try:
            return check_direct(direct, self.allowlist)
        except ValueError as exc:
            log.warning(
                "glance: refused to call presence server for visitor %s in group %s: %s",
                visitor_id,
                group_id,
                exc,
            )
            raise

    def signal(
        self, group_id: int, visitor_id: str, mtype: str, data: Mapping[str, Any]
    ) -> SignalSent:
        """Find the visitor's server and send `{"mtype", "data"}` there. A server that no
        longer has the visitor (they moved or left) gets one fresh look-up."""
        message = {"mtype": mtype, "data": dict(data)}
        params = {"groupid": str(group_id), "visitorid": visitor_id}
        tried: set[DirectServer] = set()
        for _ in range(2):
            server = self.find(group_id, visitor_id)
            if server is None or server in tried:
                break
            tried.add(server)
            url = server.url(self.config.direct_scheme) + "/signalvisitor"
            response = self._send("POST", url, group_id, params=params, json=message)
            if response.status_code == 404:
                continue
            self._check(response)
            return SignalSent(str(server))
        self.visitors.remove(group_id, visitor_id)
        raise VisitorGone(visitor_id)

    # -- HTTP and tokens --------------------------------------------------------------------

    def _lb(self, path: str) -> str:
        return self.config.base_url.rstrip("/") + path

    def _call(self, method: str, url: str, group_id: int, params: dict[str, str]) -> Any:
        response = self._send(method, url, group_id, params=params)
        self._check(response)
        try:
            return response.json()
        except ValueError:
            raise UpdateFailed("malformed response: body is not JSON") from None

    def _send(self, method: str, url: str, group_id: int, **kwargs: Any) -> requests.Response:
        """One call with the group's token; a 401 renews the token and retries once (it may
        have expired early or been revoked)."""
        for attempt in range(2):
            token = self._token(group_id, renew=attempt > 0)
            try:
                response = self.http.request(
                    method,
                    url,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                    timeout=self.config.timeout_seconds,
                    # Never follow a redirect: it could lead anywhere (the allowlist is ours).
                    allow_redirects=False,
                    **kwargs,
                )
            except requests.RequestException as exc:
                raise request_failed(exc, self.config.timeout_seconds) from None
            if response.status_code != 401:
                return response
        raise AuthFailed(describe_http_error(response, "token refused after renewal"))

    def _check(self, response: requests.Response) -> None:
        if response.status_code == 403:
            raise AuthFailed(describe_http_error(response, "forbidden"))
        if response.status_code != 200:
            raise UpdateFailed(
                describe_http_error(response), retry_after=retry_after_seconds(response)
            )

    def _token(self, group_id: int, *, renew: bool = False) -> str:
        with self._token_lock:
            token = self._tokens.get(group_id)
            if token is None or renew or self.clock() >= token.renew_at:
                token = self._authorize(group_id)
                self._tokens[group_id] = token
            return token.value

    def _authorize(self, group_id: int) -> _Token:
        """A token for `group_id` from the Authorization API (tokens are group specific)."""
        config = self.config
        now = self.clock()
        if config.partner_user_id:
            partner_id = config.partner_id or group_id
            expires = int(now.timestamp()) + LOGIN_KEY_SECONDS
            body: dict[str, Any] = {
                "partnerid": partner_id,
                "partneruserid": config.partner_user_id,
                "loginkey": login_key(self._secret, partner_id, config.partner_user_id, expires),
            }
        else:
            body = {"username": config.username, "password": self._secret}
        params = {"service": "presence", "groupid": str(group_id)}
        params["duration"] = str(config.token_minutes)
        try:
            response = self.http.post(
                config.auth_url, params=params, json=body, timeout=config.timeout_seconds
            )
        except requests.RequestException as exc:
            raise request_failed(exc, config.timeout_seconds) from None
        if response.status_code in (400, 401, 403):
            raise AuthFailed(describe_http_error(response, "authorization refused"))
        if response.status_code != 200:
            raise UpdateFailed(describe_http_error(response, "authorization failed"))
        try:
            answer = response.json()
        except ValueError:
            raise UpdateFailed("malformed authorization answer: not JSON") from None
        value = answer.get("authToken") if isinstance(answer, dict) else None
        if not isinstance(value, str) or not value:
            raise AuthFailed("authorization answer has no authToken")
        lifetime = timedelta(minutes=config.token_minutes)
        # Glance spells the expiry "authTokeExp" (sic); a later fix would drop the typo.
        expires_at = _parse_time(answer.get("authTokeExp") or answer.get("authTokenExp"))
        expires_at = min(expires_at, now + lifetime) if expires_at else now + lifetime
        granted = max(expires_at - now, timedelta(0))
        renew_at = now + granted - min(RENEW_BEFORE, granted / 4)
        log.info("glance: authorized for group %s until %s", group_id, expires_at.isoformat())
        return _Token(value, renew_at)

    # -- parsing presence records -----------------------------------------------------------

    def _parse_query(self, group_id: int, body: Any) -> list[Visitor]:
        """`/query`'s visitors. Its shape is not documented publicly: a list of presence
        records, an object with such a list, or an object keyed by visitor id are accepted."""
        records: list[Any]
        if isinstance(body, list):
            records = body
        elif isinstance(body, dict):
            lists = [v for v in body.values() if isinstance(v, list)]
            if lists:
                records = lists[0]
            else:
                records = [
                    {"visitorid": k, **v} if isinstance(v, dict) else None
                    for k, v in body.items()
                    if k not in ROUTING_FIELDS
                ]
        else:
            raise UpdateFailed("malformed query answer: neither a list nor an object")
        visitors = []
        for record in records:
            visitor = self._visitor(group_id, record) if isinstance(record, dict) else None
            if visitor is None:
                self._warn_once("presence record without a valid visitorid")
            else:
                visitors.append(visitor)
        return visitors

    def _visitor(self, group_id: int, record: Mapping[str, Any]) -> Visitor | None:
        visitor_id = record.get("visitorid", record.get("visitorId"))
        if not isinstance(visitor_id, str) or not VISITOR_ID.match(visitor_id):
            return None
        since = next((t for f in TIME_FIELDS if (t := _epoch(record.get(f)))), None)
        metadata: dict[str, Any] = {}
        for key, value in record.items():
            if len(metadata) >= MAX_METADATA_KEYS:
                break
            if key not in ROUTING_FIELDS and key not in TIME_FIELDS and key != "visitorId":
                metadata[str(key)[:60]] = _shown(value)
        return Visitor(group_id, visitor_id, since, metadata)

    def _warn_once(self, problem: str) -> None:
        if problem not in self._warned:
            self._warned.add(problem)
            log.warning("glance: ignoring malformed data: %s", problem)


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", "0", "false")


def _epoch(value: Any) -> datetime | None:
    """Glance's times are epoch seconds, often as strings ("1583953702.0")."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if not 946_684_800 <= seconds <= 32_503_680_000:  # 2000..3000: anything else is not a time
        return None
    return datetime.fromtimestamp(seconds, UTC)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _shown(value: Any) -> Any:
    """Metadata as a user will see it: short scalars; anything nested as short JSON."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text[:MAX_METADATA_CHARS]
