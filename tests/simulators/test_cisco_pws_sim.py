"""The Cisco PWS simulator's wire contract over real HTTP (docs/providers/cisco.md, "Wire format"):
sessions, endpoints, subscriptions, basic and rich fetches, Cisco's error body, notifications
and their quirks (one per fetch, none at high CPU), restarts, expiry, faults and the demo."""

from __future__ import annotations

import random
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
import requests
from flask import Flask, request
from helpers import (
    CISCO_APP_PASSWORD,
    CISCO_APP_USER,
    CISCO_END_USER,
    CiscoSimHandle,
    free_port,
    start_cisco_sim,
    wait_for,
)

from presence_dash.simulators.cisco_pws import CiscoPwsSim
from presence_dash.simulators.serve import SimulatorServer

ERROR_NS = "{urn:cisco:cup:presence:soap}"
PIDF = "{urn:ietf:params:xml:ns:pidf}"
RPID = "{urn:cisco:params:xml:ns:pidf:rpid}"
ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"
OTHER_USER = "other.user@example.com"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PASSWORD_XML = f"<session><password>{CISCO_APP_PASSWORD}</password></session>"


# -- a raw PWS client, written from the doc for these tests ---------------------------------


def call(
    h: CiscoSimHandle,
    method: str,
    path: str,
    key: str | None = None,
    body: str | None = None,
    expiry: int | str | None = None,
) -> requests.Response:
    headers = {"Content-Type": "application/xml", "Accept": "application/xml"}
    if key:
        headers["Presence-Session-Key"] = key
    if expiry is not None:
        headers["Presence-Expiry"] = str(expiry)
    return h.http.request(method, h.base + path, data=body, headers=headers, timeout=5)


def error_code(response: requests.Response) -> int:
    root = ET.fromstring(response.content)
    assert root.tag == f"{ERROR_NS}description", response.text
    assert [c.tag for c in root] == [f"{ERROR_NS}{t}" for t in ("code", "message", "fix")]
    assert root.findtext(f"{ERROR_NS}message") and root.findtext(f"{ERROR_NS}fix")
    return int(root.findtext(f"{ERROR_NS}code") or 0)


def session_key(response: requests.Response) -> str:
    assert response.status_code == 201, response.text
    root = ET.fromstring(response.content)
    assert root.tag == "session"
    return root.findtext("sessionKey") or ""


def login_app(h: CiscoSimHandle) -> str:
    return session_key(call(h, "POST", f"/users/{CISCO_APP_USER}/sessions", body=PASSWORD_XML))


def login_end(h: CiscoSimHandle, app_key: str, user: str = CISCO_END_USER) -> str:
    return session_key(call(h, "POST", f"/users/{user}/sessions", key=app_key))


def register(
    h: CiscoSimHandle, app_key: str, url: str, expiry: int | str | None = 3600
) -> requests.Response:
    return call(h, "POST", "/endpoints", app_key, f"<endpoint><url>{url}</url></endpoint>", expiry)


def last_id(response: requests.Response) -> int:
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def subscription_xml(contacts: list[str], endpoint_id: int | str, kind: str = "") -> str:
    items = "".join(f'<contact contactURI="{c}"/>' for c in contacts)
    return (
        f"<subscription><contactsList>{items}</contactsList>"
        f"<subscriptionType>{kind or 'PRESENCE_NOTIFICATION'}</subscriptionType>"
        f"<endPointID>{endpoint_id}</endPointID></subscription>"
    )


def subscribe(
    h: CiscoSimHandle,
    end_key: str,
    endpoint_id: int | str,
    contacts: list[str],
    user: str = CISCO_END_USER,
    expiry: int = 3600,
) -> requests.Response:
    body = subscription_xml(contacts, endpoint_id)
    return call(h, "POST", f"/users/{user}/subscriptions", end_key, body, expiry)


def fetch(
    h: CiscoSimHandle, end_key: str, sub_id: int, kind: str = "basic", user: str = CISCO_END_USER
) -> requests.Response:
    return call(h, "GET", f"/users/{user}/presence/{kind}/subscriptions/{sub_id}", end_key)


def basic_statuses(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)
    assert (root.tag, root.attrib) == ("presenceList", {"type": "basic"})
    return {c.attrib["contactURI"]: c.attrib["presenceStatus"] for c in root}


# -- fixtures --------------------------------------------------------------------------------


@dataclass
class Receiver:
    url: str
    hits: list[dict[str, list[str]]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A tiny real HTTP endpoint that records the notifications it gets."""
    app, hits = Flask("receiver"), []
    app.add_url_rule("/pws", "pws", lambda: hits.append(request.args.to_dict(flat=False)) or "ok")
    server = SimulatorServer(app)
    # a 0.02 s shutdown poll instead of werkzeug's 0.5 s keeps teardown quick
    threading.Thread(target=server.server.serve_forever, args=(0.02,), daemon=True).start()
    yield Receiver(server.url + "/pws", hits)
    server.shutdown()


@dataclass
class Wired:
    app_key: str
    end_key: str
    endpoint_id: int
    sub_id: int


@pytest.fixture
def wired(cisco_sim: CiscoSimHandle, receiver: Receiver) -> Wired:
    """Logged in, endpoint at the receiver, subscribed to alice and bob, first notice seen."""
    cisco_sim.set_contact(ALICE, "AVAILABLE")
    app_key = login_app(cisco_sim)
    end_key = login_end(cisco_sim, app_key)
    endpoint_id = last_id(register(cisco_sim, app_key, receiver.url))
    sub_id = last_id(subscribe(cisco_sim, end_key, endpoint_id, [ALICE, BOB]))
    wait_for(lambda: len(receiver.hits) == 1, what="the subscription's first notification")
    return Wired(app_key, end_key, endpoint_id, sub_id)


# -- sessions --------------------------------------------------------------------------------


def test_app_login_gives_201_and_the_same_key_until_a_forced_login(
    cisco_sim: CiscoSimHandle,
) -> None:
    first = call(cisco_sim, "POST", f"/users/{CISCO_APP_USER}/sessions", body=PASSWORD_XML)
    assert first.status_code == 201
    assert first.headers["Content-Type"].startswith("application/xml")
    assert first.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    key = session_key(first)
    assert UUID.match(key)
    assert login_app(cisco_sim) == key

    forced = call(cisco_sim, "PUT", f"/users/{CISCO_APP_USER}/session", body=PASSWORD_XML)
    new_key = session_key(forced)
    assert new_key != key and UUID.match(new_key)
    assert error_code(register(cisco_sim, key, "http://x.example/pws")) == 101
    assert register(cisco_sim, new_key, "http://x.example/pws").status_code == 201


@pytest.mark.parametrize(
    ("user", "body", "status", "code"),
    [
        (CISCO_APP_USER, "<session><password>wrong</password></session>", 400, 114),
        (CISCO_APP_USER, "<session><password></password></session>", 400, 111),
        (CISCO_APP_USER, "<session><password>pw</password>", 400, 102),
        ("nobody@example.com", PASSWORD_XML, 404, 113),
    ],
)
def test_app_login_errors_have_cisco_codes(
    cisco_sim: CiscoSimHandle, user: str, body: str, status: int, code: int
) -> None:
    response = call(cisco_sim, "POST", f"/users/{user}/sessions", body=body)
    assert (response.status_code, error_code(response)) == (status, code)
    assert cisco_sim.state()["sessions"] == {"app": 0, "end": 0}


def test_error_body_is_the_recorded_cisco_shape(cisco_sim: CiscoSimHandle) -> None:
    end_key = login_end(cisco_sim, login_app(cisco_sim))
    response = fetch(cisco_sim, end_key, 99)
    assert response.status_code == 400
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(response.content)
    assert root.tag == f"{ERROR_NS}description"
    assert root.findtext(f"{ERROR_NS}code") == "133"
    assert root.findtext(f"{ERROR_NS}message") == "The subscription id does not exist"


def test_end_user_login_needs_a_valid_app_key(cisco_sim: CiscoSimHandle) -> None:
    path = f"/users/{CISCO_END_USER}/sessions"
    assert error_code(missing := call(cisco_sim, "POST", path)) == 100
    assert missing.status_code == 401
    assert error_code(bogus := call(cisco_sim, "POST", path, key="not-a-key")) == 101
    assert bogus.status_code == 401

    app_key = login_app(cisco_sim)
    end_key = login_end(cisco_sim, app_key)
    assert UUID.match(end_key) and end_key != app_key
    assert login_end(cisco_sim, app_key) == end_key
    forced = call(cisco_sim, "PUT", f"/users/{CISCO_END_USER}/session", key=app_key)
    assert session_key(forced) != end_key
    assert error_code(call(cisco_sim, "POST", path, key=session_key(forced))) == 101
    unknown = call(cisco_sim, "POST", "/users/nobody@example.com/sessions", key=app_key)
    assert (unknown.status_code, error_code(unknown)) == (404, 113)


def test_logging_out_the_app_user_logs_out_its_end_users(cisco_sim: CiscoSimHandle) -> None:
    app_key = login_app(cisco_sim)
    end_key = login_end(cisco_sim, app_key)
    assert cisco_sim.state()["sessions"] == {"app": 1, "end": 1}
    out = call(cisco_sim, "DELETE", f"/users/{CISCO_APP_USER}/session", app_key)
    assert (out.status_code, out.text) == (200, "")
    assert cisco_sim.state()["sessions"] == {"app": 0, "end": 0}
    assert error_code(subscribe(cisco_sim, end_key, 1, [ALICE])) == 101


def test_end_user_logout_ends_only_that_session(cisco_sim: CiscoSimHandle) -> None:
    app_key = login_app(cisco_sim)
    end_key = login_end(cisco_sim, app_key)
    out = call(cisco_sim, "DELETE", f"/users/{CISCO_END_USER}/session", end_key)
    assert out.status_code == 200
    assert cisco_sim.state()["sessions"] == {"app": 1, "end": 0}
    assert fetch(cisco_sim, end_key, 1).status_code == 401


# -- endpoints -------------------------------------------------------------------------------


def test_endpoint_ids_come_from_location_and_are_never_reused(cisco_sim: CiscoSimHandle) -> None:
    app_key = login_app(cisco_sim)
    first = register(cisco_sim, app_key, "http://dash.example:8080/pws")
    assert (first.status_code, first.headers["Location"]) == (
        201,
        f"{cisco_sim.base}/endpoints/1",
    )
    assert last_id(register(cisco_sim, app_key, "https://dash.example/pws")) == 2
    [one, _] = cisco_sim.state()["endpoints"]
    assert one["url"] == "http://dash.example:8080/pws" and 3590 < one["expires_in"] <= 3600

    deleted = call(cisco_sim, "DELETE", "/endpoints/1", app_key)
    assert (deleted.status_code, deleted.text) == (200, "")
    again = call(cisco_sim, "DELETE", "/endpoints/1", app_key)
    assert (again.status_code, error_code(again)) == (400, 132)
    assert error_code(call(cisco_sim, "PUT", "/endpoints/77", app_key, expiry=3600)) == 132
    assert last_id(register(cisco_sim, app_key, "http://dash.example/pws")) == 3
    assert [e["id"] for e in cisco_sim.state()["endpoints"]] == [2, 3]


@pytest.mark.parametrize(
    ("expiry", "body_expiry", "ok", "expires_in"),
    [
        (3600, None, True, 3600),
        (86400, None, True, 86400),
        (3599, None, False, None),
        (86401, None, False, None),
        ("soon", None, False, None),
        (None, 7200, True, 7200),  # the older cookbook's <expiration> element
        (None, 60, False, None),
    ],
)
def test_endpoint_expiry_must_be_3600_to_86400(
    cisco_sim: CiscoSimHandle,
    expiry: int | str | None,
    body_expiry: int | None,
    ok: bool,
    expires_in: int | None,
) -> None:
    app_key = login_app(cisco_sim)
    extra = f"<expiration>{body_expiry}</expiration>" if body_expiry else ""
    body = f"<endpoint><url>http://dash.example/pws</url>{extra}</endpoint>"
    response = call(cisco_sim, "POST", "/endpoints", app_key, body, expiry)
    if not ok:
        assert (response.status_code, error_code(response)) == (400, 131)
        assert cisco_sim.state()["endpoints"] == []
        return
    assert response.status_code == 201
    [endpoint] = cisco_sim.state()["endpoints"]
    assert expires_in is not None and expires_in - 10 < endpoint["expires_in"] <= expires_in


@pytest.mark.parametrize(
    ("url", "code"),
    [("", 130), ("ftp://dash.example/pws", 130), ("dash.example/pws", 130), ("http://a b/", 142)],
)
def test_endpoint_url_must_be_http_without_spaces(
    cisco_sim: CiscoSimHandle, url: str, code: int
) -> None:
    response = register(cisco_sim, login_app(cisco_sim), url)
    assert (response.status_code, error_code(response)) == (400, code)


def test_endpoints_need_the_app_key(cisco_sim: CiscoSimHandle) -> None:
    app_key = login_app(cisco_sim)
    end_key = login_end(cisco_sim, app_key)
    assert error_code(register(cisco_sim, "", "http://dash.example/pws")) == 100
    refused = register(cisco_sim, end_key, "http://dash.example/pws")
    assert (refused.status_code, error_code(refused)) == (400, 136)


def test_endpoint_refresh_sets_a_new_absolute_expiry(cisco_sim: CiscoSimHandle) -> None:
    app_key = login_app(cisco_sim)
    endpoint_id = last_id(register(cisco_sim, app_key, "http://dash.example/pws"))
    cisco_sim.advance(3000)
    refreshed = call(cisco_sim, "PUT", f"/endpoints/{endpoint_id}", app_key, expiry=7200)
    assert refreshed.status_code == 200
    assert 7190 < cisco_sim.state()["endpoints"][0]["expires_in"] <= 7200
    with_url = call(
        cisco_sim, "PUT", f"/endpoints/{endpoint_id}", app_key, "<endpoint><url>x</url></endpoint>"
    )
    assert (with_url.status_code, error_code(with_url)) == (400, 123)


# -- subscriptions and fetches ---------------------------------------------------------------


def test_subscribe_location_delete_and_unknown_ids(cisco_sim: CiscoSimHandle) -> None:
    app_key = login_app(cisco_sim)
    end_key = login_end(cisco_sim, app_key)
    endpoint_id = last_id(register(cisco_sim, app_key, f"http://127.0.0.1:{free_port()}/pws"))
    created = subscribe(cisco_sim, end_key, endpoint_id, [ALICE, BOB])
    assert created.status_code == 201
    assert created.headers["Location"] == (
        f"{cisco_sim.base}/users/{CISCO_END_USER}/subscriptions/1"
    )
    [sub] = cisco_sim.state()["subscriptions"]
    assert (sub["user"], sub["endpoint_id"], sub["contacts"]) == (
        CISCO_END_USER,
        endpoint_id,
        [ALICE, BOB],
    )
    path = f"/users/{CISCO_END_USER}/subscriptions/1"
    deleted = call(cisco_sim, "DELETE", path, end_key)
    assert (deleted.status_code, deleted.text) == (200, "")
    again = call(cisco_sim, "DELETE", path, end_key)
    assert (again.status_code, error_code(again)) == (400, 133)
    assert last_id(subscribe(cisco_sim, end_key, endpoint_id, [ALICE])) == 2


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (subscription_xml([ALICE], 42), 132),
        (subscription_xml([ALICE], "one"), 132),
        (subscription_xml([ALICE], 1, kind="RICH_PRESENCE"), 134),
        (subscription_xml([], 1), 135),
        (subscription_xml(["not a uri"], 1), 124),
        ("<subscription><contactsList>", 102),
    ],
)
def test_bad_subscriptions_are_refused_with_400(
    cisco_sim: CiscoSimHandle, body: str, code: int
) -> None:
    app_key = login_app(cisco_sim)
    end_key = login_end(cisco_sim, app_key)
    assert last_id(register(cisco_sim, app_key, "http://dash.example/pws")) == 1
    path = f"/users/{CISCO_END_USER}/subscriptions"
    response = call(cisco_sim, "POST", path, end_key, body, 3600)
    assert (response.status_code, error_code(response)) == (400, code)
    assert cisco_sim.state()["subscriptions"] == []


def test_someone_elses_subscription_is_400_137(cisco_sim: CiscoSimHandle) -> None:
    cisco_sim.sim.end_users.add(OTHER_USER)
    app_key = login_app(cisco_sim)
    end_key = login_end(cisco_sim, app_key)
    other_key = login_end(cisco_sim, app_key, OTHER_USER)
    endpoint_id = last_id(register(cisco_sim, app_key, "http://dash.example/pws"))
    sub_id = last_id(subscribe(cisco_sim, end_key, endpoint_id, [ALICE]))
    stolen = fetch(cisco_sim, other_key, sub_id, user=OTHER_USER)
    assert (stolen.status_code, error_code(stolen)) == (400, 137)
    path = f"/users/{OTHER_USER}/subscriptions/{sub_id}"
    assert error_code(call(cisco_sim, "DELETE", path, other_key)) == 137
    # a key only works for its own user's paths
    assert fetch(cisco_sim, other_key, sub_id).status_code == 401


def test_basic_fetch_has_the_recorded_shape_and_busy_reads_as_away(
    cisco_sim: CiscoSimHandle,
) -> None:
    for uri, status in [(ALICE, "AVAILABLE"), (BOB, "BUSY"), (CAROL, "VACATION")]:
        cisco_sim.set_contact(uri, status)
    cisco_sim.set_contact("dan@example.com", "DND")
    cisco_sim.set_contact("eve@example.com", "UNAVAILABLE")
    app_key = login_app(cisco_sim)
    end_key = login_end(cisco_sim, app_key)
    endpoint_id = last_id(register(cisco_sim, app_key, "http://dash.example/pws"))
    contacts = [ALICE, BOB, CAROL, "dan@example.com", "eve@example.com", "rogue@example.com"]
    sub_id = last_id(subscribe(cisco_sim, end_key, endpoint_id, contacts))

    response = fetch(cisco_sim, end_key, sub_id)

    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<presenceList')
    root = ET.fromstring(response.content)
    assert all(set(c.attrib) == {"contactURI", "presenceStatus"} for c in root)
    assert all(c.tag == "contact" and len(c) == 0 for c in root)
    assert list(basic_statuses(response).items()) == [
        (ALICE, "AVAILABLE"),
        (BOB, "AWAY"),
        (CAROL, "AWAY"),
        ("dan@example.com", "DND"),
        ("eve@example.com", "UNAVAILABLE"),
        ("rogue@example.com", "UNKNOWN"),
    ]
    assert cisco_sim.state()["fetches"] == 1
    assert error_code(fetch(cisco_sim, end_key, sub_id, kind="extended")) == 110
    cisco_sim._post("/_sim/options", {"basic_as_stored": False})  # the documented basic set
    assert [basic_statuses(fetch(cisco_sim, end_key, sub_id))[u] for u in (BOB, CAROL)] == [
        "BUSY",
        "VACATION",
    ]


def test_rich_fetch_is_pidf_with_rpid_activities(cisco_sim: CiscoSimHandle) -> None:
    cisco_sim.set_contact(ALICE, "BUSY", ["on-the-phone"])
    cisco_sim.set_contact(BOB, "DND", ["meeting"])
    cisco_sim.set_contact(CAROL, "UNAVAILABLE")
    app_key = login_app(cisco_sim)
    end_key = login_end(cisco_sim, app_key)
    endpoint_id = last_id(register(cisco_sim, app_key, "http://dash.example/pws"))
    sub_id = last_id(subscribe(cisco_sim, end_key, endpoint_id, [ALICE, BOB, CAROL, "x@y.z"]))

    response = fetch(cisco_sim, end_key, sub_id, kind="rich")

    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert (root.tag, root.attrib) == ("presenceList", {"type": "rich"})
    seen = {}
    for contact in root:
        assert contact.tag == "contact"
        [presence] = list(contact)
        uri = contact.attrib["contactURI"]
        assert presence.tag == f"{PIDF}presence"
        assert presence.attrib == {"entity": f"sip:{uri}"}
        person = presence.find(f"{RPID}person")
        assert person is not None and person.attrib == {"id": uri.split("@")[0]}
        activities = person.find(f"{RPID}activities")
        assert activities is not None
        assert activities.attrib == {}  # undated, like every PIDF in Cisco's samples
        basic = presence.findtext(f"{PIDF}tuple/{PIDF}status/{PIDF}basic")
        seen[uri] = ([a.tag.split("}")[1] for a in activities], basic)
    assert seen == {
        ALICE: (["busy", "on-the-phone"], "open"),
        BOB: (["dnd", "meeting"], "open"),
        CAROL: ([], "closed"),
        "x@y.z": ([], "closed"),
    }


def test_subscription_refresh_by_put_sets_a_new_expiry(cisco_sim: CiscoSimHandle) -> None:
    app_key = login_app(cisco_sim)
    end_key = login_end(cisco_sim, app_key)
    endpoint_id = last_id(register(cisco_sim, app_key, "http://dash.example/pws"))
    sub_id = last_id(subscribe(cisco_sim, end_key, endpoint_id, [ALICE]))
    path = f"/users/{CISCO_END_USER}/subscriptions/{sub_id}"
    body = subscription_xml([ALICE, BOB], endpoint_id)
    assert call(cisco_sim, "PUT", path, end_key, body, 86400).status_code == 200
    [sub] = cisco_sim.state()["subscriptions"]
    assert sub["contacts"] == [ALICE, BOB] and sub["expires_in"] > 86000


# -- notifications ---------------------------------------------------------------------------


def test_notification_is_a_get_with_exactly_id_and_event_type(
    cisco_sim: CiscoSimHandle, receiver: Receiver, wired: Wired
) -> None:
    assert receiver.hits == [{"id": [str(wired.sub_id)], "eventType": ["PRESENCE_NOTIFICATION"]}]
    # The simulator logs a notification once its answer is back, just after our receiver
    # has seen it.
    assert cisco_sim.sim.drain(5)
    [sent] = cisco_sim.notifications()
    assert sent["status"] == 200 and sent["subscription_id"] == wired.sub_id
    assert sent["url"] == f"{receiver.url}?id={wired.sub_id}&eventType=PRESENCE_NOTIFICATION"
    assert cisco_sim.state()["subscriptions"][0]["awaiting_fetch"] is True


def test_no_second_notification_until_the_subscription_is_fetched(
    cisco_sim: CiscoSimHandle, receiver: Receiver, wired: Wired
) -> None:
    assert cisco_sim.set_contact(ALICE, "AWAY")["notified"] == []
    assert cisco_sim.set_contact(BOB, "DND")["notified"] == []
    assert cisco_sim.sim.drain(5)
    assert len(receiver.hits) == 1

    assert basic_statuses(fetch(cisco_sim, wired.end_key, wired.sub_id)) == {
        ALICE: "AWAY",
        BOB: "DND",
    }
    assert cisco_sim.state()["subscriptions"][0]["awaiting_fetch"] is False
    assert cisco_sim.set_contact(ALICE, "AVAILABLE")["notified"] == [wired.sub_id]
    wait_for(lambda: len(receiver.hits) == 2, what="the notification after the fetch")
    assert receiver.hits[1]["id"] == [str(wired.sub_id)]


def test_a_failed_notification_still_blocks_the_next_ones(cisco_sim: CiscoSimHandle) -> None:
    app_key = login_app(cisco_sim)
    end_key = login_end(cisco_sim, app_key)
    dead = f"http://127.0.0.1:{free_port()}/pws"
    endpoint_id = last_id(register(cisco_sim, app_key, dead))
    sub_id = last_id(subscribe(cisco_sim, end_key, endpoint_id, [ALICE]))
    assert cisco_sim.sim.drain(5)
    [failed] = cisco_sim.notifications()
    assert "error" in failed and "status" not in failed and failed["url"] == dead

    assert cisco_sim.set_contact(ALICE, "DND")["notified"] == []
    assert fetch(cisco_sim, end_key, sub_id).status_code == 200
    assert cisco_sim.set_contact(ALICE, "AWAY")["notified"] == [sub_id]
    assert cisco_sim.sim.drain(5)
    assert len(cisco_sim.notifications()) == 2


def test_high_cpu_suppresses_notifications_and_they_never_come_later(
    cisco_sim: CiscoSimHandle, receiver: Receiver, wired: Wired
) -> None:
    fetch(cisco_sim, wired.end_key, wired.sub_id)
    assert cisco_sim.cpu(80)["notifying"] is False
    assert cisco_sim.set_contact(ALICE, "DND")["notified"] == []
    assert basic_statuses(fetch(cisco_sim, wired.end_key, wired.sub_id))[ALICE] == "DND"

    cisco_sim.cpu(79)
    assert cisco_sim.sim.drain(5)
    assert len(receiver.hits) == 1  # the change made at 80 % is never notified
    assert cisco_sim.set_contact(BOB, "AWAY")["notified"] == [wired.sub_id]
    wait_for(lambda: len(receiver.hits) == 2, what="a notification once CPU is below 80")


def test_restart_forgets_sessions_endpoints_and_subscriptions(
    cisco_sim: CiscoSimHandle, wired: Wired
) -> None:
    assert cisco_sim.restart()["sessions"] == {"app": 0, "end": 0}

    assert error_code(fetch(cisco_sim, wired.end_key, wired.sub_id)) == 101
    assert error_code(call(cisco_sim, "DELETE", "/endpoints/1", wired.app_key)) == 101
    app_key = login_app(cisco_sim)
    end_key = login_end(cisco_sim, app_key)
    assert app_key != wired.app_key
    gone = call(cisco_sim, "DELETE", f"/endpoints/{wired.endpoint_id}", app_key)
    assert (gone.status_code, error_code(gone)) == (400, 132)
    assert error_code(fetch(cisco_sim, end_key, wired.sub_id)) == 133
    state = cisco_sim.state()
    assert state["endpoints"] == [] and state["subscriptions"] == []
    new_endpoint = last_id(register(cisco_sim, app_key, "http://dash.example/pws"))
    assert new_endpoint > wired.endpoint_id
    assert last_id(subscribe(cisco_sim, end_key, new_endpoint, [ALICE])) > wired.sub_id


# -- expiry ----------------------------------------------------------------------------------


def test_sessions_expire_after_their_ttl_on_the_simulated_clock() -> None:
    handle = start_cisco_sim(
        CiscoPwsSim(
            app_user=CISCO_APP_USER,
            app_password=CISCO_APP_PASSWORD,
            end_users={CISCO_END_USER},
            session_ttl_s=60,
        )
    )
    try:
        app_key = login_app(handle)
        end_key = login_end(handle, app_key)
        handle.advance(30)
        assert register(handle, app_key, "http://dash.example/pws").status_code == 201
        handle.advance(31)
        assert error_code(register(handle, app_key, "http://dash.example/pws")) == 101
        assert error_code(fetch(handle, end_key, 1)) == 101
        assert login_app(handle) != app_key  # a plain POST after expiry makes a new key
    finally:
        handle.close()


def test_expire_sessions_makes_every_key_invalid(cisco_sim: CiscoSimHandle, wired: Wired) -> None:
    cisco_sim.expire_sessions()
    response = fetch(cisco_sim, wired.end_key, wired.sub_id)
    assert (response.status_code, error_code(response)) == (401, 101)
    assert error_code(register(cisco_sim, wired.app_key, "http://dash.example/pws")) == 101
    # endpoints and subscriptions outlive the sessions (their timers are absolute)
    end_key = login_end(cisco_sim, login_app(cisco_sim))
    assert fetch(cisco_sim, end_key, wired.sub_id).status_code == 200


def test_endpoints_and_subscriptions_vanish_at_their_absolute_expiry(
    cisco_sim: CiscoSimHandle, receiver: Receiver, wired: Wired
) -> None:
    fetch(cisco_sim, wired.end_key, wired.sub_id)
    state = cisco_sim.advance(3590)
    assert len(state["endpoints"]) == 1 and len(state["subscriptions"]) == 1
    assert state["subscriptions"][0]["expires_in"] <= 10

    state = cisco_sim.advance(11)
    assert state["endpoints"] == [] and state["subscriptions"] == []
    assert error_code(fetch(cisco_sim, wired.end_key, wired.sub_id)) == 133
    assert error_code(call(cisco_sim, "PUT", "/endpoints/1", wired.app_key, expiry=3600)) == 132
    assert cisco_sim.set_contact(ALICE, "AWAY")["notified"] == []
    assert cisco_sim.sim.drain(5) and len(receiver.hits) == 1


# -- faults ----------------------------------------------------------------------------------


def test_faults_are_consumed_one_per_call_in_order(cisco_sim: CiscoSimHandle) -> None:
    app_key = login_app(cisco_sim)
    for kind in ("500", "503", "401", "malformed"):
        cisco_sim.fault(kind)

    answers = [call(cisco_sim, "GET", "/endpoints", app_key) for _ in range(5)]

    assert [r.status_code for r in answers] == [500, 503, 401, 200, 200]
    assert [error_code(r) for r in answers[:3]] == [200, 210, 101]
    assert ET.fromstring(answers[2].content).findtext(f"{ERROR_NS}code") == "101"
    with pytest.raises(ET.ParseError):
        ET.fromstring(answers[3].content)
    assert ET.fromstring(answers[4].content).tag == "endpointList"
    assert cisco_sim.state()["pending_faults"] == 0


def test_a_503_fault_hits_a_fetch_with_cpu_code_210(
    cisco_sim: CiscoSimHandle, wired: Wired
) -> None:
    cisco_sim.fault("503")
    response = fetch(cisco_sim, wired.end_key, wired.sub_id)
    assert (response.status_code, error_code(response)) == (503, 210)
    assert ET.fromstring(response.content).findtext(f"{ERROR_NS}message") == (
        "Max cpu utilization reached"
    )
    assert cisco_sim.state()["subscriptions"][0]["awaiting_fetch"] is True
    assert fetch(cisco_sim, wired.end_key, wired.sub_id).status_code == 200


def test_slow_fault_delays_the_answer(cisco_sim: CiscoSimHandle) -> None:
    cisco_sim.fault("slow", delay_s=0.3)
    started = time.monotonic()
    assert login_app(cisco_sim)
    assert time.monotonic() - started >= 0.3


def test_unknown_fault_kind_and_bad_control_input_are_refused(cisco_sim: CiscoSimHandle) -> None:
    refused = cisco_sim.http.post(cisco_sim.url + "/_sim/faults", json={"kind": "502"})
    assert refused.status_code == 400
    assert cisco_sim.state()["pending_faults"] == 0
    bad = cisco_sim.http.post(cisco_sim.url + f"/_sim/contacts/{ALICE}", json={"status": "OUT"})
    assert bad.status_code == 400
    html = cisco_sim.http.post(
        cisco_sim.url + f"/_sim/contacts/{ALICE}",
        json={"status": "DND", "activities": ["<script>"]},
    )
    assert html.status_code == 400
    long_stamp = cisco_sim.http.post(
        cisco_sim.url + f"/_sim/contacts/{ALICE}", json={"status": "DND", "from": "x" * 65}
    )
    assert long_stamp.status_code == 400
    for options in ({"rpid_from": "yes"}, {"colour": True}, {}):
        refused = cisco_sim.http.post(cisco_sim.url + "/_sim/options", json=options)
        assert refused.status_code == 400, options
    assert cisco_sim.state()["options"] == {"rpid_from": False, "basic_as_stored": True}


def _activities(response: requests.Response) -> dict[str, ET.Element]:
    assert response.status_code == 200, response.text
    found = {}
    for contact in ET.fromstring(response.content):
        element = contact.find(f"{PIDF}presence/{RPID}person/{RPID}activities")
        assert element is not None
        found[contact.attrib["contactURI"]] = element
    return found


def test_rich_activities_carry_rpid_from_on_the_nodes_clock_when_dated(
    cisco_sim: CiscoSimHandle,
) -> None:
    cisco_sim.advance(120)  # the node's clock runs two minutes ahead of ours
    dated = cisco_sim._post("/_sim/options", {"rpid_from": True})
    assert dated == {"rpid_from": True, "basic_as_stored": True}
    cisco_sim._post(
        f"/_sim/contacts/{ALICE}",
        {"status": "DND", "activities": ["presenting"], "since_ago_s": 600},
    )
    cisco_sim._post(f"/_sim/contacts/{BOB}", {"status": "BUSY", "from": "yesterday-ish"})
    app_key = login_app(cisco_sim)
    end_key = login_end(cisco_sim, app_key)
    endpoint_id = last_id(register(cisco_sim, app_key, "http://dash.example/pws"))
    sub_id = last_id(subscribe(cisco_sim, end_key, endpoint_id, [ALICE, BOB, CAROL]))

    response = fetch(cisco_sim, end_key, sub_id, kind="rich")

    node_now = parsedate_to_datetime(response.headers["Date"])
    assert abs((node_now - datetime.now(UTC)).total_seconds() - 120) < 2
    found = _activities(response)
    alice = found[ALICE]
    assert [a.tag.split("}")[1] for a in alice] == ["dnd", "presenting"]
    began = datetime.fromisoformat(alice.attrib["from"].replace("Z", "+00:00"))
    assert abs((node_now - began).total_seconds() - 600) < 2
    assert found[BOB].attrib == {"from": "yesterday-ish"}  # verbatim, for adapter tests
    assert found[CAROL].attrib == {}  # unknown to the node: nothing to date
    # the same state again is no change: it keeps its start and notifies nobody
    assert cisco_sim.set_contact(ALICE, "DND", ["presenting"])["notified"] == []
    again = _activities(fetch(cisco_sim, end_key, sub_id, kind="rich"))[ALICE]
    assert again.attrib == alice.attrib


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/endpoints", "<endpoint><url>http://x.example/pws</url>"),
        ("POST", "/endpoints", "not xml at all"),
        ("PUT", "/endpoints/1", "<endpoint"),
    ],
)
def test_malformed_xml_is_400_102(
    cisco_sim: CiscoSimHandle, method: str, path: str, body: str
) -> None:
    app_key = login_app(cisco_sim)
    register(cisco_sim, app_key, "http://dash.example/pws")
    response = call(cisco_sim, method, path, app_key, body, 3600)
    assert (response.status_code, error_code(response)) == (400, 102)


# -- demo mode -------------------------------------------------------------------------------


DEMO_URIS = [f"demo{i}@example.com" for i in range(40)]
BUSY_STATES = {("BUSY", ("on-the-phone",)), ("BUSY", ("meeting",)), ("DND", ("presenting",))}
BUSY_STATES |= {("DND", ())}


def _busy_share(sim: CiscoPwsSim) -> float:
    with sim.lock:
        states = [(c.status, tuple(c.activities)) for c in sim.contacts.values()]
    return sum(state in BUSY_STATES for state in states) / len(states)


def test_demo_keeps_a_realistic_share_busy_with_short_episodes() -> None:
    sim = CiscoPwsSim(rng=random.Random(5))
    sim.add_demo_contacts([f"d{i}@example.com" for i in range(400)])
    shares, lengths, began, seen = [_busy_share(sim)], [], {}, set()
    for _ in range(240):  # four simulated hours, a minute at a time
        sim.offset_s += 60
        for uri in sim.advance_demo():
            contact = sim.contacts[uri]
            if uri in began and began[uri][0] in BUSY_STATES:
                lengths.append(contact.since - began[uri][1])
            began[uri] = ((contact.status, tuple(contact.activities)), contact.since)
            seen.add(began[uri][0])
        shares.append(_busy_share(sim))
    assert 0.10 <= shares[0] <= 0.25, shares[0]  # right from the start
    assert min(shares[60:]) >= 0.10 and max(shares[60:]) <= 0.27, (min(shares), max(shares))
    assert min(lengths) >= 60 and max(lengths) <= 8 * 60 + 60  # minutes, not hours
    assert seen >= BUSY_STATES | {("AVAILABLE", ()), ("AWAY", ()), ("UNAVAILABLE", ())}


def test_demo_keeps_a_few_contacts_in_one_state_for_hours() -> None:
    sim = CiscoPwsSim(rng=random.Random(8))
    sim.add_demo_contacts(DEMO_URIS)
    long_ones = [u for u, d in sim.demo.items() if d.until - sim.now() > 20 * 60]
    assert len(long_ones) == len(DEMO_URIS) // 8
    start = sim.now()
    for uri in long_ones:  # begun before the demo, as a day-long state would be
        assert sim.contacts[uri].since < start - 60
    sim.offset_s += 20 * 60
    sim.advance_demo()
    assert all(sim.contacts[u].since < start for u in long_ones)  # still in it


def test_demo_contacts_show_a_mix_and_move_on_when_due(cisco_sim: CiscoSimHandle) -> None:
    sim = cisco_sim.sim
    sim.add_demo_contacts(DEMO_URIS, random.Random(11))
    app_key = login_app(cisco_sim)
    end_key = login_end(cisco_sim, app_key)
    url = f"http://127.0.0.1:{free_port()}/pws"
    endpoint_id = last_id(register(cisco_sim, app_key, url, expiry=86400))
    sub_id = last_id(subscribe(cisco_sim, end_key, endpoint_id, DEMO_URIS, expiry=86400))
    before = basic_statuses(fetch(cisco_sim, end_key, sub_id))
    assert list(before.values()).count("AVAILABLE") > len(DEMO_URIS) / 2, before
    assert {"AWAY", "DND"} & set(before.values())
    assert sim.drain(5)
    sent = len(cisco_sim.notifications())

    states = {u: (sim.contacts[u].status, sim.contacts[u].activities) for u in DEMO_URIS}
    cisco_sim.advance(3 * 3600 + 1)  # every contact's dwell time is over, long ones too
    assert set(sim.advance_demo()) == set(DEMO_URIS)

    assert all((c.status, c.activities) != states[u] for u, c in sim.contacts.items())
    assert basic_statuses(fetch(cisco_sim, end_key, sub_id)) != before
    assert sim.drain(5) and len(cisco_sim.notifications()) == sent + 1  # one until fetched
    assert all(d.until > sim.now() + 59 for d in sim.demo.values())


def test_the_demo_thread_applies_due_changes_on_its_own(cisco_sim: CiscoSimHandle) -> None:
    sim = cisco_sim.sim
    sim.add_demo_contacts(DEMO_URIS[:5], random.Random(3))
    with sim.lock:
        states = {u: (c.status, list(c.activities)) for u, c in sim.contacts.items()}
    cisco_sim.advance(3 * 3600 + 1)
    sim.start_demo(interval_s=0.02)

    def all_moved() -> bool:
        with sim.lock:
            return all((c.status, c.activities) != states[u] for u, c in sim.contacts.items())

    wait_for(all_moved, timeout=5, what="the demo thread to move every due contact")
