"""A local stand-in for Glance Presence: the Authorization API, the load balancer and several
named presence servers, each on its own loopback port.

Speaks the wire format of docs/providers/glance.md: `POST /authorize?service=presence&
groupid=G&duration=MIN` with a partner login key (`$1$<expiry>$<HMAC-SHA256>`) or a username
and password, answering `authToken` and `authTokeExp` (Glance's spelling); bearer tokens per
group that expire; `/query`, `/lookupvisitor` and `/findvisitor` on the load balancer;
`/signalvisitor` only on the presence server the visitor is connected to (any other server,
the load balancer included, answers 404). Every signal a visitor receives is logged so tests
can assert exactly what the visitor got.
Shares no code with the adapter so each can catch the other's mistakes.

Scripted mode (tests) is driven over HTTP under `/_sim/` on the load balancer: visitors
arrive and leave, tokens expire, `findvisitor` can be made to name another server (SSRF
tests), faults are queued. Demo mode lets visitors come and go on a background thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, jsonify, request

from presence_dash.simulators.callouts import start_ticker
from presence_dash.simulators.control import add_fault_route, fault_list_queue
from presence_dash.simulators.serve import SimulatorServer

VISITOR_ID = re.compile(r"^[A-Za-z0-9_~-]{1,62}$")
FAULT_KINDS = {"500", "503", "slow", "not_json", "401"}
MAX_TOKEN_MINUTES = 120
MAX_LOGIN_KEY_AHEAD_S = 86_400  # a login key may not claim more than a day of validity
DEMO_PAGES = [
    ("/pricing", "Pricing"),
    ("/support/contact", "Contact support"),
    ("/checkout", "Checkout"),
    ("/docs/getting-started", "Getting started"),
    ("/account/billing", "Billing"),
    ("/products/widget-pro", "Widget Pro"),
]
DEMO_BROWSERS = ["Chrome 131", "Firefox 133", "Safari 18", "Edge 131"]


@dataclass
class SimVisitor:
    group_id: int
    visitor_id: str
    server: int  # index into GlanceSim.servers
    arrived: float
    page: dict[str, str] = field(default_factory=dict)


@dataclass
class GlanceSim:
    """The simulated Glance account. Times are epoch seconds on the simulator's clock."""

    groups: set[int] = field(default_factory=lambda: {72431})
    api_key: str = "secret"
    partner_user_ids: set[str] = field(default_factory=lambda: {"presence-dash"})
    username: str = "presence.dash.glance.net"
    password: str = "secret"
    token_seconds: float | None = None  # tests: shorter than the requested duration
    findvisitor_shape: str = "flat"  # "flat" (current reference) or "nested" (older article)
    servers: list[str] = field(default_factory=list)  # "host:port" of each presence server
    visitors: dict[tuple[int, str], SimVisitor] = field(default_factory=dict)
    direct_override: dict[tuple[int, str], str] = field(default_factory=dict)
    tokens: dict[str, tuple[int, float]] = field(default_factory=dict)
    signals: list[dict[str, Any]] = field(default_factory=list)
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=2000))
    faults: deque[dict[str, Any]] = field(default_factory=deque)
    offset_s: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)
    demo_groups: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def now(self) -> float:
        return time.time() + self.offset_s

    # -- state changes that tests and the demo make ------------------------------------------

    def arrive(
        self, group_id: int, visitor_id: str, server: int = 0, page: dict[str, str] | None = None
    ) -> SimVisitor:
        with self.lock:
            visitor = SimVisitor(group_id, visitor_id, server, self.now(), dict(page or {}))
            self.visitors[(group_id, visitor_id)] = visitor
            return visitor

    def leave(self, group_id: int, visitor_id: str) -> bool:
        with self.lock:
            return self.visitors.pop((group_id, visitor_id), None) is not None

    def expire_tokens(self) -> int:
        with self.lock:
            count = len(self.tokens)
            self.tokens.clear()
            return count

    # -- demo mode ---------------------------------------------------------------------------

    def start_demo(self, groups: list[int], interval_s: float = 1.0) -> threading.Thread:
        """Visitors arrive (a few a minute), browse, move between servers never, and leave
        after 20 s to 4 min; each group keeps between 2 and 12 visitors."""
        self.demo_groups = list(groups)
        for group in groups:
            for _ in range(self.rng.randint(3, 6)):
                self._demo_arrive(group)

        return start_ticker("glance-sim-demo", interval_s, self._stop, self.advance_demo)

    def advance_demo(self) -> None:
        with self.lock:
            present = list(self.visitors.values())
        for visitor in present:
            if visitor.group_id in self.demo_groups and self.rng.random() < 0.02:
                in_group = sum(1 for v in self.visitors.values() if v.group_id == visitor.group_id)
                if in_group > 2:
                    self.leave(visitor.group_id, visitor.visitor_id)
            elif self.rng.random() < 0.05:
                path, title = self.rng.choice(DEMO_PAGES)
                visitor.page.update(url=f"https://www.example.com{path}", title=title)
        for group in self.demo_groups:
            in_group = sum(1 for v in self.visitors.values() if v.group_id == group)
            if in_group < 12 and self.rng.random() < 0.08:
                self._demo_arrive(group)

    def _demo_arrive(self, group: int) -> None:
        path, title = self.rng.choice(DEMO_PAGES)
        visitor_id = f"v-{self.rng.randrange(16**6):06x}"
        page = {
            "url": f"https://www.example.com{path}",
            "title": title,
            "browser": self.rng.choice(DEMO_BROWSERS),
        }
        self.arrive(group, visitor_id, self.rng.randrange(max(1, len(self.servers))), page)

    def close(self) -> None:
        self._stop.set()


# -- the apps ---------------------------------------------------------------------------------


def create_app(sim: GlanceSim) -> Flask:
    """The load balancer (presence.glance.net) plus the Authorization API and `/_sim/`."""
    app = Flask(__name__)

    @app.post("/authorize")
    def authorize() -> Any:
        _log(sim, "authorize", None)
        if request.args.get("service") != "presence":
            return jsonify({"message": "unknown or missing service"}), 400
        try:
            group_id = int(request.args.get("groupid", ""))
            minutes = int(request.args.get("duration", str(MAX_TOKEN_MINUTES)))
        except ValueError:
            return jsonify({"message": "groupid and duration must be integers"}), 400
        if not 1 <= minutes <= MAX_TOKEN_MINUTES:
            return jsonify({"message": "duration must be 1-120 minutes"}), 400
        body = request.get_json(silent=True)
        problem = _check_credentials(sim, body, group_id)
        if problem:
            return jsonify({"message": problem, "authToken": None}), 401
        if group_id not in sim.groups:
            return jsonify({"message": f"not a member of group {group_id}"}), 403
        lifetime = sim.token_seconds if sim.token_seconds is not None else minutes * 60.0
        token = "eyJ" + secrets.token_urlsafe(24)
        expires = sim.now() + lifetime
        with sim.lock:
            sim.tokens[token] = (group_id, expires)
        return jsonify(
            {
                "VServer": None,
                "authTokeExp": _seven_digit_iso(expires),  # sic: Glance's key name
                "authToken": token,
                "groupId": group_id,
                "isTrial": False,
                "message": None,
                "service": 9,
            }
        )

    @app.get("/query")
    def query() -> Any:
        group_id, problem = _authorized(sim, "query", with_visitor=False)
        if problem:
            return problem
        with sim.lock:
            present = [v for v in sim.visitors.values() if v.group_id == group_id]
            records = [_record(sim, v) for v in sorted(present, key=lambda v: v.arrived)]
        return jsonify({"groupid": str(group_id), "visitors": records})

    @app.get("/lookupvisitor")
    def lookup() -> Any:
        group_id, problem = _authorized(sim, "lookupvisitor")
        if problem:
            return problem
        visitor_id = request.args["visitorid"]
        with sim.lock:
            visitor = sim.visitors.get((group_id, visitor_id))
            if visitor is None:
                return jsonify(
                    {"visitorid": visitor_id, "groupid": str(group_id), "visitorpresent": False}
                )
            return jsonify(_record(sim, visitor))

    @app.get("/findvisitor")
    def findvisitor() -> Any:
        group_id, problem = _authorized(sim, "findvisitor")
        if problem:
            return problem
        key = (group_id, request.args["visitorid"])
        with sim.lock:
            visitor = sim.visitors.get(key)
            if visitor is None:
                return jsonify({"visitorfound": False})
            direct = sim.direct_override.get(key) or sim.servers[visitor.server]
        if sim.findvisitor_shape == "nested":
            return jsonify({"visitorfound": {"direct": direct}})
        host = direct.rsplit(":", 1)[0]
        return jsonify(
            {
                "ds": f"{host}/0",
                "direct": direct,
                "directserver": host,
                "tlsport": 5501,
                "httpsport": 443,
                "visitorfound": True,
            }
        )

    @app.post("/signalvisitor")
    def signal_on_balancer() -> Any:
        # The load balancer carries no visitor connections: signals must go to the server.
        _log(sim, "signalvisitor", None, server="balancer")
        return jsonify({"error": "visitor not connected to this server"}), 404

    _control_routes(app, sim)
    return app


def create_presence_server_app(sim: GlanceSim, index: int) -> Flask:
    """Named presence server number `index`: takes signals for its own visitors only."""
    app = Flask(__name__)

    @app.post("/signalvisitor")
    def signalvisitor() -> Any:
        group_id, problem = _authorized(sim, "signalvisitor", server=index)
        if problem:
            return problem
        visitor_id = request.args["visitorid"]
        message = request.get_json(silent=True)
        if not isinstance(message, dict) or message.get("mtype") not in ("invoke", "signal"):
            return jsonify({"error": 'body must be {"mtype": "invoke"|"signal", "data": ...}'}), 400
        with sim.lock:
            visitor = sim.visitors.get((group_id, visitor_id))
            if visitor is None or visitor.server != index:
                return jsonify({"error": "visitor not connected to this server"}), 404
            sim.signals.append(
                {
                    "server": index,
                    "server_name": sim.servers[index] if index < len(sim.servers) else "",
                    "group_id": group_id,
                    "visitor_id": visitor_id,
                    "mtype": message["mtype"],
                    "data": message.get("data"),
                    "at": sim.now(),
                }
            )
        return jsonify({"status": "ok"})

    return app


@dataclass
class GlanceServers:
    """The running load balancer and presence servers of one GlanceSim."""

    sim: GlanceSim
    balancer: SimulatorServer
    presence: list[SimulatorServer]

    @property
    def url(self) -> str:
        return self.balancer.url

    @property
    def auth_url(self) -> str:
        return self.balancer.url + "/authorize"

    def shutdown(self) -> None:
        self.sim.close()
        for server in [self.balancer, *self.presence]:
            server.shutdown()


def serve(
    sim: GlanceSim,
    *,
    presence_servers: int = 2,
    host: str = "127.0.0.1",
    port: int = 0,
    start: Callable[[SimulatorServer], Any] | None = None,
) -> GlanceServers:
    """Bind the load balancer on `port` and each presence server on a free port, record the
    servers' names in `sim.servers`, and start them with `start` (default: a daemon thread
    each; pass lambda s: None to serve them yourself)."""
    presence = [
        SimulatorServer(create_presence_server_app(sim, i), host) for i in range(presence_servers)
    ]
    sim.servers = [f"{host}:{server.port}" for server in presence]
    balancer = SimulatorServer(create_app(sim), host, port)
    for server in [balancer, *presence]:
        if start is None:
            server.start()
        else:
            start(server)
    return GlanceServers(sim, balancer, presence)


# -- helpers ----------------------------------------------------------------------------------


def _control_routes(app: Flask, sim: GlanceSim) -> None:
    @app.post("/_sim/visitors")
    def add_visitor() -> Any:
        body = request.get_json(silent=True) or {}
        group_id, visitor_id = int(body.get("group_id", 0)), str(body.get("visitor_id", ""))
        server = int(body.get("server", 0))
        if not VISITOR_ID.match(visitor_id) or not 0 <= server < max(1, len(sim.servers)):
            return jsonify({"error": "need a valid visitor_id and server index"}), 400
        visitor = sim.arrive(group_id, visitor_id, server, body.get("page"))
        return jsonify({"visitor_id": visitor.visitor_id, "server": sim.servers[server]})

    @app.delete("/_sim/visitors/<int:group_id>/<visitor_id>")
    def remove_visitor(group_id: int, visitor_id: str) -> Any:
        return jsonify({"removed": sim.leave(group_id, visitor_id)})

    @app.post("/_sim/direct")
    def override_direct() -> Any:
        """Make findvisitor name `direct` for one visitor (an SSRF attempt, a stale name)."""
        body = request.get_json(silent=True) or {}
        key = (int(body["group_id"]), str(body["visitor_id"]))
        with sim.lock:
            if body.get("direct"):
                sim.direct_override[key] = str(body["direct"])
            else:
                sim.direct_override.pop(key, None)
        return jsonify({"ok": True})

    @app.post("/_sim/quirks")
    def quirks() -> Any:
        body = request.get_json(silent=True) or {}
        if body.get("findvisitor_shape", "flat") not in ("flat", "nested"):
            return jsonify({"error": "findvisitor_shape: flat or nested"}), 400
        sim.findvisitor_shape = body.get("findvisitor_shape", sim.findvisitor_shape)
        if "token_seconds" in body:
            value = body["token_seconds"]
            sim.token_seconds = None if value is None else float(value)
        return jsonify({"findvisitor_shape": sim.findvisitor_shape})

    @app.post("/_sim/expire-tokens")
    def expire_tokens() -> Any:
        return jsonify({"expired": sim.expire_tokens()})

    add_fault_route(app, FAULT_KINDS, fault_list_queue(sim.faults))

    @app.get("/_sim/signals")
    def signals() -> Any:
        with sim.lock:
            return jsonify({"signals": list(sim.signals)})

    @app.get("/_sim/requests")
    def request_log() -> Any:
        with sim.lock:
            return jsonify({"requests": list(sim.requests)})


def _log(sim: GlanceSim, path: str, status: int | None, **extra: Any) -> None:
    with sim.lock:
        sim.requests.append(
            {"path": path, "args": request.args.to_dict(), "status": status, **extra}
        )


def _authorized(
    sim: GlanceSim, path: str, *, with_visitor: bool = True, server: int | None = None
) -> tuple[int, Any]:
    """(group id, None) for a call with a valid token for its group, else (0, error reply)."""
    header = request.headers.get("Authorization", "")
    token = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
    try:
        group_id = int(request.args.get("groupid", ""))
    except ValueError:
        _log(sim, path, 400, server=server)
        return 0, (jsonify({"error": "groupid is required"}), 400)
    if with_visitor and not VISITOR_ID.match(request.args.get("visitorid", "")):
        _log(sim, path, 400, server=server)
        return 0, (jsonify({"error": "visitorid is missing or invalid"}), 400)
    with sim.lock:
        fault = sim.faults.popleft() if sim.faults else None
        entry = sim.tokens.get(token)
        # A token is for one group only (Glance: "the token is always group specific").
        valid = entry is not None and entry[0] == group_id and entry[1] > sim.now()
    kind = fault["kind"] if fault else None
    if not valid or kind == "401":
        _log(sim, path, 401, server=server, fault=kind)
        return 0, (jsonify({"error": "invalid or expired authorization token"}), 401)
    _log(sim, path, int(kind) if kind in ("500", "503") else 200, server=server, fault=kind)
    if kind in ("500", "503"):
        return 0, (jsonify({"error": "presence service unavailable"}), int(kind))
    if kind == "slow":
        time.sleep(fault["delay_s"])  # type: ignore[index]
    if kind == "not_json":
        return 0, ("<html>gateway error</html>", 200, {"Content-Type": "text/html"})
    return group_id, None


def _check_credentials(sim: GlanceSim, body: Any, group_id: int) -> str | None:
    """None when the body holds valid credentials; else why not."""
    if not isinstance(body, dict):
        return "credentials missing"
    if "loginkey" in body:
        key = str(body.get("loginkey", ""))
        user = str(body.get("partneruserid", ""))
        partner = str(body.get("partnerid", ""))
        if user not in sim.partner_user_ids:
            return "unknown partner user"
        parts = key.split("$")
        # "$1$<expiry>$<signature>" splits into ["", "1", expiry, signature].
        if len(parts) != 4 or parts[0] or parts[1] != "1" or not parts[2].isdigit():
            return "malformed login key"
        expiry = int(parts[2])
        if not sim.now() < expiry <= sim.now() + MAX_LOGIN_KEY_AHEAD_S:
            return "login key expired or too far in the future"
        signed = (partner + user + "1" + parts[2]).encode()
        mac = hmac.new(sim.api_key.encode(), signed, hashlib.sha256).digest()
        expected = base64.b64encode(mac, altchars=b"-_").decode().rstrip("=")
        return None if hmac.compare_digest(expected, parts[3]) else "login key signature invalid"
    if body.get("username") == sim.username and body.get("password") == sim.password:
        return None
    return "invalid username or password"


def _record(sim: GlanceSim, visitor: SimVisitor) -> dict[str, Any]:
    """A presence record as the current reference shows `/lookupvisitor`'s, plus what the
    visitor's page reported (url, title, browser)."""
    direct = sim.servers[visitor.server] if visitor.server < len(sim.servers) else ""
    host = direct.rsplit(":", 1)[0]
    arrived = f"{visitor.arrived:.1f}"
    return {
        "direct": direct,
        "visitorpresent": arrived,
        "timestamp": f"{sim.now():.1f}",
        "visitorid": visitor.visitor_id,
        "groupid": str(visitor.group_id),
        "ds": f"{host}/0",
        "directserver": host,
        "tlsport": 5501,
        "httpsport": 443,
        **visitor.page,
    }


def _seven_digit_iso(epoch: float) -> str:
    """Glance's .NET time stamps: seven fractional digits and a Z."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond * 10:07d}Z"
