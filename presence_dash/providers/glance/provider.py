"""Glance: web-site visitors per group (Presence Agent REST API) and signals to them.

Wire details and their public sources: docs/providers/glance.md. Every call carries a bearer
token from the Glance Authorization API; tokens are per group, cached until shortly before
they expire (Glance asks clients not to re-authorize more often), and renewed once on a 401.
Signalling is two steps: `/findvisitor` on the load balancer names the presence server the
visitor is connected to, then `/signalvisitor` goes to that server, but only when its name
passes the allowlist (providers/glance/direct.py): that name comes from the network.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests

from presence_dash.core.model import Observation, Person
from presence_dash.core.warn_once import WarnOnce
from presence_dash.providers.base import (
    AuthFailed,
    Clock,
    PollingProvider,
    ProviderContext,
    UpdateFailed,
)
from presence_dash.providers.glance.config import GlanceConfig
from presence_dash.providers.glance.direct import DirectAllowlist, DirectServer, check_direct
from presence_dash.providers.glance.records import (
    VISITOR_ID,
    MalformedRecords,
    is_present,
    parse_query,
    parse_record,
)
from presence_dash.providers.http_errors import (
    describe_http_error,
    request_failed,
    retry_after_seconds,
)
from presence_dash.visitors.board import Visitor, VisitorBoard
from presence_dash.visitors.source import SignalSent, VisitorGone

__all__ = ["GlanceProvider", "SignalSent", "VisitorGone", "login_key"]

log = logging.getLogger(__name__)

RENEW_BEFORE = timedelta(seconds=60)
LOGIN_KEY_SECONDS = 300  # the login key only has to outlive the authorization call


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
    """A presence provider that observes no person: each poll goes to the visitor board the
    visitors feature attaches (visitors/source.py's VisitorSource); a web node's copy is
    never polled and only signals."""

    name = "glance"

    def __init__(
        self,
        config: GlanceConfig,
        secret: str,
        http: requests.Session,
        clock: Clock,
        *,
        people: Sequence[Person] = (),
        board: VisitorBoard | None = None,
    ) -> None:
        super().__init__(people, http, clock)
        self.config = config
        self._secret = secret  # the API key (login key flow) or the user's password
        self.allowlist = DirectAllowlist.build(
            config.base_url, config.direct_allowlist, config.direct_scheme
        )
        self.visitors = board  # the feature's, once attached
        self._tokens: dict[int, _Token] = {}
        self._token_lock = threading.Lock()
        self._warn_once = WarnOnce(log, "glance: ignoring malformed data: ")

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

    # -- the visitors feature's source (visitors/source.py) ---------------------------------

    @property
    def group_ids(self) -> list[int]:
        return list(self.config.group_ids)

    @property
    def group_labels(self) -> Mapping[int, str]:
        return self.config.group_labels

    def attach(self, board: VisitorBoard) -> None:
        self.visitors = board

    def valid_visitor_id(self, visitor_id: str) -> bool:
        return VISITOR_ID.match(visitor_id) is not None

    # -- polling: who is on the site --------------------------------------------------------

    def poll(self) -> list[Observation]:
        board = self.visitors
        if board is None:
            raise RuntimeError("glance: polled before the visitors feature attached its board")
        for group_id in self.config.group_ids:
            body = self._call("GET", self._lb("/query"), group_id, {"groupid": str(group_id)})
            try:
                visitors, skipped = parse_query(group_id, body)
            except MalformedRecords as exc:
                raise UpdateFailed(f"malformed query answer: {exc}") from None
            if skipped:
                self._warn_once(f"{skipped} presence record(s) without a valid visitorid")
            board.replace_group(group_id, visitors, self.clock())
        return []  # visitors are not people: they go to the visitor board

    def lookup(self, group_id: int, visitor_id: str) -> Visitor | None:
        """One visitor's presence record (`/lookupvisitor`), or None when not on the site."""
        params = {"groupid": str(group_id), "visitorid": visitor_id}
        body = self._call("GET", self._lb("/lookupvisitor"), group_id, params)
        if not isinstance(body, dict) or not is_present(body):
            return None
        return parse_record(group_id, body)

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
        if self.visitors is not None:
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


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
