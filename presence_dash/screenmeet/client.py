"""The ScreenMeet client: createSession, scheduleSession, rescheduleSession and closeSession.

ScreenMeet publishes these as methods of the `x_prois_sm.ScreenMeet` ServiceNow script include;
its public REST API (api-v3.screenmeet.com, per its own JS SDK) creates and closes sessions
with an agent's browser session token but has no schedule or reschedule. So we call a
Scripted REST API on the customer's instance that exposes the four methods one to one
(docs/providers/screenmeet.md ships it): `POST <base_url>/<method>` with the method's
parameters by name, basic auth, answers in ServiceNow's `{"result": ...}` wrapper.

Creates carry our `external_id` (the outbox intent's id): the bridge keeps it with the session,
answers a second create with the same id with the first session, and `findSession` looks a
session up by it, which is how a restart learns whether a create it had sent got through.

`hostAuthToken` and `urls.host` are the agent's secrets: they are never logged and never put
into an error message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from presence_dash.screenmeet.rules import UNSTORABLE, SessionRequest

log = logging.getLogger(__name__)


class ScreenMeetError(Exception):
    """A failed vendor call, ready for the API: `status` and `code` for the JSON error, and a
    message safe to show the agent (the vendor's own words where it gave some)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class VendorSession:
    """The fields of the vendor's session object we keep."""

    id: str
    type: str
    label: str
    status: str
    scheduled: bool
    start_time: datetime | None
    pin: int
    user_url: str
    host_url: str
    host_auth_token: str
    created_at: datetime | None
    updated_at: datetime | None
    expires_at: datetime | None
    settings: dict[str, bool] = field(hash=False)
    external_id: str | None = None


def _wire_time(moment: datetime) -> str:
    """The vendor's example format: `2021-08-10T15:30:00.000Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _text(value: Any) -> str:
    """Vendor text as our database can store it (no NUL, no unpaired surrogate): a session
    we could not save would be an orphan at the vendor."""
    return UNSTORABLE.sub("", str(value))


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ScreenMeetClient:
    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        timeout: float,
        http: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = http or requests.Session()
        self.http.auth = (username, password)
        self.http.headers.setdefault("Accept", "application/json")

    def create_session(self, req: SessionRequest, external_id: str) -> VendorSession:
        return self._session(self._call("createSession", self._params(req, external_id)))

    def schedule_session(self, req: SessionRequest, external_id: str) -> VendorSession:
        if req.start_time is None:
            raise ValueError("schedule_session needs a start_time")
        params = {"startTime": _wire_time(req.start_time), **self._params(req, external_id)}
        return self._session(self._call("scheduleSession", params))

    def find_session(self, external_id: str) -> VendorSession | None:
        """The session created with `external_id`, or None when the vendor has none."""
        try:
            return self._session(self._call("findSession", {"external_id": external_id}))
        except ScreenMeetError as exc:
            if exc.code == "vendor_not_found":
                return None
            raise

    def reschedule_session(self, session_id: str, start_time: datetime) -> VendorSession:
        params = {"ScreenMeetSessionId": session_id, "startTime": _wire_time(start_time)}
        return self._session(self._call("rescheduleSession", params))

    def close_session(self, session_id: str) -> None:
        result = self._call("closeSession", {"ScreenMeetSessionId": session_id})
        if not (isinstance(result, dict) and result.get("success") is True):
            raise ScreenMeetError(502, "vendor_bad_answer", "ScreenMeet did not confirm the close")

    @staticmethod
    def _params(req: SessionRequest, external_id: str) -> dict[str, Any]:
        return {
            "external_id": external_id,
            "type": req.type.value,
            "parent_object_table": req.parent_object_table,
            "parent_object_sys_id": req.parent_object_sys_id,
            "parent_object_display_name": req.parent_object_display_name,
            "screenmeet_session_name": req.label,
            "agent_prefs": dict(req.prefs),
        }

    def _call(self, method: str, params: dict[str, Any]) -> Any:
        url = f"{self.base_url}/{method}"
        try:
            response = self.http.post(url, json=params, timeout=self.timeout)
        except requests.Timeout:
            log.warning("screenmeet: %s: no answer within %g s", method, self.timeout)
            raise ScreenMeetError(
                504, "vendor_timeout", f"ScreenMeet did not answer within {self.timeout:g} s"
            ) from None
        except requests.RequestException as exc:
            log.warning("screenmeet: %s: %s", method, type(exc).__name__)
            raise ScreenMeetError(
                502, "vendor_unreachable", "cannot connect to ScreenMeet"
            ) from None
        if response.status_code != 200:
            raise self._failure(method, response)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "result" not in body:
            log.warning("screenmeet: %s: answer is not a ServiceNow result", method)
            raise ScreenMeetError(502, "vendor_bad_answer", "ScreenMeet's answer was not readable")
        return body["result"]

    @staticmethod
    def _failure(method: str, response: requests.Response) -> ScreenMeetError:
        message, detail = "", ""
        try:
            error = response.json().get("error")
            if isinstance(error, dict):
                message = str(error.get("message") or "")[:200]
                detail = str(error.get("detail") or "")[:300]
        except (ValueError, AttributeError):
            pass
        said = ": ".join(p for p in (message, detail) if p) or f"HTTP {response.status_code}"
        log.warning("screenmeet: %s: HTTP %s: %s", method, response.status_code, said)
        status = response.status_code
        if status in (401, 403):
            return ScreenMeetError(
                502, "vendor_auth_failed", f"ScreenMeet refused our credentials ({said})"
            )
        if status == 404:
            return ScreenMeetError(404, "vendor_not_found", f"ScreenMeet: {said}")
        if status == 409:
            return ScreenMeetError(409, "vendor_conflict", f"ScreenMeet: {said}")
        if 400 <= status < 500:
            return ScreenMeetError(422, "vendor_rejected", f"ScreenMeet: {said}")
        return ScreenMeetError(502, "vendor_error", f"ScreenMeet failed ({said})")

    @staticmethod
    def _session(result: Any) -> VendorSession:
        try:
            urls = result["urls"]
            pin = int(result.get("pin") or 0)
            settings = result.get("settings") or {}
            return VendorSession(
                id=_text(result["id"]),
                type=_text(result["type"]),
                label=_text(result.get("label") or ""),
                status=_text(result["status"]),
                scheduled=bool(result.get("scheduled")),
                start_time=_parse_time(result.get("startTime")),
                pin=pin,
                user_url=_text(urls["user"]),
                host_url=_text(urls["host"]),
                host_auth_token=_text(result.get("hostAuthToken") or ""),
                created_at=_parse_time(result.get("createdAt")),
                updated_at=_parse_time(result.get("updatedAt")),
                expires_at=_parse_time(result.get("expiresAt")),
                settings={_text(k): bool(v) for k, v in dict(settings).items()},
                external_id=_text(result["external_id"]) if result.get("external_id") else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            # Name the missing field only: the object holds the agent's secrets.
            log.warning("screenmeet: session object without %s", exc)
            raise ScreenMeetError(
                502, "vendor_bad_answer", "ScreenMeet's session object was incomplete"
            ) from None
