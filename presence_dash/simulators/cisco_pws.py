"""A local stand-in for Cisco IM&P Presence Web Services (PWS) REST.

Speaks the wire format of docs/providers/cisco.md ("Wire format"): app-user and end-user sessions
(`Presence-Session-Key`), endpoints and subscriptions with an absolute `Presence-Expiry`,
basic and rich subscribed-presence fetches, Cisco's XML error body, and the notification
`GET <endpoint>?id=<sub>&eventType=PRESENCE_NOTIFICATION`, with the vendor quirks: no further
notification for a subscription until it is fetched, none at all while CPU >= 80 %, and a
restart forgets every session, endpoint and subscription.
Shares no code with the adapter so each can catch the other's mistakes.

Scripted mode (tests) is driven over HTTP under `/_sim/` (contacts, CPU, restart, session
expiry, a simulated clock, queued faults, state and the notification log). Demo mode gives
contacts a working day on a background thread: mostly available, with calls, meetings,
presentations and breaks of a few minutes, and a few in one state for hours.
The simulated clock is also the node's: it dates rich presence (RPID `from`, off by default
as in Cisco's samples) and the HTTP `Date` of every reply.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import requests
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as defused_et
from flask import Flask, Response, jsonify, request
from werkzeug.http import http_date

from presence_dash.simulators.callouts import Callouts, start_ticker
from presence_dash.simulators.control import add_fault_route

log = logging.getLogger(__name__)

BASE = "/presence-service"
STATUSES = ("AVAILABLE", "AWAY", "DND", "BUSY", "VACATION", "UNAVAILABLE", "UNKNOWN")
BASIC_STORED = {"BUSY": "AWAY", "VACATION": "AWAY"}  # cookbook: stored as Away
STATUS_ACTIVITY = {s: s.lower() for s in ("AVAILABLE", "AWAY", "DND", "BUSY", "VACATION")}
FAULT_KINDS = {"500", "503", "slow", "malformed", "401"}
MIN_EXPIRY, MAX_EXPIRY = 3600, 86400
CPU_LIMIT = 80.0
CONTACT_URI = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+$")
ACTIVITY = re.compile(r"^[a-z][a-z0-9-]*$")
OPTIONS = ("rpid_from", "basic_as_stored")  # the node's behaviour switches under /_sim/options
STAMP_TEXT = re.compile(r"^[ -~]{0,64}$")  # a raw `from` for tests: printable, short
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
XML_TYPE = "application/xml; charset=UTF-8"
PIDF_NS = "urn:ietf:params:xml:ns:pidf"
RPID_NS = "urn:cisco:params:xml:ns:pidf:rpid"  # as in the doc's proposed wrapper
ERROR_NS = "urn:cisco:cup:presence:soap"

# code -> (HTTP status, message, fix). HTTP codes from the cookbook's REST column (doc section
# 8); 133 and 210 texts are copied from real replies, the others are worded here.
ERRORS: dict[int, tuple[int, str, str]] = {
    100: (401, "No session key was provided", "Log in and send the Presence-Session-Key header"),
    101: (401, "The session key is invalid", "Log in again to get a new session key"),
    102: (400, "The request XML is malformed", "Send well-formed XML"),
    110: (400, "The presence type is invalid", "Use basic or rich"),
    111: (400, "The password is empty", "Provide the user's password"),
    113: (404, "The user does not exist", "Check the user name"),
    114: (400, "The login failed", "Check the user name and password"),
    123: (400, "The endpoint URL cannot be changed", "Send only the expiry to refresh"),
    124: (400, "A contact URI is invalid", "Use contact URIs of the form user@domain"),
    130: (400, "The endpoint URL is empty or invalid", "Provide an http or https URL"),
    131: (400, "The expiry is invalid", f"Use an expiry of {MIN_EXPIRY} to {MAX_EXPIRY} seconds"),
    132: (400, "The endpoint id does not exist", "Register the endpoint again"),
    133: (
        400,
        "The subscription id does not exist",
        "Ensure the value is not less than 0 or that the id was not previously unsubscribed",
    ),
    134: (400, "The subscription type is invalid", "Use PRESENCE_NOTIFICATION"),
    135: (400, "The number of contacts is invalid", "Subscribe to 1 to 5000 contacts"),
    136: (400, "The session does not own this resource", "Use the session that created it"),
    137: (400, "The subscription belongs to another user", "Use the subscriber's session"),
    138: (400, "There are no free endpoints", "Delete unused endpoints"),
    139: (400, "There are no free subscriptions", "Delete unused subscriptions"),
    142: (400, "The endpoint URL contains spaces", "Encode or remove the spaces"),
    200: (500, "Internal server error", "Retry the request later"),
    210: (503, "Max cpu utilization reached", "Wait before sending another request"),
}


class PwsError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class ContactState:
    status: str = "AVAILABLE"  # as set; BUSY/VACATION read back as AWAY in basic presence
    activities: list[str] = field(default_factory=list)
    since: float = 0.0  # simulated time this state began
    from_text: str | None = None  # a raw RPID `from` to send instead (malformed-stamp tests)

    def same_as(self, other: ContactState) -> bool:
        return (self.status, self.activities, self.from_text) == (
            other.status,
            other.activities,
            other.from_text,
        )


@dataclass
class Session:
    user: str
    key: str
    app_user: str | None  # None for the app user itself; the app for an end user
    expires_at: float | None


@dataclass
class Endpoint:
    id: int
    url: str
    owner: str  # the app user that registered it
    expires_at: float


@dataclass
class Subscription:
    id: int
    user: str
    contacts: list[str]
    endpoint_id: int
    app_user: str
    expires_at: float
    awaiting_fetch: bool = False  # notified, not yet fetched: the no-more-notifications quirk


@dataclass
class DemoContact:
    until: float  # simulated time when the contact changes next
    busy: bool = False  # in an episode (or a long state): available comes next


# The demo's working day. Between episodes a contact is available for AVAILABLE_S; each
# episode is (status, activities, shortest s, longest s, weight). IM&P publishes a meeting as
# <busy/><meeting/> [PY device_presence_meeting.py] and a call as busy + on-the-phone; a
# presenter is put on DND. These shares keep about 15-20 % of contacts busy at any moment.
AVAILABLE_S = (360.0, 780.0)
EPISODES: tuple[tuple[str, tuple[str, ...], float, float, int], ...] = (
    ("BUSY", ("on-the-phone",), 60, 300, 25),
    ("BUSY", ("meeting",), 180, 480, 20),
    ("DND", ("presenting",), 120, 300, 5),
    ("DND", (), 120, 360, 5),
    ("AWAY", (), 60, 240, 35),
    ("UNAVAILABLE", (), 120, 360, 10),
)
# One contact in LONG_EVERY keeps one of these for LONG_S, begun before the demo started.
LONG_EVERY = 8
LONG_S = (3600.0, 3 * 3600.0)
LONG_STATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("VACATION", ()),
    ("BUSY", ("meeting",)),  # an all-day workshop
    ("AWAY", ()),
    ("UNAVAILABLE", ()),
)


@dataclass
class CiscoPwsSim:
    """The simulated IM&P node. Expiry maths run on `now()`: wall time plus `offset_s`."""

    app_user: str = "presence.app"
    app_password: str = "secret"
    end_users: set[str] = field(default_factory=lambda: {"presence.dash@example.com"})
    contacts: dict[str, ContactState] = field(default_factory=dict)
    session_ttl_s: float | None = None
    cpu_percent: float = 10.0
    offset_s: float = 0.0
    rpid_from: bool = False  # date rich activities (RFC 4480 `from`); Cisco's samples do not
    basic_as_stored: bool = True  # BUSY and VACATION read back as AWAY in basic [CB]
    notify_timeout_s: float = 2.0
    max_endpoints: int = 50
    max_subscriptions: int = 500
    sessions: dict[str, Session] = field(default_factory=dict)  # by user
    endpoints: dict[int, Endpoint] = field(default_factory=dict)
    subscriptions: dict[int, Subscription] = field(default_factory=dict)
    fetches: int = 0
    next_endpoint_id: int = 1
    next_subscription_id: int = 1
    faults: deque[dict[str, Any]] = field(default_factory=deque)
    notifications: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1000))
    requests_log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1000))
    demo: dict[str, DemoContact] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _callouts: Callouts = field(default_factory=lambda: Callouts("cisco-sim-notify"), repr=False)
    _generation: int = 0  # bumped by restart: queued notifications of an older node are dropped
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def now(self) -> float:
        return time.time() + self.offset_s

    # -- state changes that tests and the demo make ------------------------------------------

    def set_contact(
        self,
        uri: str,
        status: str,
        activities: list[str] | None = None,
        from_text: str | None = None,
        since: float | None = None,
    ) -> list[int]:
        """Set a contact's presence (UNKNOWN forgets it); returns the subscriptions notified.
        The state begins now (or at `since`, simulated time) unless it is unchanged."""
        with self.lock:
            new = ContactState(status, list(activities or []), self.now(), from_text)
            if since is not None:
                new.since = since
            old = self.contacts.get(uri, ContactState("UNKNOWN"))
            if old.same_as(new):
                return []
            if status == "UNKNOWN":
                self.contacts.pop(uri, None)
            else:
                self.contacts[uri] = new
            self._purge()
            subs = [s for s in self.subscriptions.values() if uri in s.contacts]
            return [s.id for s in subs if self._notify(s)]

    def restart(self) -> None:
        """The node restarts: sessions, endpoints and subscriptions are gone; ids keep growing
        so a client holding a stale id gets 132/133 rather than someone else's resource."""
        with self.lock:
            self.sessions.clear()
            self.endpoints.clear()
            self.subscriptions.clear()
            self._generation += 1

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()

    def add_fault(self, kind: str, count: int = 1, delay_s: float = 2.0) -> None:
        with self.lock:
            self.faults.extend({"kind": kind, "delay_s": delay_s} for _ in range(count))

    def state(self) -> dict[str, Any]:
        with self.lock:
            self._purge()
            now = self.now()
            return {
                "sessions": {
                    "app": sum(1 for s in self.sessions.values() if s.app_user is None),
                    "end": sum(1 for s in self.sessions.values() if s.app_user is not None),
                },
                "endpoints": [
                    {"id": e.id, "url": e.url, "expires_in": round(e.expires_at - now, 1)}
                    for e in self.endpoints.values()
                ],
                "subscriptions": [
                    {
                        "id": s.id,
                        "user": s.user,
                        "endpoint_id": s.endpoint_id,
                        "contacts": list(s.contacts),
                        "awaiting_fetch": s.awaiting_fetch,
                        "expires_in": round(s.expires_at - now, 1),
                    }
                    for s in self.subscriptions.values()
                ],
                "fetches": self.fetches,
                "cpu": self.cpu_percent,
                "options": {key: getattr(self, key) for key in OPTIONS},
                "pending_faults": len(self.faults),
            }

    # -- notifications ---------------------------------------------------------------------

    def _notify(self, sub: Subscription) -> bool:
        """Queue a notification unless the quirks forbid it (call with the lock held)."""
        endpoint = self.endpoints.get(sub.endpoint_id)
        if sub.awaiting_fetch or self.cpu_percent >= CPU_LIMIT or endpoint is None:
            return False
        sub.awaiting_fetch = True  # set now: a failed GET still blocks later notifications
        generation, url, sub_id = self._generation, endpoint.url, sub.id
        self._callouts.put(lambda: self._send_unless_restarted(generation, url, sub_id))
        return True

    def _send_unless_restarted(self, generation: int, url: str, sub_id: int) -> None:
        if generation == self._generation:
            self._send(url, sub_id)

    def _send(self, url: str, sub_id: int) -> None:
        params = {"id": str(sub_id), "eventType": "PRESENCE_NOTIFICATION"}
        entry: dict[str, Any] = {"url": url, "subscription_id": sub_id, "at": time.time()}
        try:  # one attempt, no retry (doc section 7, proposed)
            reply = requests.get(url, params=params, timeout=self.notify_timeout_s)
            entry["url"], entry["status"] = reply.url, reply.status_code
            log.info("notification %s -> %s", reply.url, reply.status_code)
        except requests.RequestException as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            log.info("notification %s?id=%s failed: %s", url, sub_id, entry["error"])
        self.notifications.append(entry)

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every queued notification has been sent (or failed)."""
        return self._callouts.drain(timeout)

    def close(self) -> None:
        """Stop the notification worker and the demo thread."""
        self._stop.set()
        self._callouts.close()

    # -- demo mode ---------------------------------------------------------------------------

    def add_demo_contacts(self, uris: list[str], rng: random.Random | None = None) -> None:
        """Demo mode: each contact starts somewhere in its day (drawn in proportion to the
        time each state takes, so the busy share is right from the first second), then
        alternates between available spells and episodes (EPISODES); one in LONG_EVERY is in
        a long state (LONG_STATES) that began before the demo did."""
        if rng is not None:
            self.rng = rng
        with self.lock:
            now = self.now()
            for index, uri in enumerate(uris):
                long = index % LONG_EVERY == LONG_EVERY // 2
                if long:
                    status, activities = self.rng.choice(LONG_STATES)
                    length, busy = self.rng.uniform(*LONG_S), True
                else:
                    status, activities, length, busy = self._demo_start()
                # a long state has at least half of it to go: it is there for the whole demo
                left = length * self.rng.uniform(0.5 if long else 0.05, 1.0)
                began = now - (length - left)
                self.contacts[uri] = ContactState(status, list(activities), began)
                self.demo[uri] = DemoContact(now + left, busy)

    def _demo_start(self) -> tuple[str, tuple[str, ...], float, bool]:
        """A state drawn with the share of the day it takes: weight x mean length."""
        total = sum(e[4] for e in EPISODES)
        options = [(("AVAILABLE", (), *AVAILABLE_S), False, sum(AVAILABLE_S) / 2)]
        options += [
            ((st, act, lo, hi), True, w / total * (lo + hi) / 2) for st, act, lo, hi, w in EPISODES
        ]
        (status, activities, lo, hi), busy, _ = self.rng.choices(
            options, [share for *_, share in options]
        )[0]
        return status, activities, self.rng.uniform(lo, hi), busy

    def advance_demo(self) -> list[str]:
        """Apply the demo changes that are due (they notify like any change): an episode or
        a long state ends in an available spell, an available spell in an episode."""
        changed = []
        with self.lock:
            now = self.now()
            for uri, demo in self.demo.items():
                if now < demo.until:
                    continue
                if demo.busy:
                    status, activities, length = "AVAILABLE", (), self.rng.uniform(*AVAILABLE_S)
                else:
                    status, activities, lo, hi, _ = self.rng.choices(
                        EPISODES, [e[4] for e in EPISODES]
                    )[0]
                    length = self.rng.uniform(lo, hi)
                self.set_contact(uri, status, list(activities))
                demo.until, demo.busy = now + length, not demo.busy
                changed.append(uri)
        return changed

    def start_demo(self, interval_s: float = 1.0) -> threading.Thread:
        return start_ticker("cisco-sim-demo", interval_s, self._stop, self.advance_demo)

    # -- bookkeeping -------------------------------------------------------------------------

    def _purge(self) -> None:
        """Expired endpoints, subscriptions and sessions vanish (absolute timers)."""
        now = self.now()
        self.endpoints = {i: e for i, e in self.endpoints.items() if e.expires_at > now}
        self.subscriptions = {i: s for i, s in self.subscriptions.items() if s.expires_at > now}
        self.sessions = {
            u: s for u, s in self.sessions.items() if s.expires_at is None or s.expires_at > now
        }

    def _session(self, key: str | None) -> Session:
        if not key:
            raise PwsError(100)
        # an app user that is gone takes its end users with it [OVW]
        for s in self.sessions.values():
            if s.key == key and (s.app_user is None or s.app_user in self.sessions):
                return s
        raise PwsError(101)

    def _login(self, user: str, forced: bool, app_user: str | None) -> str:
        old = self.sessions.get(user)
        if old is not None and not forced:
            return old.key
        ttl = self.session_ttl_s
        expires = None if ttl is None else self.now() + ttl
        self.sessions[user] = Session(user, str(uuid.uuid4()), app_user, expires)
        return self.sessions[user].key


def create_app(sim: CiscoPwsSim) -> Flask:
    app = Flask(__name__)

    @app.errorhandler(PwsError)
    def pws_error(exc: PwsError) -> Response:
        return _error(exc.code)

    @app.before_request
    def take_fault() -> Response | None:
        if not request.path.startswith(BASE + "/"):
            return None
        with sim.lock:
            fault = sim.faults.popleft() if sim.faults else None
        request.environ["sim.fault"] = fault and fault["kind"]
        if fault is None:
            return None
        kind = fault["kind"]
        if kind == "slow":
            time.sleep(fault["delay_s"])
            return None
        if kind == "malformed":
            body = DECLARATION + '<presenceList type="basic">\n    <contact contactURI='
            return Response(body, 200, content_type=XML_TYPE)
        return _error({"500": 200, "503": 210, "401": 101}[kind])

    @app.after_request
    def record(response: Response) -> Response:
        # The node's own clock, which an adapter may compare its RPID stamps with.
        response.headers["Date"] = http_date(sim.now())
        if request.path.startswith(BASE + "/"):
            sim.requests_log.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "fault": request.environ.get("sim.fault"),
                    "at": time.time(),
                }
            )
        return response

    # -- sessions ----------------------------------------------------------------------------

    @app.route(f"{BASE}/users/<user>/sessions", methods=["POST"])
    @app.route(f"{BASE}/users/<user>/session", methods=["PUT"])
    def login(user: str) -> Response:
        forced = request.method == "PUT"
        with sim.lock:
            sim._purge()
            if user == sim.app_user:
                root = _xml_body(required=True)
                password = root.findtext("password") if root.tag == "session" else None
                if not password:
                    raise PwsError(111)
                if password != sim.app_password:
                    raise PwsError(114)
                key = sim._login(user, forced, None)
            elif user in sim.end_users:
                app_session = sim._session(request.headers.get("Presence-Session-Key"))
                if app_session.app_user is not None:
                    raise PwsError(101)  # an end user's key cannot log in others
                _xml_body(required=False)
                key = sim._login(user, forced, app_session.user)
            else:
                raise PwsError(113)
        body = f"{DECLARATION}<session><sessionKey>{escape(key)}</sessionKey></session>"
        return Response(body, 201, content_type=XML_TYPE)

    @app.delete(f"{BASE}/users/<user>/session")
    def logout(user: str) -> Response:
        with sim.lock:
            sim._purge()
            caller = sim._session(request.headers.get("Presence-Session-Key"))
            target = sim.sessions.get(user)
            allowed = caller.user == user or (target and target.app_user == caller.user)
            if not allowed:
                raise PwsError(101)
            sim.sessions.pop(user, None)
            if caller.app_user is None and caller.user == user:
                sim.sessions = {u: s for u, s in sim.sessions.items() if s.app_user != user}
        return Response("", 200)

    # -- endpoints (app user) ----------------------------------------------------------------

    def app_session() -> Session:
        session = sim._session(request.headers.get("Presence-Session-Key"))
        if session.app_user is not None:
            raise PwsError(136)  # endpoints belong to the application user
        return session

    @app.post(f"{BASE}/endpoints")
    def create_endpoint() -> Response:
        with sim.lock:
            sim._purge()
            owner = app_session().user
            root = _xml_body(required=True)
            url = (root.findtext("url") or "").strip() if root.tag == "endpoint" else ""
            if not url:
                raise PwsError(130)
            if re.search(r"\s", url):
                raise PwsError(142)
            if not re.match(r"^https?://[^/?#]+", url):
                raise PwsError(130)
            expiry = _expiry(root)
            if sum(1 for e in sim.endpoints.values() if e.owner == owner) >= sim.max_endpoints:
                raise PwsError(138)
            endpoint = Endpoint(sim.next_endpoint_id, url, owner, sim.now() + expiry)
            sim.next_endpoint_id += 1
            sim.endpoints[endpoint.id] = endpoint
        location = f"{_root_url()}{BASE}/endpoints/{endpoint.id}"
        return Response("", 201, headers={"Location": location})

    @app.get(f"{BASE}/endpoints")
    def list_endpoints() -> Response:
        """Not in any public source (doc open point 3): offered for people poking at the sim."""
        with sim.lock:
            sim._purge()
            owner = app_session().user
            items = "".join(
                f'\n    <endpoint id="{e.id}"><url>{escape(e.url)}</url>'
                f"<expiration>{int(e.expires_at - sim.now())}</expiration></endpoint>"
                for e in sim.endpoints.values()
                if e.owner == owner
            )
        return Response(
            f"{DECLARATION}<endpointList>{items}\n</endpointList>\n", 200, content_type=XML_TYPE
        )

    def owned_endpoint(endpoint_id: str) -> Endpoint:
        owner = app_session().user
        endpoint = sim.endpoints.get(int(endpoint_id)) if endpoint_id.isdigit() else None
        if endpoint is None:
            raise PwsError(132)
        if endpoint.owner != owner:
            raise PwsError(136)
        return endpoint

    @app.put(f"{BASE}/endpoints/<endpoint_id>")
    def refresh_endpoint(endpoint_id: str) -> Response:
        with sim.lock:
            sim._purge()
            endpoint = owned_endpoint(endpoint_id)
            root = _xml_body(required=False)
            if root is not None and root.find("url") is not None:
                raise PwsError(123)
            endpoint.expires_at = sim.now() + _expiry(root)
        return Response("", 200)

    @app.delete(f"{BASE}/endpoints/<endpoint_id>")
    def delete_endpoint(endpoint_id: str) -> Response:
        with sim.lock:
            sim._purge()
            sim.endpoints.pop(owned_endpoint(endpoint_id).id)
        return Response("", 200)

    # -- subscriptions and fetches (end user) ------------------------------------------------

    def end_session(user: str) -> Session:
        session = sim._session(request.headers.get("Presence-Session-Key"))
        if session.user != user or session.app_user is None:
            raise PwsError(101)
        return session

    def own_subscription(user: str, sub_id: str) -> Subscription:
        sub = sim.subscriptions.get(int(sub_id)) if sub_id.isdigit() else None
        if sub is None:
            raise PwsError(133)
        if sub.user != user:
            raise PwsError(137)
        return sub

    def subscription_body(session: Session) -> tuple[list[str], Endpoint, int | None]:
        root = _xml_body(required=True)
        if root.tag != "subscription" or root.findtext("subscriptionType") != (
            "PRESENCE_NOTIFICATION"
        ):
            raise PwsError(134)
        contacts = [c.get("contactURI", "") for c in root.findall("contactsList/contact")]
        if not 1 <= len(contacts) <= 5000:
            raise PwsError(135)
        if not all(CONTACT_URI.match(c) for c in contacts):
            raise PwsError(124)
        endpoint_id = (root.findtext("endPointID") or "").strip()
        endpoint = sim.endpoints.get(int(endpoint_id)) if endpoint_id.isdigit() else None
        if endpoint is None:
            raise PwsError(132)
        if endpoint.owner != session.app_user:
            raise PwsError(136)
        expiry = _expiry(root, allow_zero=True)
        return list(dict.fromkeys(contacts)), endpoint, expiry

    @app.post(f"{BASE}/users/<user>/subscriptions")
    def subscribe(user: str) -> Response:
        with sim.lock:
            sim._purge()
            session = end_session(user)
            contacts, endpoint, expiry = subscription_body(session)
            if not expiry:
                raise PwsError(131)
            if len(sim.subscriptions) >= sim.max_subscriptions:
                raise PwsError(139)
            sub = Subscription(
                sim.next_subscription_id,
                user,
                contacts,
                endpoint.id,
                session.app_user or "",
                sim.now() + expiry,
            )
            sim.next_subscription_id += 1
            sim.subscriptions[sub.id] = sub
            sim._notify(sub)  # creating a subscription notifies at once [CB Eventing Tutorial]
        location = f"{_root_url()}{BASE}/users/{user}/subscriptions/{sub.id}"
        return Response("", 201, headers={"Location": location})

    @app.put(f"{BASE}/users/<user>/subscriptions/<sub_id>")
    def resubscribe(user: str, sub_id: str) -> Response:
        """Refresh (proposed REST form): new expiry and contacts; expiry 0 only adds contacts."""
        with sim.lock:
            sim._purge()
            session = end_session(user)
            sub = own_subscription(user, sub_id)
            contacts, endpoint, expiry = subscription_body(session)
            sub.endpoint_id = endpoint.id
            if expiry:
                sub.contacts, sub.expires_at = contacts, sim.now() + expiry
            else:
                sub.contacts = list(dict.fromkeys(sub.contacts + contacts))
        return Response("", 200)

    @app.delete(f"{BASE}/users/<user>/subscriptions/<sub_id>")
    def unsubscribe(user: str, sub_id: str) -> Response:
        with sim.lock:
            sim._purge()
            end_session(user)
            sim.subscriptions.pop(own_subscription(user, sub_id).id)
        return Response("", 200)

    @app.get(f"{BASE}/users/<user>/presence/<kind>/subscriptions/<sub_id>")
    def fetch(user: str, kind: str, sub_id: str) -> Response:
        with sim.lock:
            sim._purge()
            end_session(user)
            if kind not in ("basic", "rich"):
                raise PwsError(110)
            sub = own_subscription(user, sub_id)
            sub.awaiting_fetch = False
            sim.fetches += 1
            states = [(uri, sim.contacts.get(uri, ContactState("UNKNOWN"))) for uri in sub.contacts]
        if kind == "basic":
            body = _basic(states, BASIC_STORED if sim.basic_as_stored else {})
        else:
            body = _rich(states, sim.rpid_from)
        return Response(body, 200, content_type=XML_TYPE)

    _control_api(app, sim)
    return app


def _control_api(app: Flask, sim: CiscoPwsSim) -> None:
    """`/_sim/`: what tests and people drive the simulated node with (JSON)."""

    @app.post("/_sim/contacts/<path:uri>")
    def set_contact(uri: str) -> Any:
        body = request.get_json(silent=True) or {}
        status = str(body.get("status", "")).upper()
        activities = body.get("activities") or []
        from_text, ago = body.get("from"), body.get("since_ago_s")
        if status not in STATUSES:
            return jsonify({"error": f"status must be one of {list(STATUSES)}"}), 400
        if not isinstance(activities, list) or not all(
            isinstance(a, str) and ACTIVITY.match(a) for a in activities
        ):
            return jsonify({"error": "activities: a list of RPID names like on-the-phone"}), 400
        bad_from = not (isinstance(from_text, str) and STAMP_TEXT.match(from_text))
        if from_text is not None and bad_from:
            return jsonify({"error": "from: the raw RPID stamp, printable, <= 64 chars"}), 400
        if ago is not None and not (isinstance(ago, int | float) and 0 <= ago <= 86400 * 30):
            return jsonify({"error": "since_ago_s: seconds, 0..2592000"}), 400
        with sim.lock:
            sim.demo.pop(uri, None)
            since = None if ago is None else sim.now() - ago
            notified = sim.set_contact(uri, status, activities, from_text, since)
        return jsonify(
            {"uri": uri, "status": status, "activities": activities, "notified": notified}
        )

    @app.post("/_sim/options")
    def set_options() -> Any:
        """`rpid_from`: date rich activities (RFC 4480 `from`); `basic_as_stored`: false
        reports BUSY and VACATION in basic presence as set instead of as AWAY."""
        body = request.get_json(silent=True) or {}
        if not body or any(k not in OPTIONS or not isinstance(v, bool) for k, v in body.items()):
            return jsonify({"error": f"options: {list(OPTIONS)}, each true or false"}), 400
        with sim.lock:
            for key, value in body.items():
                setattr(sim, key, value)
            return jsonify({key: getattr(sim, key) for key in OPTIONS})

    @app.post("/_sim/cpu")
    def set_cpu() -> Any:
        body = request.get_json(silent=True) or {}
        try:
            percent = float(body["percent"])
        except (KeyError, TypeError, ValueError):
            return jsonify({"error": "percent: a number"}), 400
        with sim.lock:
            sim.cpu_percent = percent
        return jsonify({"cpu": percent, "notifying": percent < CPU_LIMIT})

    @app.post("/_sim/restart")
    def restart() -> Any:
        sim.restart()
        return jsonify(sim.state())

    @app.post("/_sim/expire-sessions")
    def expire_sessions() -> Any:
        sim.expire_sessions()
        return jsonify(sim.state())

    @app.post("/_sim/advance")
    def advance() -> Any:
        body = request.get_json(silent=True) or {}
        try:
            seconds = float(body["seconds"])
        except (KeyError, TypeError, ValueError):
            return jsonify({"error": "seconds: a number"}), 400
        with sim.lock:
            sim.offset_s += seconds
        return jsonify({"offset_s": sim.offset_s, **sim.state()})

    def queue_faults(kind: str, count: int, delay_s: float) -> int:
        sim.add_fault(kind, count, delay_s)
        return len(sim.faults)

    add_fault_route(app, FAULT_KINDS, queue_faults)

    @app.get("/_sim/state")
    def state() -> Any:
        return jsonify(sim.state())

    @app.get("/_sim/notifications")
    def notifications() -> Any:
        return jsonify({"sent": list(sim.notifications)})

    @app.get("/_sim/requests")
    def requests_log() -> Any:
        return jsonify({"requests": list(sim.requests_log), "pending_faults": len(sim.faults)})


# -- wire helpers ----------------------------------------------------------------------------


def _root_url() -> str:
    return request.host_url.rstrip("/")


def _error(code: int) -> Response:
    status, message, fix = ERRORS[code]
    body = (
        f'{DECLARATION}\n\t<description xmlns="{ERROR_NS}">\n'
        f"\t\t<code>{code}</code>\n\t\t<message>{escape(message)}</message>\n"
        f"\t\t<fix>{escape(fix)}</fix>\n\t</description>\n"
    )
    return Response(body, status, content_type=XML_TYPE)


def _xml_body(required: bool) -> ET.Element | None:
    """The request's XML root; malformed (or missing when required) -> 102."""
    data = request.get_data()
    if not data.strip():
        if required:
            raise PwsError(102)
        return None
    try:
        # Whatever reaches the simulator's port is untrusted too: entity expansion refused.
        return defused_et.fromstring(data)
    except (ET.ParseError, DefusedXmlException):
        raise PwsError(102) from None


def _expiry(root: ET.Element | None, allow_zero: bool = False) -> int:
    """`Presence-Expiry` header, else the older `<expiration>` element, else 3600 (proposed)."""
    raw = request.headers.get("Presence-Expiry")
    if raw is None and root is not None:
        raw = root.findtext("expiration")
    if raw is None:
        return MIN_EXPIRY
    try:
        seconds = int(raw.strip())
    except ValueError:
        raise PwsError(131) from None
    if allow_zero and seconds == 0:
        return 0
    if not MIN_EXPIRY <= seconds <= MAX_EXPIRY:
        raise PwsError(131)
    return seconds


def _basic(states: list[tuple[str, ContactState]], stored: dict[str, str]) -> str:
    rows = "".join(
        f"    <contact contactURI={quoteattr(uri)} "
        f'presenceStatus="{stored.get(s.status, s.status)}"/>\n'
        for uri, s in states
    )
    return f'{DECLARATION}<presenceList type="basic">\n{rows}</presenceList>\n'


def _rich(states: list[tuple[str, ContactState]], dated: bool) -> str:
    """The doc's proposed wrapper: one PIDF per contact, RPID activities under `person`;
    `dated`: with RFC 4480's `from` (when this state began) on `<activities>`."""
    parts = []
    for uri, s in states:
        names = [STATUS_ACTIVITY[s.status]] if s.status in STATUS_ACTIVITY else []
        names += [a for a in s.activities if a not in names]
        activities = "".join(f"<{a}/>" for a in names)
        stamp = s.from_text if s.from_text is not None else (_xs_time(s.since) if dated else None)
        dating = "" if stamp is None or s.status == "UNKNOWN" else f" from={quoteattr(stamp)}"
        basic = "closed" if s.status in ("UNAVAILABLE", "UNKNOWN") else "open"
        person_id = uri.split("@", 1)[0]
        parts.append(
            f"  <contact contactURI={quoteattr(uri)}>\n"
            f'    <presence xmlns="{PIDF_NS}" entity={quoteattr("sip:" + uri)}>\n'
            f'      <tuple id="cisco-upp"><status><basic>{basic}</basic></status></tuple>\n'
            f'      <person xmlns="{RPID_NS}" id={quoteattr(person_id)}>\n'
            f"        <activities{dating}>{activities}</activities></person>\n"
            "    </presence>\n"
            "  </contact>\n"
        )
    return f'{DECLARATION}<presenceList type="rich">\n{"".join(parts)}</presenceList>\n'


def _xs_time(moment: float) -> str:
    """An xs:dateTime in UTC with milliseconds and a Z."""
    stamp = datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")
