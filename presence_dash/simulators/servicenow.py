"""A local stand-in for a ServiceNow instance's UI presence endpoint.

Speaks the wire format of docs/providers/servicenow.md and nothing more: basic auth (401 with
ServiceNow's error body), `POST /api/now/ui/presence` with `{"users": [sys_id...]}` (GET with
`?users=a,b` too), `{"result": {"serverTimeMillis", "presenceArray": [{"user", "last_on"}]}}`.
Like the instance, it answers for every user it tracks whatever the list names (the vendor's
own client sends none); the list is still validated, to catch the adapter's mistakes.
Quirks the public sources leave possible are switchable (`/_sim/quirks`, or the constructor):
the one-L `serverTimeMilis` spelling, a server that honours the list (`ignore_users: false`),
`last_on` as a numeric string. The Table API view honours `^ORDERBY<field>` and, like a
database without an order, returns rows in a different order on every call without it.
Shares no code with the adapter so each can catch the other's mistakes.

Scripted mode (tests) is driven over HTTP under `/_sim/`: set a user's `last_on`, skew the
instance clock, queue faults (500, 401, 429, slow, malformed) for the next N calls, read the
request log. Demo mode moves users between active, idle and gone on its own.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request

from presence_dash.simulators.control import add_fault_route, add_password_route, basic_auth_is

SYS_ID = re.compile(r"^[0-9a-f]{32}$")
FAULT_KINDS = {"500", "503", "401", "429", "slow", "malformed", "not_json", "html"}
MAX_USERS_PER_CALL = 10_000


@dataclass
class DemoUser:
    state: str  # "active" | "idle" | "gone"
    until: float  # simulator time (s) when the state ends


@dataclass
class ServiceNowSim:
    """The simulated instance's state. Times are epoch milliseconds on the instance clock."""

    username: str = "presence.dash"
    password: str = "secret"
    skew_ms: int = 0
    time_key: str = "serverTimeMillis"
    ignore_users: bool = True  # the instance's behaviour; False answers only for the list
    last_on_as_string: bool = False
    table_page_cap: int = 10_000  # like glide.db.max_view_records: caps rows per page
    last_on: dict[str, int] = field(default_factory=dict)
    faults: deque[dict[str, Any]] = field(default_factory=deque)
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1000))
    demo: dict[str, DemoUser] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.skew_ms

    def add_demo_users(self, sys_ids: list[str]) -> None:
        """Demo mode: users wander between active (working), idle (away from the desk)
        and gone (logged off), with dwell times that keep a wall screen lively."""
        now = time.time()
        for sys_id in sys_ids:
            state = self.rng.choices(["active", "idle", "gone"], [6, 2, 2])[0]
            self.demo[sys_id] = DemoUser(state, now + self.rng.uniform(5, 90))
            if state == "active":
                self.last_on[sys_id] = self.now_ms()
            elif state == "idle":
                self.last_on[sys_id] = self.now_ms() - int(self.rng.uniform(31, 50) * 1000)
            else:
                self.last_on[sys_id] = self.now_ms() - int(self.rng.uniform(300, 3600) * 1000)

    def advance_demo(self) -> None:
        now = time.time()
        for sys_id, user in self.demo.items():
            if now >= user.until:
                user.state = {
                    "active": self.rng.choice(["idle", "idle", "gone"]),
                    "idle": self.rng.choice(["active", "active", "gone"]),
                    "gone": "active",
                }[user.state]
                dwell = {"active": (20, 150), "idle": (15, 70), "gone": (30, 180)}[user.state]
                user.until = now + self.rng.uniform(*dwell)
            if user.state == "active":
                self.last_on[sys_id] = self.now_ms() - self.rng.randint(0, 4000)


def create_app(sim: ServiceNowSim) -> Flask:
    app = Flask(__name__)

    @app.route("/api/now/ui/presence", methods=["GET", "POST"])
    def presence() -> Any:
        if not _authorized(sim):
            return _sn_error(
                401,
                "User Not Authenticated",
                "Required to provide Auth information",
                {"WWW-Authenticate": 'Basic realm="Service-now"'},
            )
        fault = _next_fault(sim)
        sim.requests.append(
            {"method": request.method, "at": time.time(), "fault": fault and fault["kind"]}
        )
        if fault:
            early = _apply_fault(fault)
            if early is not None:
                return early
        users, problem = _requested_users()
        if problem:
            return _sn_error(400, "Invalid request", problem)
        with sim.lock:
            sim.advance_demo()
            server_ms = sim.now_ms()
            wanted = list(sim.last_on) if sim.ignore_users else users
            array = [
                {
                    "user": u,
                    "last_on": str(sim.last_on[u]) if sim.last_on_as_string else sim.last_on[u],
                }
                for u in wanted
                if u in sim.last_on
            ]
        if fault and fault["kind"] == "malformed":
            return jsonify({"result": {sim.time_key: "soon", "presence": array}})
        return jsonify({"result": {sim.time_key: server_ms, "presenceArray": array}})

    @app.get("/api/now/table/sys_user_presence")
    def presence_table() -> Any:
        """The Table API view of the same data: one record per user, Glide date-times in UTC,
        X-Total-Count and a Date header on the instance clock."""
        if not _authorized(sim):
            return _sn_error(
                401,
                "User Not Authenticated",
                "Required to provide Auth information",
                {"WWW-Authenticate": 'Basic realm="Service-now"'},
            )
        fault = _next_fault(sim)
        sim.requests.append(
            {"method": "GET", "path": "table", "at": time.time(), "fault": fault and fault["kind"]}
        )
        if fault and (early := _apply_fault(fault)) is not None:
            return early
        users, order, problem = _table_query(request.args)
        if problem:
            return _sn_error(400, "Invalid query", problem)
        try:
            limit = int(request.args.get("sysparm_limit", "10000"))
            offset = int(request.args.get("sysparm_offset", "0"))
        except ValueError:
            return _sn_error(400, "Invalid parameter", "sysparm_limit/offset must be integers")
        fields = [f for f in request.args.get("sysparm_fields", "").split(",") if f]
        plain_refs = request.args.get("sysparm_exclude_reference_link") == "true"
        with sim.lock:
            sim.advance_demo()
            server_ms = sim.now_ms()
            matching = [u for u in sim.last_on if u in users]
            if order is None:  # no defined order: pages may overlap or miss rows
                sim.rng.shuffle(matching)
            else:
                field_name, descending = order
                key = {
                    "sys_id": _row_sys_id,
                    "user": lambda u: u,
                    "last_on": sim.last_on.__getitem__,
                    "sys_updated_on": sim.last_on.__getitem__,
                }[field_name]
                matching.sort(key=key, reverse=descending)
            page = matching[offset : offset + min(limit, sim.table_page_cap)]
            rows = [_table_row(u, sim.last_on[u], plain_refs, fields) for u in page]
        headers = {"X-Total-Count": str(len(matching)), "Date": _http_date(server_ms)}
        return jsonify({"result": rows}), 200, headers

    @app.post("/_sim/users/<sys_id>")
    def set_user(sys_id: str) -> Any:
        body = request.get_json(silent=True) or {}
        with sim.lock:
            sim.demo.pop(sys_id, None)
            if body.get("last_on") is None and "seconds_ago" not in body:
                sim.last_on.pop(sys_id, None)
            elif "seconds_ago" in body:
                sim.last_on[sys_id] = sim.now_ms() - int(float(body["seconds_ago"]) * 1000)
            else:
                sim.last_on[sys_id] = int(body["last_on"])
            return jsonify(
                {
                    "user": sys_id,
                    "last_on": sim.last_on.get(sys_id),
                    "serverTimeMilis": sim.now_ms(),
                }
            )

    def queue_faults(kind: str, count: int, delay_s: float) -> int:
        # A 429/503 fault answers with this Retry-After.
        retry_after = (request.get_json(silent=True) or {}).get("retry_after", 1)
        fault = {"kind": kind, "delay_s": delay_s, "retry_after": retry_after}
        sim.faults.extend(dict(fault) for _ in range(count))
        return len(sim.faults)

    add_fault_route(app, FAULT_KINDS, queue_faults)

    @app.post("/_sim/clock")
    def set_clock() -> Any:
        sim.skew_ms = int((request.get_json(silent=True) or {}).get("skew_ms", 0))
        return jsonify({"skew_ms": sim.skew_ms, "serverTimeMillis": sim.now_ms()})

    @app.post("/_sim/quirks")
    def set_quirks() -> Any:
        body = request.get_json(silent=True) or {}
        if body.get("time_key", sim.time_key) not in ("serverTimeMillis", "serverTimeMilis"):
            return jsonify({"error": "time_key: serverTimeMillis or serverTimeMilis"}), 400
        sim.time_key = body.get("time_key", sim.time_key)
        sim.ignore_users = bool(body.get("ignore_users", sim.ignore_users))
        sim.last_on_as_string = bool(body.get("last_on_as_string", sim.last_on_as_string))
        sim.table_page_cap = int(body.get("table_page_cap", sim.table_page_cap))
        return jsonify(
            {
                "time_key": sim.time_key,
                "ignore_users": sim.ignore_users,
                "last_on_as_string": sim.last_on_as_string,
            }
        )

    add_password_route(app, sim)

    @app.get("/_sim/requests")
    def request_log() -> Any:
        return jsonify({"requests": list(sim.requests), "pending_faults": len(sim.faults)})

    return app


def _authorized(sim: ServiceNowSim) -> bool:
    return basic_auth_is(sim.username, sim.password)


def _next_fault(sim: ServiceNowSim) -> dict[str, Any] | None:
    try:
        return sim.faults.popleft()
    except IndexError:
        return None


def _apply_fault(fault: dict[str, Any]) -> Any:
    kind = fault["kind"]
    if kind in ("500", "503"):
        return _sn_error(int(kind), "Instance unavailable", "The instance is being upgraded")
    if kind == "401":
        return _sn_error(401, "User Not Authenticated", "Session expired")
    if kind == "429":
        return _sn_error(
            429,
            "Rate limit exceeded",
            "Too many requests",
            {"Retry-After": str(fault["retry_after"])},
        )
    if kind == "slow":
        time.sleep(fault["delay_s"])
    if kind == "not_json":
        return Response('{"result": {"serverTimeMilis": 1', mimetype="application/json")
    if kind == "html":
        return Response("<html><body>Instance hibernating</body></html>", mimetype="text/html")
    return None


def _requested_users() -> tuple[list[str], str | None]:
    """The users the caller asks about: JSON `users` list (POST) or `users=a,b` (GET)."""
    if request.method == "POST":
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("users"), list):
            return [], "POST body must be a JSON object with a 'users' list of sys_ids"
        users = body["users"]
    else:
        users = [u for u in request.args.get("users", "").split(",") if u]
    if len(users) > MAX_USERS_PER_CALL:
        return [], f"at most {MAX_USERS_PER_CALL} users per call"
    bad = [u for u in users if not isinstance(u, str) or not SYS_ID.match(u)]
    if bad:
        return [], f"not a sys_id: {str(bad[0])[:40]!r}"
    return users, None


TableOrder = tuple[str, bool]  # (field, descending)


def _table_query(args: Any) -> tuple[set[str], TableOrder | None, str | None]:
    """The encoded query shapes this simulator understands: `userIN<id>,<id>...`, optionally
    followed by `^ORDERBY<field>` or `^ORDERBYDESC<field>` (users, order, problem)."""
    condition, *clauses = args.get("sysparm_query", "").split("^")
    if not condition.startswith("userIN"):
        return set(), None, f"unsupported sysparm_query {condition[:60]!r} (expected userIN...)"
    order: TableOrder | None = None
    for clause in clauses:
        match = re.fullmatch(r"ORDERBY(DESC)?(sys_id|user|last_on|sys_updated_on)", clause)
        if match is None or order is not None:  # one order (the adapter sends one)
            return set(), None, f"unsupported sysparm_query clause {clause[:60]!r}"
        order = (match[2], match[1] is not None)
    users = {u for u in condition[len("userIN") :].split(",") if u}
    bad = [u for u in users if not SYS_ID.match(u)]
    return (set(), None, f"not a sys_id: {bad[0][:40]!r}") if bad else (users, order, None)


def _row_sys_id(user: str) -> str:
    """The sys_user_presence record's own sys_id: stable per user, unrelated to its order."""
    return hashlib.md5(f"sys_user_presence:{user}".encode(), usedforsecurity=False).hexdigest()


def _glide_time(epoch_ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch_ms / 1000))


def _http_date(epoch_ms: int) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(epoch_ms / 1000))


def _table_row(sys_id: str, last_on: int, plain_refs: bool, fields: list[str]) -> dict[str, Any]:
    user: Any = (
        sys_id if plain_refs else {"link": f"/api/now/table/sys_user/{sys_id}", "value": sys_id}
    )
    row = {
        "sys_id": _row_sys_id(sys_id),
        "user": user,
        "last_on": _glide_time(last_on),
        "sys_updated_on": _glide_time(last_on),
    }
    return {k: v for k, v in row.items() if not fields or k in fields}


def _sn_error(status: int, message: str, detail: str, headers: dict[str, str] | None = None) -> Any:
    body = {"error": {"message": message, "detail": detail}, "status": "failure"}
    return jsonify(body), status, headers or {}
