"""ServiceNow UI presence: polls `/api/now/ui/presence` the way the UI16 client does.

Wire details and their public sources: docs/providers/servicenow.md. Ages are measured on the
instance's clock (`serverTimeMilis - last_on`), never ours, so clock skew cannot turn people
grey; so is how long someone has been away or offline (`state_since`). The instance answers
for everyone it tracks whatever users we name, so the adapter asks once per poll when it sees
that, and once per batch otherwise. The request's field names are configurable because public
sources leave them open.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from presence_dash.core.model import Observation, Person, Status
from presence_dash.core.rules import status_from_age
from presence_dash.core.warn_once import WarnOnce
from presence_dash.providers.base import (
    AuthFailed,
    Clock,
    PollingProvider,
    ProviderContext,
    UpdateFailed,
)
from presence_dash.providers.http_errors import (
    describe_http_error,
    request_failed,
    retry_after_seconds,
)
from presence_dash.providers.servicenow.config import ServiceNowConfig

log = logging.getLogger(__package__)  # presence_dash.providers.servicenow, as before the move

PRESENCE_PATH = "/api/now/ui/presence"
# The vendor's UI marks its polls as background requests; so do we (not user activity).
AUTO_REQUEST = {"sysparm_auto_request": "true"}
# The vendor's own client reads the double-L spelling; the 2018 article spells it with one.
SERVER_TIME_KEYS = ("serverTimeMillis", "serverTimeMilis")
TABLE_PATH = "/api/now/table/sys_user_presence"
TABLE_IDS_PER_QUERY = 100
TABLE_PAGE_SIZE = 1000
TABLE_MAX_ROWS = 100_000  # a runaway pager must end
# Without an order the Table API may shift rows between pages (duplicates, misses); sys_id
# is unique, so the order is total (docs/providers/servicenow.md, section 5).
TABLE_ORDER = "^ORDERBYsys_id"


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
        self._by_sys_id = self.people_by_vendor_id
        self._warn_once = WarnOnce(log, "servicenow: ignoring malformed data: ")
        # Whether the last poll's answers showed that the instance ignores the users hint.
        self._hint_ignored = False
        self.requests_last_poll = 0

    @classmethod
    def from_context(cls, ctx: ProviderContext) -> ServiceNowProvider:
        config = ctx.settings.providers.servicenow
        assert config is not None
        password = ctx.settings.secret(config.password_env) or ""
        return cls(config, password, ctx.people, ctx.http, ctx.clock)

    @property
    def poll_seconds(self) -> float:
        return self.config.poll_seconds

    def poll(self) -> list[Observation]:
        self.requests_last_poll = 0
        return self._poll_table() if self.config.mode == "table" else self._poll_ui()

    def _poll_ui(self) -> list[Observation]:
        """One request per batch while the instance honours the users hint; a single one
        when its first answer shows that it answers for everyone."""
        sys_ids = list(self._by_sys_id)
        size = self.config.batch_size
        observations: list[Observation] = []
        answers_for_all = False
        for start in range(0, len(sys_ids), size):
            batch = sys_ids[start : start + size]
            server_ms, last_on = self._fetch_ui(batch)
            # One of our people outside the batch in the answer: the instance ignored the
            # hint (the vendor's own client never sends one) and answered for everyone it
            # tracks, so this answer covers the rest too and someone missing from it has no
            # record. Strangers prove nothing: an answer that honours the hint may still
            # carry the caller's own record. Every poll starts with one batch, so an
            # instance that honours the hint again is asked batch by batch again.
            answers_for_all = not last_on.keys() <= set(batch)
            covered = sys_ids[start:] if answers_for_all else batch
            observations.extend(self._observe(covered, server_ms, last_on))
            if answers_for_all:
                break
        if sys_ids and answers_for_all != self._hint_ignored:
            log.info(
                "servicenow: the instance %s the users hint: %s",
                "ignores" if answers_for_all else "honours",
                "one request per poll" if answers_for_all else f"one request per {size} people",
            )
            self._hint_ignored = answers_for_all
        return observations

    def _poll_table(self) -> list[Observation]:
        observations: list[Observation] = []
        # The Table API takes the ids in the URL: keep queries well under URL limits.
        size = min(self.config.batch_size, TABLE_IDS_PER_QUERY)
        for chunk in _chunks(list(self._by_sys_id), size):
            server_ms, last_on = self._fetch_table(chunk)
            observations.extend(self._observe(chunk, server_ms, last_on))
        return observations

    def _observe(
        self, sys_ids: list[str], server_ms: int, last_on: dict[str, int]
    ) -> list[Observation]:
        now = self.clock()
        online_s, away_s = self.config.online_within_s, self.config.away_within_s
        observations = []
        for sys_id in sys_ids:
            seen = last_on.get(sys_id)
            if seen is None:
                # No presence record: the user has not been active on the instance, so
                # nothing says since when they are offline.
                status, since = Status.OFFLINE, None
            else:
                age_ms = server_ms - seen
                status = status_from_age(age_ms, online_s, away_s)
                since = state_since(status, age_ms, now, online_s, away_s)
            observations.extend(
                Observation(pid, self.name, status, now, state_since=since)
                for pid in self._by_sys_id[sys_id]
            )
        return observations

    def _fetch_ui(self, sys_ids: list[str]) -> tuple[int, dict[str, int]]:
        if self.config.request_method == "POST":
            response = self._send(
                "POST", PRESENCE_PATH, params=AUTO_REQUEST, json={self.config.users_field: sys_ids}
            )
        else:
            params = {**AUTO_REQUEST, self.config.users_field: ",".join(sys_ids)}
            response = self._send("GET", PRESENCE_PATH, params=params)
        server_ms, entries = self._parse(response)
        last_on: dict[str, int] = {}
        for entry in entries:
            parsed = self._entry(entry, self.config.user_id_key, "last_on")
            if parsed is not None:
                last_on[parsed[0]] = max(parsed[1], last_on.get(parsed[0], 0))
        return server_ms, last_on

    def _fetch_table(self, sys_ids: list[str]) -> tuple[int, dict[str, int]]:
        """sys_user_presence through the Table API, paged with sysparm_offset."""
        last_on: dict[str, int] = {}
        server_ms: int | None = None
        offset = 0
        while True:
            params = {
                "sysparm_query": "userIN" + ",".join(sys_ids) + TABLE_ORDER,
                "sysparm_fields": "user,last_on,sys_updated_on",
                "sysparm_exclude_reference_link": "true",
                "sysparm_limit": str(TABLE_PAGE_SIZE),
                "sysparm_offset": str(offset),
            }
            response = self._send("GET", TABLE_PATH, params=params)
            server_ms = server_ms or self._date_header_ms(response)
            rows = self._table_rows(response)
            for row in rows:
                field = "last_on" if row.get("last_on") else "sys_updated_on"
                parsed = self._entry(row, "user", field)
                if parsed is not None:
                    last_on[parsed[0]] = max(parsed[1], last_on.get(parsed[0], 0))
            offset += len(rows)
            total = response.headers.get("X-Total-Count", "")
            # Page by the total when the instance sends it: an instance-wide row cap can
            # return short pages that are not the last one.
            done = offset >= int(total) if total.isdigit() else len(rows) < TABLE_PAGE_SIZE
            if done or not rows or offset >= TABLE_MAX_ROWS:
                return server_ms, last_on

    def _table_rows(self, response: requests.Response) -> list[Any]:
        try:
            body = response.json()
        except ValueError:
            raise UpdateFailed("malformed response: body is not JSON") from None
        rows = body.get("result") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise UpdateFailed("malformed response: 'result' is not a list of records")
        return rows

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self.config.base_url.rstrip("/") + path
        timeout = self.config.timeout_seconds
        self.requests_last_poll += 1
        try:
            response = self.http.request(method, url, timeout=timeout, **kwargs)
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

    def _entry(self, entry: Any, id_key: str, time_key: str) -> tuple[str, int] | None:
        """(sys_id, epoch ms) of one presence item or table row; None (warned once) if
        unusable or not one of ours."""
        if not isinstance(entry, dict):
            self._warn_once("presence item is not an object")
            return None
        sys_id, moment = entry.get(id_key), _epoch_ms(entry.get(time_key))
        if isinstance(sys_id, dict):  # a reference field: {"value": sys_id, "link": ...}
            sys_id = sys_id.get("value")
        if not isinstance(sys_id, str) or moment is None:
            self._warn_once(f"presence item without '{id_key}' and a usable '{time_key}'")
            return None
        if sys_id not in self._by_sys_id:
            return None
        return sys_id, moment


def state_since(
    status: Status, age_ms: int, now: datetime, online_within_s: float, away_within_s: float
) -> datetime | None:
    """When a user's current status began, on our clock (pure). Away began `online_within_s`
    after the last activity and offline `away_within_s` after it; the age is measured on the
    instance's clock, so only a duration crosses between the clocks and skew cancels out.
    Online began when the current run of activity began, which `last_on` does not tell: None.
    """
    if status is Status.AWAY:
        threshold_s = online_within_s
    elif status is Status.OFFLINE:
        threshold_s = away_within_s
    else:
        return None
    # Never in our future, even if the instance's answer and our clock disagree slightly.
    return now - timedelta(milliseconds=max(0.0, age_ms - threshold_s * 1000))


def _epoch_ms(value: Any) -> int | None:
    """Epoch ms from a number, a numeric string, or a Glide date-time ("2026-11-23 12:00:00",
    UTC in the REST APIs)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        try:
            moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            return None
        return int(moment.timestamp() * 1000)
    return None


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
