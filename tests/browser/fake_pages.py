"""The real templates, CSS and JS on fake data: Flask renders a page from a snapshot a test
chooses, and Playwright routes serve it with the static files to Chromium under the app's CSP.
No server and no socket: a stand-in socket.io lets a test push events itself."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from flask import Flask, render_template

from presence_dash.web.agent_plan import FIRST_PAGE_PEOPLE, agent_context
from presence_dash.web.headers import CSP
from presence_dash.web.pages import page_labels
from presence_dash.web.wall_plan import parse_options, wall_context

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
ORIGIN = "http://dash.test"
SERVER_TIME = "2026-11-23T10:00:00.000Z"
SINCE = "2026-11-23T09:00:00.000Z"  # an hour before SERVER_TIME: "1h" on the cards

# Stands in for static/vendor/socket.io.min.js: io() returns a socket that never connects;
# window.fakeSocket.fire(name, payload) calls the page's handlers as a server event would.
FAKE_IO = """
(() => {
  const handlers = {};
  const socket = {
    connected: false,
    on(name, fn) { (handlers[name] ||= []).push(fn); return socket; },
    emit() { return socket; },
    connect() { return socket; },
  };
  window.io = () => socket;
  window.fakeSocket = {
    fire(name, payload) { for (const fn of handlers[name] || []) fn(payload); },
  };
})();
"""


def person(
    pid: str,
    team: str,
    status: str,
    *,
    activity: str | None = None,
    activity_source: str | None = None,
    since_exact: bool = True,
    stale: bool = False,
    sources: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A PERSON as the server sends it (v1.1); one ServiceNow source unless `sources`."""
    if sources is None:
        sources = {
            "servicenow": {
                "status": status if status != "unknown" else "offline",
                "detail": None,
                "observed_at": "2026-11-23T09:59:58.000Z",
                "stale": stale,
                "activity": None,
            }
        }
    return {
        "id": pid,
        "name": pid.replace("-", " ").title(),
        "team": team,
        "status": status,
        "since": SINCE,
        "since_exact": since_exact,
        "detail": None,
        "activity": activity,
        "activity_source": activity_source,
        "sources": sources,
    }


def snapshot(people: list[dict[str, Any]], providers: dict[str, Any] | None = None) -> dict:
    return {
        "seq": 17,
        "server_time": SERVER_TIME,
        "people": people,
        "providers": providers or {"servicenow": {"state": "ok", "last_success": SERVER_TIME}},
    }


def render(
    page: str,
    snap: dict,
    team_filter: str | None = None,
    query: dict[str, str | list[str]] | None = None,
    alerts: dict | None = None,
) -> str:
    """The HTML of templates/`page` for `snap`, its teams taken from the people. The wall
    takes its query string as `query` (`{"team": ["A", "B"], "sort": "state"}`) and the
    alerts body (GET /api/alerts) embedded for the first paint as `alerts`."""
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=str(STATIC))
    app.jinja_env.globals["provider_labels"] = page_labels()  # as web/pages.py installs it
    teams = sorted({p["team"] for p in snap["people"]}, key=str.casefold)
    context: dict[str, Any] = {"snapshot": snap, "teams": teams, "team_filter": team_filter}
    if page == "wall.html":
        args = dict(query or {})
        wanted = args.pop("team", [team_filter] if team_filter else [])
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        options = parse_options(wanted, {k: str(v) for k, v in args.items()})
        context.update(wall_context(snap, teams, options))
        if alerts is not None:
            context["alerts"] = alerts
    elif page == "agent.html":
        context.update(agent_context(snap, teams, team_filter))
    with app.test_request_context("/"):
        return render_template(
            page,
            demo=True,
            title="Presence",
            csrf_token=lambda: "test-csrf-token",
            identity=None,
            auth_mode="none",
            **context,
        )


def open_view(
    page: Any,
    view: str,
    snap: dict,
    team_filter: str | None = None,
    *,
    query: dict[str, str | list[str]] | None = None,
    alerts: dict | None = None,
    connect: bool = True,
) -> None:
    """Show the agent view ("agent") or the wall ("wall") for `snap` in the Playwright page
    and wait until the modules have started (the time-in-state texts are filled). The wall
    and a big agent view embed their first page only; with `connect` the stand-in socket then
    connects and sends the whole `snap` (and `alerts`), as the server does, and the wall
    pages everyone (the agent view builds everyone's card)."""
    html = render(f"{view}.html", snap, team_filter, query, alerts)
    headers = {"Content-Security-Policy": CSP}

    def handle(route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN).split("?")[0]
        if path == "/static/vendor/socket.io.min.js":
            route.fulfill(body=FAKE_IO, content_type="text/javascript", headers=headers)
            return
        file = STATIC / path.removeprefix("/static/")
        if path.startswith("/static/") and file.is_file() and STATIC in file.resolve().parents:
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            route.fulfill(body=file.read_bytes(), content_type=kind, headers=headers)
        elif path == "/":
            route.fulfill(body=html, content_type="text/html", headers=headers)
        else:
            route.fulfill(status=404, body="not here", headers=headers)

    page.route(f"{ORIGIN}/**", handle)
    page.goto(f"{ORIGIN}/")
    if view != "wall":
        page.wait_for_function("document.querySelector('.since[data-since]')?.textContent !== ''")
        # A big floor's page renders its first screenful: the socket's snapshot brings the rest.
        if connect and len(snap["people"]) > FIRST_PAGE_PEOPLE:
            fire(page, "connect", None)
            fire(page, "snapshot", snap)
            page.wait_for_function("document.getElementById('people-loading').hidden")
        return
    page.wait_for_function("document.querySelector('#data-as-of .as-of-age').textContent !== ''")
    if connect:
        fire(page, "connect", None)
        fire(page, "snapshot", snap)
        if alerts is not None:
            fire(page, "alerts", alerts)
        if (query or {}).get("view") != "summary" and snap["people"]:
            page.wait_for_function("document.body.dataset.page !== undefined")


def fire(page: Any, name: str, payload: Any) -> None:
    """Deliver a server event to the page's socket handlers."""
    page.evaluate("([name, payload]) => window.fakeSocket.fire(name, payload)", [name, payload])
