"""The Microsoft Graph calls: a client-credentials token from Entra ID, cached and renewed
before it lapses, and `POST /communications/getPresencesByUserId` in batches of at most 650
ids. Failures become the typed errors of providers/base.py with short, secret-free messages.
Wire details and their sources: docs/providers/teams.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from presence_dash.providers.base import AuthFailed, UpdateFailed
from presence_dash.providers.http_errors import (
    describe_http_error,
    request_failed,
    retry_after_seconds,
)
from presence_dash.providers.teams.config import TeamsConfig

log = logging.getLogger(__name__)

PRESENCES_PATH = "/communications/getPresencesByUserId"
TOKEN_PATH = "/{tenant}/oauth2/v2.0/token"
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
        self.requests_made = 0  # presence requests, for the requests-per-poll metric
        self.tokens_fetched = 0

    def presences(self, ids: list[str]) -> list[Any]:
        """Every `value` item Graph returns for `ids`, one request per batch."""
        items: list[Any] = []
        size = self.config.batch_size
        for start in range(0, len(ids), size):
            items.extend(self._fetch(ids[start : start + size]))
        return items

    def _fetch(self, ids: list[str]) -> list[Any]:
        response = self._post_with_token({"ids": ids})
        try:
            body = response.json()
        except ValueError:
            raise UpdateFailed("malformed response: body is not JSON") from None
        value = body.get("value") if isinstance(body, dict) else None
        if not isinstance(value, list):
            raise UpdateFailed("malformed response: no 'value' list of presences")
        return value

    def _post_with_token(self, body: dict[str, Any]) -> requests.Response:
        """POST with the cached token; a 401 gets a new token once (it may have been revoked
        or have lapsed early), a second 401 needs a human."""
        url = self.config.base_url.rstrip("/") + PRESENCES_PATH
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
                raise AuthFailed(
                    describe_http_error(response, "forbidden")
                    + " (the app needs the application permission Presence.Read.All with"
                    " admin consent)"
                )
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
