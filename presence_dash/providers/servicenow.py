"""ServiceNow UI presence: polls `/api/now/ui/presence` the way the UI16 client does.

Wire details and their public sources: docs/providers/servicenow.md. Ages are measured on the
instance's clock (`serverTimeMilis - last_on`), never ours, so clock skew cannot turn people
grey. The request's field names are configurable because public sources leave them open.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from ..config import ServiceNowConfig, Settings
from ..model import Observation, Person, Status
from ..rules import status_from_age
from .base import AuthFailed, Clock, PollingProvider, UpdateFailed
from .http_errors import describe_http_error, request_failed, retry_after_seconds

log = logging.getLogger(__name__)

PRESENCE_PATH = "/api/now/ui/presence"
# The vendor's UI marks its polls as background requests; so do we (not user activity).
AUTO_REQUEST = {"sysparm_auto_request": "true"}
# The vendor's own client reads the double-L spelling; the 2018 article spells it with one.
SERVER_TIME_KEYS = ("serverTimeMillis", "serverTimeMilis")


class ServiceNowProvider(PollingProvider):
    name = "servicenow"

    def __init__(
        self,
        config: ServiceNowConfig,
        password: str,
        people: Sequence[Person],
        http: requests.Session,
        clock: Clock,
    ) -> None:
        super().__init__(people, http, clock)
        self.config = config
        self.http.auth = (config.username, password)
        self.http.headers["Accept"] = "application/json"
        self._by_sys_id = {p.source_ids[self.name]: p.id for p in self.people}
        self._warned: set[str] = set()

    @classmethod
    def from_settings(
        cls, settings: Settings, people: Sequence[Person], http: requests.Session, clock: Clock
    ) -> ServiceNowProvider:
        config = settings.providers.servicenow
        assert config is not None
        return cls(config, settings.secret(config.password_env) or "", people, http, clock)

    @property
    def poll_seconds(self) -> float:
        return self.config.poll_seconds

    def poll(self) -> list[Observation]:
        observations: list[Observation] = []
        for chunk in _chunks(list(self._by_sys_id), self.config.batch_size):
            observations.extend(self._poll_chunk(chunk))
        return observations

    def _poll_chunk(self, sys_ids: list[str]) -> list[Observation]:
        response = self._request(sys_ids)
        server_ms, entries = self._parse(response)
        now = self.clock()
        last_on: dict[str, int] = {}
        for entry in entries:
            parsed = self._entry(entry)
            if parsed is not None:
                last_on[parsed[0]] = max(parsed[1], last_on.get(parsed[0], 0))
        observations = []
        for sys_id in sys_ids:
            seen = last_on.get(sys_id)
            if seen is None:
                # No presence record: the user has not been active on the instance.
                status = Status.OFFLINE
            else:
                status = status_from_age(
                    server_ms - seen, self.config.online_within_s, self.config.away_within_s
                )
            observations.append(Observation(self._by_sys_id[sys_id], self.name, status, now))
        return observations

    def _request(self, sys_ids: list[str]) -> requests.Response:
        url = self.config.base_url.rstrip("/") + PRESENCE_PATH
        timeout = self.config.timeout_seconds
        try:
            if self.config.request_method == "POST":
                response = self.http.post(
                    url,
                    params=AUTO_REQUEST,
                    json={self.config.users_field: sys_ids},
                    timeout=timeout,
                )
            else:
                params = {**AUTO_REQUEST, self.config.users_field: ",".join(sys_ids)}
                response = self.http.get(url, params=params, timeout=timeout)
        except requests.RequestException as exc:
            raise request_failed(exc, timeout) from None
        if response.status_code in (401, 403):
            raise AuthFailed(describe_http_error(response, "credentials refused"))
        if response.status_code != 200:
            raise UpdateFailed(
                describe_http_error(response), retry_after=retry_after_seconds(response)
            )
        return response

    def _parse(self, response: requests.Response) -> tuple[int, list[Any]]:
        """(server time in epoch ms, presenceArray items) from a 200 response."""
        try:
            body = response.json()
        except ValueError:
            raise UpdateFailed("malformed response: body is not JSON") from None
        result = body.get("result") if isinstance(body, dict) else None
        if isinstance(result, list):
            # One public client sees `result` as the bare array: no server time in the body.
            return self._date_header_ms(response), result
        if not isinstance(result, dict):
            raise UpdateFailed("malformed response: no 'result' object")
        entries = result.get("presenceArray")
        if not isinstance(entries, list):
            raise UpdateFailed("malformed response: 'presenceArray' missing or not a list")
        for key in SERVER_TIME_KEYS:
            server_ms = result.get(key)
            if isinstance(server_ms, int | float) and not isinstance(server_ms, bool):
                return int(server_ms), entries
        if any(key in result for key in SERVER_TIME_KEYS):
            raise UpdateFailed("malformed response: 'serverTimeMillis' is not a number")
        return self._date_header_ms(response), entries

    def _date_header_ms(self, response: requests.Response) -> int:
        """The instance's clock from the HTTP Date header (1 s precision), never ours."""
        try:
            return int(parsedate_to_datetime(response.headers["Date"]).timestamp() * 1000)
        except (KeyError, TypeError, ValueError):
            raise UpdateFailed("malformed response: no server time (body or Date header)") from None

    def _entry(self, entry: Any) -> tuple[str, int] | None:
        """(sys_id, last_on) of one presenceArray item, or None (warned once) if unusable."""
        key = self.config.user_id_key
        if not isinstance(entry, dict):
            self._warn_once("presenceArray item is not an object")
            return None
        sys_id, last_on = entry.get(key), entry.get("last_on")
        if isinstance(sys_id, dict):  # a reference field: {"value": sys_id, "link": ...}
            sys_id = sys_id.get("value")
        if isinstance(last_on, str) and last_on.isdigit():
            last_on = int(last_on)
        if not isinstance(sys_id, str) or not isinstance(last_on, int):
            self._warn_once(f"presenceArray item without '{key}' and numeric 'last_on'")
            return None
        if sys_id not in self._by_sys_id:
            return None
        return sys_id, last_on

    def _warn_once(self, problem: str) -> None:
        if problem not in self._warned:
            self._warned.add(problem)
            log.warning("servicenow: ignoring malformed data: %s", problem)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
