"""The Microsoft Graph calls: a client-credentials token from Entra ID, cached and renewed
before it lapses, `POST /communications/getPresencesByUserId` in batches of at most 650
ids, and user principal name -> object id lookups (`GET /users/{upn}`) sent 20 at a time
through JSON batching (`POST /$batch`). Failures become the typed errors of
providers/base.py with short, secret-free messages.
Wire details and their sources: docs/providers/teams.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from presence_dash.providers.base import AuthFailed, UpdateFailed
from presence_dash.providers.http_errors import (
    describe_http_error,
    request_failed,
    retry_after_seconds,
)
from presence_dash.providers.teams.config import MAX_BATCH_REQUESTS, TeamsConfig

log = logging.getLogger(__name__)

PRESENCES_PATH = "/communications/getPresencesByUserId"
BATCH_PATH = "/$batch"
TOKEN_PATH = "/{tenant}/oauth2/v2.0/token"
PRESENCE_PERMISSION = "Presence.Read.All"
# Get user lists User.Read.All as the least privileged application permission (its table
# has no User.ReadBasic.All for apps): docs/providers/teams.md, "User principal names".
USER_PERMISSION = "User.Read.All"
DEFAULT_EXPIRES_IN_S = 3599.0  # what the docs' example answers when a reply leaves it out


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: float  # monotonic seconds


class GraphClient:
    def __init__(
        self,
        config: TeamsConfig,
        secret: str,
        http: requests.Session,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._secret = secret
        self.http = http
        self._monotonic = monotonic
        self._token: _Token | None = None
        self.requests_made = 0  # Graph requests (presence and $batch), for the metric
        self.tokens_fetched = 0

    def presences(self, ids: list[str]) -> list[Any]:
        """Every `value` item Graph returns for `ids`, one request per batch."""
        items: list[Any] = []
        size = self.config.batch_size
        for start in range(0, len(ids), size):
            items.extend(self._fetch(ids[start : start + size]))
        return items

    def object_ids(self, upns: list[str]) -> dict[str, str | None]:
        """Each user principal name's object id (lower case), or None where Graph has no such
        user (its 404); keyed by the name as given."""
        found: dict[str, str | None] = {}
        for start in range(0, len(upns), MAX_BATCH_REQUESTS):
            found.update(self._lookup(upns[start : start + MAX_BATCH_REQUESTS]))
        return found

    def _lookup(self, upns: list[str]) -> dict[str, str | None]:
        requests_ = [
            {"id": str(n), "method": "GET", "url": _user_url(upn)} for n, upn in enumerate(upns)
        ]
        body = _json_body(
            self._post_with_token(BATCH_PATH, {"requests": requests_}, USER_PERMISSION)
        )
        responses = body.get("responses") if isinstance(body, dict) else None
        if not isinstance(responses, list):
            raise UpdateFailed("malformed response: no 'responses' list in the $batch answer")
        # Answers may come in any order: matched back by their `id`.
        by_id = {r.get("id"): r for r in responses if isinstance(r, dict)}
        found: dict[str, str | None] = {}
        for n, upn in enumerate(upns):
            found[upn] = _object_id(upn, by_id.get(str(n)))
        return found

    def _fetch(self, ids: list[str]) -> list[Any]:
        body = _json_body(self._post_with_token(PRESENCES_PATH, {"ids": ids}, PRESENCE_PERMISSION))
        value = body.get("value") if isinstance(body, dict) else None
        if not isinstance(value, list):
            raise UpdateFailed("malformed response: no 'value' list of presences")
        return value

    def _post_with_token(
        self, path: str, body: dict[str, Any], permission: str
    ) -> requests.Response:
        """POST with the cached token; a 401 gets a new token once (it may have been revoked
        or have lapsed early), a second 401 needs a human."""
        url = self.config.base_url.rstrip("/") + path
        timeout = self.config.timeout_seconds
        for attempt in (1, 2):
            headers = {
                "Authorization": f"Bearer {self._valid_token()}",
                "Accept": "application/json",
            }
            self.requests_made += 1
            try:
                response = self.http.post(url, json=body, headers=headers, timeout=timeout)
            except requests.RequestException as exc:
                raise request_failed(exc, timeout) from None
            if response.status_code == 200:
                return response
            if response.status_code == 401 and attempt == 1:
                log.info("teams: token refused (%s); getting a new one", _graph_code(response))
                self._token = None
                continue
            if response.status_code == 401:
                raise AuthFailed(describe_http_error(response, "Graph refused a fresh token"))
            if response.status_code == 403:
                raise AuthFailed(describe_http_error(response, "forbidden") + _needs(permission))
            raise UpdateFailed(
                describe_http_error(response), retry_after=retry_after_seconds(response)
            )
        raise AssertionError("unreachable")

    def _valid_token(self) -> str:
        if self._token is None or self._monotonic() >= self._token.renew_at:
            self._token = self._request_token()
        return self._token.value

    def _request_token(self) -> _Token:
        config = self.config
        url = config.login_url.rstrip("/") + TOKEN_PATH.format(tenant=config.tenant_id)
        form = {
            "client_id": config.client_id,
            "client_secret": self._secret,
            "scope": config.scope,
            "grant_type": "client_credentials",
        }
        asked_at = self._monotonic()
        try:
            response = self.http.post(url, data=form, timeout=config.timeout_seconds)
        except requests.RequestException as exc:
            raise request_failed(exc, config.timeout_seconds) from None
        self.tokens_fetched += 1
        body = _json_or_none(response)
        if response.status_code in (400, 401, 403) and isinstance(body, dict):
            raise AuthFailed(
                f"Entra ID refused the token request: {body.get('error', 'error')}: "
                f"{_first_line(body.get('error_description'))}"
            )
        if response.status_code != 200:
            raise UpdateFailed(
                f"token request failed: HTTP {response.status_code}",
                retry_after=retry_after_seconds(response),
            )
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise UpdateFailed("malformed response: token reply without access_token")
        try:
            lifetime = float(body.get("expires_in", DEFAULT_EXPIRES_IN_S))
        except (TypeError, ValueError):
            raise UpdateFailed("malformed response: expires_in is not a number") from None
        # Counted from when we asked, not when the answer came: never later than Entra's.
        margin = min(config.token_renew_seconds, lifetime / 2)
        return _Token(body["access_token"], asked_at + lifetime - margin)


def _needs(permission: str) -> str:
    return f" (the app needs the application permission {permission} with admin consent)"


def _user_url(upn: str) -> str:
    """`/users/{upn}`, with Get user's two escapes: a `#` (B2B guests' `#EXT#`) as `%23`, and
    a name that begins with `$` in the `/users('...')` form (else a 400)."""
    quoted = quote(upn, safe="@!$&'()*+,;=-._~")
    if upn.startswith("$"):
        return f"/users('{quoted}')?$select=id,userPrincipalName"
    return f"/users/{quoted}?$select=id,userPrincipalName"


def _object_id(upn: str, answer: Any) -> str | None:
    if not isinstance(answer, dict):
        raise UpdateFailed(f"malformed response: $batch has no answer for {upn}")
    status, body = answer.get("status"), answer.get("body")
    if status == 404:
        return None
    if status == 403:
        raise AuthFailed(f"forbidden looking up {upn}{_needs(USER_PERMISSION)}")
    if status != 200:
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        headers = answer.get("headers")
        retry = headers.get("Retry-After") if isinstance(headers, dict) else None
        raise UpdateFailed(
            f"HTTP {status} looking up {upn}" + (f": {message}" if message else ""),
            retry_after=_seconds(retry),
        )
    object_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(object_id, str):
        raise UpdateFailed(f"malformed response: the user {upn} has no 'id'")
    return object_id.strip().lower()


def _seconds(value: Any) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def _json_body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise UpdateFailed("malformed response: body is not JSON") from None


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _first_line(description: Any) -> str:
    """AADSTS descriptions end with trace and correlation ids on further lines."""
    return str(description or "").splitlines()[0][:200] if description else ""


def _graph_code(response: requests.Response) -> str:
    body = _json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code")) if isinstance(error, dict) else f"HTTP {response.status_code}"
