"""Cisco IM&P Presence Web Services (REST): pushed presence with a stall-proof lifecycle.

Flow (docs/providers/cisco.md): app-user login -> end-user login -> register our callback
as an endpoint -> subscribe the configured contacts -> on each notification GET, fetch the
subscription's presence. The vendor's stall rules are handled here, not just noted: the
server stops notifying until we fetch, and stops entirely at >= 80 % CPU, so every
(re)registration is followed by a fetch, a resync runs every `resync_seconds` whatever
happens, and resyncs that find changes nobody notified us of mark the provider degraded.
Expired session keys and a server that forgot our registration are recovered from.
Rich presence yields the most telling RPID activity and, when the PIDF dates it (RPID `from`),
when it began (docs/providers/cisco.md, "Busy and activities" and "Time in state").
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from xml.etree.ElementTree import Element

import requests
from defusedxml import ElementTree as SafeXML

from presence_dash.core.model import Observation, Person, Status
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
from presence_dash.providers.cisco.config import CiscoConfig
from presence_dash.providers.cisco.pidf import (
    ALIASES,
    activity_priority,
    local,
    on_our_clock,
    rich_state,
    xs_datetime,
)
from presence_dash.providers.http_errors import request_failed
from presence_dash.providers.notes import ProviderNotes

log = logging.getLogger(__package__)  # presence_dash.providers.cisco, as before the move

PREFIX = "/presence-service"
KEY_HEADER = "Presence-Session-Key"
EXPIRY_HEADER = "Presence-Expiry"
NOTIFICATION = "PRESENCE_NOTIFICATION"
CALLBACK_PATH = "pws"  # /hooks/cisco/pws
SESSION_CODES = {"100", "101"}  # no / invalid session key
GONE_CODES = {"132", "133", "137"}  # endpoint or subscription unknown (restart, failover)
LOGIN_REFUSED_CODES = {"111", "113", "114"}
SETTLE_SECONDS = 2.0  # a second fetch soon after (re)registering catches a racing notify
FAST_RESYNC_SECONDS = 60.0  # while notifications look stalled
RENEW_AT = 0.8  # of the expiry: endpoint and subscription expire at a fixed time
# A failing IM&P is retried this soon (then with backoff up to retry + 5 s), not only at the
# next resync, which is 10 minutes by default.
MAX_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class _Reported:
    """One contact's state in a fetch, and when it began on our clock (None: not said)."""

    state: str
    since: datetime | None = None


class _SessionLost(Exception):
    """The server no longer knows our session key: log in again."""


class _RegistrationLost(Exception):
    """The server no longer knows our endpoint or subscription: register again."""


@dataclass(frozen=True)
class _Registration:
    endpoint_id: str
    subscription_id: str
    created_at: datetime


class CiscoPwsProvider(PollingProvider):
    name = "cisco"

    def __init__(
        self,
        config: CiscoConfig,
        app_password: str,
        people: Sequence[Person],
        http: requests.Session,
        clock: Clock,
        notes: ProviderNotes,
    ) -> None:
        super().__init__(people, http, clock)
        self.config = config
        self.notes = notes
        self._app_password = app_password
        self.http.verify = config.verify_tls
        self.http.headers["Accept"] = "application/xml"
        self._by_uri = self.people_by_vendor_id
        self._app_key: str | None = None
        self._user_key: str | None = None
        self._reg: _Registration | None = None
        self._registrations = 0
        self._subscribing = False
        self._cleaned_up = False
        self._closed = False
        self._notifications = 0
        self._seen_notifications = 0
        self._last_states: dict[str, str] | None = None
        # (state, raw stamp) -> since, per contact: the Date-header offset moves by up to 1 s
        # between fetches, and an unchanged state must keep exactly the same since.
        self._dated: dict[str, tuple[tuple[str, str | None], datetime | None]] = {}
        self._missed = 0
        self._settle = False
        self._callback_problem: str | None = None
        self._probe_token = secrets.token_urlsafe(16)
        self._warn_once = WarnOnce(log, "cisco: ")

    def normalize_id(self, vendor_id: str) -> str:
        return vendor_id.lower()  # IM&P contact URIs are case-insensitive

    @classmethod
    def from_context(cls, ctx: ProviderContext) -> CiscoPwsProvider:
        config = ctx.settings.providers.cisco
        assert config is not None
        password = ctx.settings.secret(config.app_password_env) or ""
        return cls(config, password, ctx.people, ctx.http, ctx.clock, ctx.notes)

    @property
    def poll_seconds(self) -> float:
        return self.config.resync_seconds

    @property
    def retry_seconds(self) -> float:
        return min(self.config.resync_seconds, MAX_RETRY_SECONDS)

    @property
    def next_poll_seconds(self) -> float:
        if self._settle:
            return min(SETTLE_SECONDS, self.config.resync_seconds)
        wait = self.config.resync_seconds
        if self._missed:
            wait = min(FAST_RESYNC_SECONDS, wait)
        if self._reg is not None:
            # A resync interval longer than the renewal margin must not let the registration
            # lapse: wake up when it is due.
            due = self._reg.created_at + timedelta(seconds=self.config.expiry_seconds * RENEW_AT)
            wait = min(wait, max(0.0, (due - self.clock()).total_seconds()))
        return wait

    # -- refresh ---------------------------------------------------------------------------

    def poll(self) -> list[Observation]:
        notified = self._notifications != self._seen_notifications
        self._seen_notifications = self._notifications
        registrations = self._registrations
        self._settle = False
        reported = self._fetch_with_recovery()
        states = {uri: r.state for uri, r in reported.items()}
        self._check_stall(states, notified, fresh=registrations != self._registrations)
        self._last_states = states
        now = self.clock()
        return [
            self._observe(pid, reported.get(uri), now)
            for uri, pids in self._by_uri.items()
            for pid in pids
        ]

    def _observe(self, person_id: str, reported: _Reported | None, now: datetime) -> Observation:
        if reported is None:  # not in the reply: IM&P does not know this contact
            return Observation(
                person_id, self.name, Status.UNKNOWN, now, None, activity="Not in IM&P"
            )
        raw = reported.state
        mapped = self.config.mapping_for(raw)
        if mapped is None and raw in ALIASES:
            mapped = self.config.mapping_for(ALIASES[raw])
        if mapped is None:
            self._warn_once(f"no state_map entry for IM&P state {raw!r}; shown as unknown")
            return Observation(person_id, self.name, Status.UNKNOWN, now, raw)
        return Observation(
            person_id,
            self.name,
            Status(mapped.status),
            now,
            raw,
            activity=mapped.activity,
            state_since=reported.since,
        )

    def _fetch_with_recovery(self) -> dict[str, _Reported]:
        # A restarted server has lost both our session and our registration: up to two
        # recoveries, then give up until the next refresh.
        for attempt in (1, 2, 3):
            try:
                self._ensure_registered()
                return self._fetch()
            except _SessionLost:
                log.info("cisco: session key refused; logging in again")
                self._app_key = self._user_key = None
            except _RegistrationLost as exc:
                log.warning(
                    "cisco: IM&P no longer knows our registration (%s); registering again", exc
                )
                self._forget_registration()
            if attempt == 3:
                raise UpdateFailed("IM&P keeps refusing our session or registration")
        raise AssertionError("unreachable")

    def _check_stall(self, states: dict[str, str], notified: bool, fresh: bool) -> None:
        """A resync that finds changes no notification announced means notifications have
        stopped (IM&P at >= 80 % CPU, or it cannot reach our callback). One such resync can
        be a notification still in flight; two in a row are a stall."""
        last = self._last_states
        changed = [uri for uri, state in states.items() if last and last.get(uri) != state]
        if fresh or last is None or notified:
            self._missed = 0
        elif changed:
            self._missed += 1
            log.info("cisco: resync found %d change(s) without a notification", len(changed))
        if self._missed >= 2:
            self.health_warning = (
                f"notifications have stopped: resyncs found {len(changed)} change(s) that IM&P "
                "did not notify (IM&P CPU at 80 % or more, or it cannot reach "
                f"{self.config.callback_url}); resyncing every {self.next_poll_seconds:g} s"
            )
        else:
            self.health_warning = self._callback_problem

    # -- registration ------------------------------------------------------------------------

    def _ensure_registered(self) -> None:
        if self._app_key is None:
            body = f"<session><password>{_xml_text(self._app_password)}</password></session>"
            self._app_key = self._login(self.config.app_user, body, key=None)
        if self._user_key is None:
            self._user_key = self._login(self.config.end_user, "", key=self._app_key)
        if not self._cleaned_up:
            self._remove_previous_registration()
            self._cleaned_up = True
        if self._reg is not None and self._due_for_renewal(self._reg):
            old, self._reg = self._reg, None
            self._register()
            self._unregister(old)
        if self._reg is None:
            self._register()

    def _due_for_renewal(self, reg: _Registration) -> bool:
        return self.clock() - reg.created_at > timedelta(
            seconds=self.config.expiry_seconds * RENEW_AT
        )

    def _register(self) -> None:
        self._callback_problem = self._probe_callback()
        endpoint_xml = f"<endpoint><url>{_xml_text(self.config.callback_url)}</url></endpoint>"
        response = self._call("POST", "/endpoints", self._app_key, endpoint_xml, expiry=True)
        endpoint_id = _location_id(response)
        contacts = "".join(f'<contact contactURI="{_xml_attr(uri)}"/>' for uri in self._by_uri)
        subscription_xml = (
            f"<subscription><contactsList>{contacts}</contactsList>"
            f"<subscriptionType>{NOTIFICATION}</subscriptionType>"
            f"<endPointID>{endpoint_id}</endPointID></subscription>"
        )
        path = f"/users/{self.config.end_user}/subscriptions"
        # IM&P notifies a new subscription at once, often before its id reaches us.
        self._subscribing = True
        try:
            response = self._call("POST", path, self._user_key, subscription_xml, expiry=True)
            reg = _Registration(endpoint_id, _location_id(response), self.clock())
            self._reg = reg
        finally:
            self._subscribing = False
        self._registrations += 1
        self._settle = True
        self.notes.put(
            "registration",
            {
                "endpoint_id": reg.endpoint_id,
                "subscription_id": reg.subscription_id,
                "end_user": self.config.end_user,
            },
        )
        log.info(
            "cisco: registered endpoint %s and subscription %s for %d contact(s)",
            reg.endpoint_id,
            reg.subscription_id,
            len(self._by_uri),
        )

    def _remove_previous_registration(self) -> None:
        """What the vendor's pws-delete.py did, limited to what we created ourselves."""
        previous = self.notes.get("registration")
        if not isinstance(previous, dict):
            return
        user = str(previous.get("end_user") or self.config.end_user)
        sub, endpoint = previous.get("subscription_id"), previous.get("endpoint_id")
        log.info(
            "cisco: removing subscription %s and endpoint %s left by a previous run", sub, endpoint
        )
        self._unregister(_Registration(str(endpoint), str(sub), self.clock()), user)
        self.notes.put("registration", None)

    def _unregister(self, reg: _Registration, user: str | None = None) -> None:
        user = user or self.config.end_user
        for path, key in (
            (f"/users/{user}/subscriptions/{reg.subscription_id}", self._user_key),
            (f"/endpoints/{reg.endpoint_id}", self._app_key),
        ):
            try:
                self._call("DELETE", path, key, None)
            except _RegistrationLost:
                pass  # already gone: that is what we wanted
            except (UpdateFailed, AuthFailed, _SessionLost) as exc:
                log.warning("cisco: could not delete %s: %s", path, exc)

    def _forget_registration(self) -> None:
        self._reg = None
        self.notes.put("registration", None)

    def _probe_callback(self) -> str | None:
        """Check that our callback URL reaches this process (it must also be reachable from
        IM&P, which we cannot test from here)."""
        try:
            response = self.http.get(
                self.config.callback_url,
                params={"probe": self._probe_token},
                timeout=min(3.0, self.config.timeout_seconds),
            )
        except requests.RequestException as exc:
            problem = f"callback URL {self.config.callback_url} unreachable ({type(exc).__name__})"
        else:
            if response.status_code == 200:
                return None
            problem = (
                f"callback URL {self.config.callback_url} does not reach this dashboard "
                f"(HTTP {response.status_code})"
            )
        log.warning("cisco: %s", problem)
        return problem

    # -- vendor calls ------------------------------------------------------------------------

    def _login(self, user: str, body: str, key: str | None) -> str:
        try:
            response = self._call("POST", f"/users/{user}/sessions", key, body)
        except _SessionLost:
            if key is None:
                raise AuthFailed(f"IM&P refused the login of {user}") from None
            raise
        root = _parse_xml(response)
        session_key = next((el.text for el in root.iter() if local(el.tag) == "sessionKey"), None)
        if not session_key:
            raise UpdateFailed("malformed response: login reply without sessionKey")
        return session_key.strip()

    def _fetch(self) -> dict[str, _Reported]:
        assert self._reg is not None
        kind = self.config.presence_type
        path = f"/users/{self.config.end_user}/presence/{kind}/subscriptions/"
        response = self._call("GET", path + self._reg.subscription_id, self._user_key, None)
        now = self.clock()
        # IM&P's clock minus ours: RPID stamps are on the server's side of the wire.
        offset = (_date_header(response) or now) - now
        root = _parse_xml(response)
        if local(root.tag) != "presenceList":
            raise UpdateFailed(f"malformed response: <{local(root.tag)}> instead of presenceList")
        priority = activity_priority(self.config.state_map)
        states: dict[str, _Reported] = {}
        dated: dict[str, tuple[tuple[str, str | None], datetime | None]] = {}
        for contact in root:
            uri = contact.get("contactURI")
            if local(contact.tag) != "contact" or not uri:
                self._warn_once("presenceList item without contactURI ignored")
                continue
            if kind == "rich":
                state, stamp = rich_state(contact, priority)
            else:
                state, stamp = contact.get("presenceStatus"), None
            if not state:
                continue
            uri = uri.lower()
            key, previous = (state, stamp), self._dated.get(uri)
            since = previous[1] if previous and previous[0] == key else None
            if since is None:
                since = self._our_time(stamp, offset, now)
            dated[uri] = (key, since)
            states[uri] = _Reported(state, since)
        self._dated = dated
        return states

    def _our_time(self, stamp: str | None, offset: timedelta, now: datetime) -> datetime | None:
        """An RPID `from` on our clock; None when missing, unreadable or in the future."""
        if stamp is None:
            return None
        moment = xs_datetime(stamp)
        if moment is None:
            self._warn_once(f"unreadable RPID time stamp {stamp[:40]!r} ignored")
            return None
        ours = on_our_clock(moment, offset, now)
        if ours is None:
            self._warn_once(f"RPID time stamp {stamp[:40]!r} is in the future; ignored")
        return ours

    def _call(
        self, method: str, path: str, key: str | None, body: str | None, *, expiry: bool = False
    ) -> requests.Response:
        headers = {"Content-Type": "application/xml"} if body is not None else {}
        if key:
            headers[KEY_HEADER] = key
        if expiry:
            headers[EXPIRY_HEADER] = str(self.config.expiry_seconds)
        url = self.config.base_url.rstrip("/") + PREFIX + path
        timeout = self.config.timeout_seconds
        try:
            response = self.http.request(method, url, data=body, headers=headers, timeout=timeout)
        except requests.RequestException as exc:
            raise request_failed(exc, timeout) from None
        if response.status_code in (200, 201, 204):
            return response
        code, message = _vendor_error(response)
        detail = f"HTTP {response.status_code}" + (f" code {code}" if code else "")
        detail += f": {message}" if message else ""
        if response.status_code == 401 or code in SESSION_CODES:
            raise _SessionLost(detail)
        if code in GONE_CODES:
            raise _RegistrationLost(detail)
        if code in LOGIN_REFUSED_CODES or response.status_code == 404:
            raise AuthFailed(f"IM&P refused {method} {path.split('/')[1]}: {detail}")
        retry = 30.0 if response.status_code == 503 else None  # CPU or rate limit
        raise UpdateFailed(detail, retry_after=retry)

    # -- callbacks ---------------------------------------------------------------------------

    def handle_hook(self, request: HookRequest) -> HookResponse | None:
        if request.path != CALLBACK_PATH:
            return None
        if "probe" in request.args:
            ok = secrets.compare_digest(request.args["probe"], self._probe_token)
            return HookResponse(200, "pws callback ok") if ok else HookResponse(404, "unknown")
        sub_id, event = request.args.get("id", ""), request.args.get("eventType", "")
        if request.method != "GET" or event != NOTIFICATION or not sub_id.isalnum():
            self._warn_once(
                f"ignoring a malformed notification from {request.remote_addr}: "
                f"{request.method} id={sub_id[:20]!r} eventType={event[:30]!r}"
            )
            return HookResponse(400, "not a presence notification")
        reg = self._reg
        if self._subscribing:
            pass  # the first notification of the subscription being created: fetch after it
        elif reg is None or sub_id != reg.subscription_id:
            self._warn_once(f"ignoring a notification for subscription {sub_id!r} (not ours)")
            return HookResponse(404, "unknown subscription")
        self._notifications += 1
        return HookResponse(200, "ok", refresh=True)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._reg is not None:
                self._unregister(self._reg)
                self._forget_registration()
        except Exception:
            log.exception("cisco: error while removing our registration")
        finally:
            super().close()


def _date_header(response: requests.Response) -> datetime | None:
    try:
        return parsedate_to_datetime(response.headers["Date"]).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        return None


def _parse_xml(response: requests.Response) -> Element:
    try:
        return SafeXML.fromstring(response.content)
    except (SafeXML.ParseError, ValueError) as exc:
        raise UpdateFailed(f"malformed response: not XML ({type(exc).__name__})") from None


def _vendor_error(response: requests.Response) -> tuple[str | None, str]:
    """(code, message) of PWS's `<description><code/><message/></description>` body."""
    try:
        root = SafeXML.fromstring(response.content)
    except Exception:
        return None, ""
    fields: dict[str, Any] = {local(el.tag): (el.text or "").strip() for el in root.iter()}
    return fields.get("code") or None, str(fields.get("message", ""))[:200]


def _location_id(response: requests.Response) -> str:
    """The new resource's id: the last path segment of `Location` (the vendor's sample took
    the last character, which breaks at id 10)."""
    location = response.headers.get("Location", "").rstrip("/")
    ident = location.rsplit("/", 1)[-1]
    if not ident.isalnum():
        raise UpdateFailed("malformed response: no id in the Location header")
    return ident


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_attr(value: str) -> str:
    return _xml_text(value).replace('"', "&quot;")
