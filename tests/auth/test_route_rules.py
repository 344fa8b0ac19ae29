"""Every route and Socket.IO event, for every role: the policy table is what the app
enforces, and a route without a rule fails here before it can ship open.

Uses the real app through Flask's WSGI test client (header mode, so each role is one
header away); the sign-in flows over real sockets are in test_auth_server.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from presence_dash.auth.gate import current_auth
from presence_dash.auth.policy import ROUTES, SOCKET_EVENTS
from presence_dash.auth.roles import Role
from presence_dash.config import settings_from_dict
from presence_dash.factory import create_app

GROUPS = {"viewer": "staff", "agent": "support", "admin": "support-admins"}

# The access rules, written out independently of auth/policy.py so that a wrong
# entry there fails here: endpoint -> (least role or None for public, a wall token may use it).
EXPECTED: dict[str, tuple[str | None, bool]] = {
    "static": (None, True),
    "health.healthz": (None, True),
    "health.readyz": (None, True),
    "health.metrics": (None, True),
    "hooks.vendor_hook": (None, True),
    "auth.login_form": (None, True),
    "auth.login": (None, True),
    "auth.logout": (None, True),
    "auth.me": (None, True),
    "pages.wall_view": ("viewer", True),
    "api.presence": ("viewer", True),
    "alerts_api.list_alerts": ("viewer", True),
    "visitors.list_visitors": ("viewer", True),
    "pages.agent_view": ("viewer", False),
    "api.person_history": ("viewer", False),
    "api.openapi_document": ("viewer", False),
    "visitors.cobrowse": ("agent", False),
    "visitors.signal": ("agent", False),
    "screenmeet.list_sessions": ("agent", False),
    "screenmeet.create_session": ("agent", False),
    "screenmeet.reschedule_session": ("agent", False),
    "screenmeet.close_session": ("agent", False),
    "auth.admin_page": ("admin", False),
    "auth.audit_log": ("admin", False),
    "auth.list_kiosk_tokens": ("admin", False),
    "auth.create_kiosk_token": ("admin", False),
    "auth.revoke_kiosk_token": ("admin", False),
    "auth.admin_create_kiosk_token": ("admin", False),
    "auth.admin_revoke_kiosk_token": ("admin", False),
}


def _expected_allowed(endpoint: str, who: str) -> bool:
    least, kiosk_ok = EXPECTED[endpoint]
    if least is None:
        return True
    if who == "anonymous":
        return False
    if who == "kiosk":
        return kiosk_ok and least == "viewer"
    order = ["viewer", "agent", "admin"]
    return order.index(who) >= order.index(least)


PROXY = "127.0.0.1"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    settings = settings_from_dict(
        {
            "server": {"database": f"sqlite:///{tmp_path / 'dash.db'}"},
            "people": [{"id": "ada", "name": "Ada", "team": "Desk"}],
            "auth": {
                "mode": "header",
                "trusted_proxies": [PROXY],
                "group_roles": {g: r for r, g in GROUPS.items()},
            },
        },
        {},
    )
    app = create_app(settings)
    app.extensions["presence_dash"].history.create_schema()
    yield app


def _client(app: Flask, who: str) -> tuple[FlaskClient, dict[str, str]]:
    client = app.test_client()
    headers: dict[str, str] = {}
    if who in GROUPS:
        headers = {"X-Remote-User": f"{who}-user", "X-Remote-Groups": GROUPS[who]}
    elif who == "kiosk":
        _token, secret = current_auth(app).kiosks.create("lobby", "test")
        assert (
            client.get(f"/wall?kiosk={secret}", environ_base={"REMOTE_ADDR": PROXY}).status_code
            == 200
        )
    return client, headers


def _csrf(client: FlaskClient, headers: dict[str, str]) -> str:
    """The session's CSRF token, from the sign-in page (public, so every role has one)."""
    page = client.get("/login", headers=headers, environ_base={"REMOTE_ADDR": PROXY})
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
    return found.group(1) if found else ""


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        path = re.sub(
            r"<(?:int:)?[^>]+>", lambda m: "1" if "int:" in m.group(0) else "x", rule.rule
        )
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, path))
    # Sign-out ends the session (and its CSRF token): last, so it cannot hide other results.
    return sorted(out, key=lambda route: route[0] == "auth.logout")


def test_every_route_has_an_access_rule(app: Flask) -> None:
    endpoints = {endpoint for endpoint, _m, _p in _routes(app)}
    missing = sorted(endpoints - set(ROUTES))
    assert not missing, f"routes without an entry in auth/policy.py ROUTES: {missing}"
    unspecified = sorted(endpoints - set(EXPECTED))
    assert not unspecified, f"routes this test does not know the rule for: {unspecified}"
    stale = sorted(set(ROUTES) - {endpoint for endpoint, _m, _p in _routes(app)})
    assert not stale, f"rules for routes that no longer exist: {stale}"


@pytest.mark.parametrize("who", ["anonymous", "kiosk", "viewer", "agent", "admin"])
def test_each_role_reaches_exactly_what_its_rule_allows(app: Flask, who: str) -> None:
    client, headers = _client(app, who)
    token = _csrf(client, headers)
    wrong = []
    for endpoint, method, path in _routes(app):
        if endpoint == "static":
            path = "/static/css/dash.css"
        send = dict(headers, **({"X-CSRFToken": token} if method != "GET" else {}))
        response = client.open(
            path,
            method=method,
            headers=send,
            json={} if method != "GET" else None,
            environ_base={"REMOTE_ADDR": PROXY},
        )
        refused = response.status_code in (401, 403) or (
            response.status_code == 302 and "/login" in response.headers.get("Location", "")
        )
        expected = _expected_allowed(endpoint, who)
        if refused == expected:
            wrong.append(
                f"{method} {path} ({endpoint}): {response.status_code}, expected "
                f"{'allowed' if expected else 'refused'}"
            )
    assert not wrong, f"{who}:\n" + "\n".join(wrong)


def test_socket_events_all_have_rules_and_need_a_viewer() -> None:
    from presence_dash.push import sockets

    handled = set(re.findall(r'on_event\("([a-z_]+)"', Path(sockets.__file__).read_text()))
    assert handled - {"disconnect"} <= set(SOCKET_EVENTS)
    assert all(rule.role is Role.VIEWER for rule in SOCKET_EVENTS.values())
