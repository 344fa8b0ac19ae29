"""Test helpers: waiting with a deadline, free ports, the ServiceNow simulator handle, config
files, the real dashboard as a subprocess, and a Socket.IO client that records events."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests

from presence_dash.simulators import cisco_pws as cisco
from presence_dash.simulators import salesforce as sf
from presence_dash.simulators import servicenow as sn
from presence_dash.simulators.serve import SimulatorServer

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_PY = REPO_ROOT / "app.py"
SN_USERNAME = "presence.dash"
SN_PASSWORD = "pw"
SN_PASSWORD_ENV = "SN_PASSWORD"

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.02, what: str = ""
) -> T:
    """Poll `predicate` until it returns something truthy (returned) or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)  # a poll interval, not a synchronisation


# Ports for processes a test starts later (the dashboard), below the kernel's ephemeral range
# (32768+) that every `bind(port 0)` draws from: a simulator or client socket can then never take
# a port between our check and the server's bind. Every pytest process on the machine (each
# xdist worker, and every plain run: several engineers or checkouts at once) claims its own
# block by holding an flock on the block's file in the temp directory for as long as it runs;
# the kernel drops the lock when the process ends, even on a crash, so no claim goes stale.
# Two runs then never hand out the same port, which a fixed start (every run counting up from
# 20000) did: one run's dashboard failed with "address in use" or a test reached the other's.
_PORT_BASE = 20000
_PORT_LIMIT = 32768
_PORT_BLOCK = 500


@dataclass
class _PortBlock:
    start: int
    lock_fd: int  # kept open: closing it would release the claim
    offsets: itertools.count[int] = field(default_factory=itertools.count)


def _claim_block(index: int) -> _PortBlock | None:
    path = (
        Path(tempfile.gettempdir())
        / f"presence-dash-test-ports-{_PORT_BASE + index * _PORT_BLOCK}.lock"
    )
    try:
        # Read-only is enough for flock, so another user's lock file is still usable.
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return _PortBlock(_PORT_BASE + index * _PORT_BLOCK, fd)


@functools.cache
def _port_block() -> _PortBlock:
    """This process's block: the first one no other process holds, so a lone run always
    gets 20000-20499 and the ports it hands out are the same from run to run."""
    for index in range((_PORT_LIMIT - _PORT_BASE) // _PORT_BLOCK):
        block = _claim_block(index)
        if block is not None:
            return block
    raise RuntimeError(
        f"every test port block in {_PORT_BASE}..{_PORT_LIMIT - 1} is held by another process"
    )


def free_port() -> int:
    """A loopback port no other pytest process will hand out, free when returned."""
    block = _port_block()
    for _ in range(_PORT_BLOCK):
        port = block.start + next(block.offsets) % _PORT_BLOCK
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # still in use (e.g. TIME_WAIT from an earlier test)
            return port
    raise RuntimeError(f"no free port in {block.start}..{block.start + _PORT_BLOCK - 1}")


def sys_id(name: str) -> str:
    """A stable, valid ServiceNow sys_id (32 lowercase hex) for a test person."""
    return hashlib.md5(f"test:{name}".encode(), usedforsecurity=False).hexdigest()


def person(pid: str, team: str = "Service Desk") -> dict[str, str]:
    return {"id": pid, "name": pid.title(), "team": team, "servicenow": sys_id(pid)}


# -- the ServiceNow simulator ---------------------------------------------------------------


class SimControl:
    """What every simulator handle does through its simulator's `/_sim/` control API;
    subclasses provide `url` and `http`."""

    url: str
    http: requests.Session

    def _post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post(self.url + path, json=body or {}, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def _get(self, path: str, timeout: float = 5) -> dict[str, Any]:
        response = self.http.get(self.url + path, timeout=timeout)
        assert response.status_code == 200, response.text
        return response.json()

    def fault(self, kind: str, count: int = 1, **options: Any) -> int:
        """The next `count` vendor calls fail with `kind`; returns how many are queued."""
        return self._post("/_sim/faults", {"kind": kind, "count": count, **options})["queued"]


@dataclass
class SnSimHandle(SimControl):
    """A running ServiceNowSim; the helpers go through its HTTP control API (`/_sim/`)."""

    sim: sn.ServiceNowSim
    server: SimulatorServer
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return self.server.url

    def set_user(
        self, sys_id: str, seconds_ago: float | None = None, last_on: int | None = None
    ) -> dict[str, Any]:
        """Set a user's last activity (`seconds_ago` on the instance clock, or an absolute
        `last_on`); neither removes the user's presence record."""
        body: dict[str, Any] = {}
        if seconds_ago is not None:
            body["seconds_ago"] = seconds_ago
        elif last_on is not None:
            body["last_on"] = last_on
        return self._post(f"/_sim/users/{sys_id}", body)

    def clock(self, skew_ms: int) -> dict[str, Any]:
        return self._post("/_sim/clock", {"skew_ms": skew_ms})

    def set_password(self, password: str) -> None:
        self._post("/_sim/password", {"password": password})

    def request_log(self) -> dict[str, Any]:
        return self._get("/_sim/requests")

    def presence(self, users: list[str], auth: tuple[str, str] | None = None) -> requests.Response:
        return self.http.post(
            self.url + "/api/now/ui/presence",
            json={"users": users},
            auth=auth or (SN_USERNAME, SN_PASSWORD),
            timeout=5,
        )


def start_sn_sim(sim: sn.ServiceNowSim | None = None) -> SnSimHandle:
    sim = sim or sn.ServiceNowSim(username=SN_USERNAME, password=SN_PASSWORD)
    return SnSimHandle(sim, SimulatorServer(sn.create_app(sim)).start())


# -- config files ---------------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):  # e.g. glance's group_ids
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):  # an inline table, e.g. a provider's state_map
        items = (f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def make_config(
    tmp_path: Path,
    people: list[dict[str, str]],
    sn_url: str | None,
    poll_seconds: float = 0.2,
    providers: dict[str, dict[str, Any]] | None = None,
    teams: list[dict[str, Any]] | None = None,
    **server: Any,
) -> Path:
    """Write a config TOML for `people` against the simulator at `sn_url` (None: no
    ServiceNow section); `providers` adds sections such as `{"cisco": {...}}` as
    `[providers.<name>]`; `teams` adds `[[teams]]` thresholds; `server` keys override the
    fast test defaults (push_interval_ms 50, history in tmp_path)."""
    server = {
        "push_interval_ms": 50,
        "database": f"sqlite:///{tmp_path / 'history.db'}",
        **server,
    }
    lines = ["[server]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in server.items()]
    for p in people:
        lines.append("\n[[people]]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in p.items()]
    if sn_url is not None:
        lines += [
            "\n[providers.servicenow]",
            f"base_url = {_toml_value(sn_url)}",
            f"username = {_toml_value(SN_USERNAME)}",
            f"password_env = {_toml_value(SN_PASSWORD_ENV)}",
            f"poll_seconds = {poll_seconds!r}",
            "timeout_seconds = 2",
        ]
    for team in teams or []:
        lines.append("\n[[teams]]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in team.items()]
    for name, section in (providers or {}).items():
        lines.append(f"\n[providers.{name}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in section.items()]
    path = tmp_path / "presence-dash.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- the real dashboard, as a subprocess ----------------------------------------------------


@dataclass
class DashServer:
    url: str
    proc: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    def output(self) -> str:
        return (
            self.stdout_path.read_text(errors="replace")
            + self.stderr_path.read_text(errors="replace")[-4000:]
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 5)
        return requests.get(self.url + path, **kwargs)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def start_process(
    args: list[str], cwd: Path, logs: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], Path, Path]:
    """Start `python <args>` with output in files (a full pipe would block the server)."""
    logs.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = logs / "stdout.txt", logs / "stderr.txt"
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    full_env.pop("PRESENCE_DASH_CONFIG", None)
    full_env.pop("PORT", None)
    full_env.update(env or {})
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, *args], cwd=cwd, env=full_env, stdout=out, stderr=err
        )
    return proc, stdout_path, stderr_path


def wait_until_serving(server: DashServer, timeout: float = 20.0) -> None:
    """Wait for `GET /healthz`; fail with the process's output if it exits first."""

    def healthy() -> bool:
        if server.proc.poll() is not None:
            raise AssertionError(
                f"dashboard exited with {server.proc.returncode}:\n{server.output()}"
            )
        try:
            return server.get("/healthz", timeout=1).status_code == 200
        except (requests.ConnectionError, requests.Timeout):  # not up, or still starting
            return False

    try:
        wait_for(healthy, timeout, interval=0.05, what="GET /healthz")
    except AssertionError as exc:
        server.stop()
        raise AssertionError(f"{exc}\n{server.output()}") from None


# -- a Socket.IO client that records what it receives ---------------------------------------


class EventRecorder:
    """Records every event of a python-socketio client; tests wait on a Condition."""

    EVENTS = ("snapshot", "presence", "providers", "error")

    def __init__(self, client: Any) -> None:
        self.client = client
        self.events: list[tuple[str, Any]] = []
        self.people: dict[str, dict[str, Any]] = {}  # the client's view, like a browser's
        self.seq = 0  # the highest seq seen
        self._cond = threading.Condition()
        for name in self.EVENTS:
            client.on(name, self._handler(name))

    def _handler(self, name: str) -> Callable[..., None]:
        def handle(data: Any = None) -> None:
            with self._cond:
                if name == "snapshot":
                    self.people = {p["id"]: p for p in data["people"]}
                    self.seq = max(self.seq, data["seq"])
                elif name == "presence":
                    self.people.update({p["id"]: p for p in data["changes"]})
                    self.seq = max(self.seq, data["seq"])
                self.events.append((name, data))
                self._cond.notify_all()

        return handle

    def mark(self) -> int:
        """Where the log ends now; pass it to `wait` to see only later events."""
        with self._cond:
            return len(self.events)

    def wait(
        self,
        name: str,
        predicate: Callable[[Any], bool] = lambda data: True,
        timeout: float = 10.0,
        after: int = 0,
    ) -> Any:
        """The first `name` event from index `after` on whose data satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event, data in self.events[after:]:
                    if event == name and predicate(data):
                        return data
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [e for e, _ in self.events[after:]]
                    raise AssertionError(f"no matching {name!r} within {timeout} s; saw {seen}")
                self._cond.wait(remaining)

    def status(self, person_id: str) -> str | None:
        with self._cond:
            view = self.people.get(person_id)
            return view["status"] if view else None


# -- the Cisco IM&P PWS simulator -----------------------------------------------------------

CISCO_APP_USER = "presence.app"
CISCO_APP_PASSWORD = "pw"
CISCO_APP_PASSWORD_ENV = "CISCO_APP_PASSWORD"
CISCO_END_USER = "presence.dash@example.com"


@dataclass
class CiscoSimHandle(SimControl):
    """A running CiscoPwsSim; the helpers go through its HTTP control API (`/_sim/`)."""

    sim: cisco.CiscoPwsSim
    server: SimulatorServer
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def base(self) -> str:
        """The PWS base URL, as a config would name it."""
        return self.server.url + "/presence-service"

    def set_contact(
        self, uri: str, status: str, activities: list[str] | None = None
    ) -> dict[str, Any]:
        """Set a contact's presence (UNKNOWN forgets it); notifies its subscriptions."""
        return self._post(f"/_sim/contacts/{uri}", {"status": status, "activities": activities})

    def cpu(self, percent: float) -> dict[str, Any]:
        return self._post("/_sim/cpu", {"percent": percent})

    def restart(self) -> dict[str, Any]:
        return self._post("/_sim/restart")

    def expire_sessions(self) -> dict[str, Any]:
        return self._post("/_sim/expire-sessions")

    def advance(self, seconds: float) -> dict[str, Any]:
        return self._post("/_sim/advance", {"seconds": seconds})

    def state(self) -> dict[str, Any]:
        return self._get("/_sim/state")

    def notifications(self) -> list[dict[str, Any]]:
        return self._get("/_sim/notifications")["sent"]

    def close(self) -> None:
        self.server.shutdown()
        self.sim.close()
        self.http.close()


def start_cisco_sim(sim: cisco.CiscoPwsSim | None = None) -> CiscoSimHandle:
    sim = sim or cisco.CiscoPwsSim(
        app_user=CISCO_APP_USER, app_password=CISCO_APP_PASSWORD, end_users={CISCO_END_USER}
    )
    return CiscoSimHandle(sim, SimulatorServer(cisco.create_app(sim)).start())


def cisco_section(sim: CiscoSimHandle, callback_port: int, **overrides: Any) -> dict[str, Any]:
    """A `[providers.cisco]` section for `make_config(providers={"cisco": ...})` against
    `sim`, with the callback on a dashboard listening on `callback_port`."""
    return {
        "base_url": sim.url,
        "app_user": CISCO_APP_USER,
        "app_password_env": CISCO_APP_PASSWORD_ENV,
        "end_user": CISCO_END_USER,
        "callback_url": f"http://127.0.0.1:{callback_port}/hooks/cisco/pws",
        "timeout_seconds": 3,
        **overrides,
    }


# -- the Salesforce simulator ---------------------------------------------------------------

SF_CLIENT_ID = "3MVG9test.presence"
SF_CLIENT_SECRET = "sf-secret"
SF_CLIENT_SECRET_ENV = "SF_CLIENT_SECRET"
SF_PRIVATE_KEY_ENV = "SF_PRIVATE_KEY"
SF_WEBHOOK_SECRET = "hook-secret"
SF_WEBHOOK_SECRET_ENV = "SF_WEBHOOK_SECRET"
SF_API_USER = "presence.dash@example.com"


def sim_secrets_env() -> dict[str, str]:
    """The simulators' credentials as the dashboard reads them, for a dashboard subprocess."""
    return {
        SN_PASSWORD_ENV: SN_PASSWORD,
        CISCO_APP_PASSWORD_ENV: CISCO_APP_PASSWORD,
        SF_CLIENT_SECRET_ENV: SF_CLIENT_SECRET,
        SF_WEBHOOK_SECRET_ENV: SF_WEBHOOK_SECRET,
    }


_RSA_KEYS: list[tuple[str, str]] = []


def rsa_key_pair() -> tuple[str, str]:
    """(private PEM, public PEM) for the JWT bearer flow; made once per test run."""
    if not _RSA_KEYS:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        public = key.public_key().public_bytes(serialization.Encoding.PEM, spki).decode()
        _RSA_KEYS.append((private, public))
    return _RSA_KEYS[0]


@dataclass
class SfSimHandle(SimControl):
    """A running SalesforceSim; the helpers go through its HTTP control API (`/_sim/`)."""

    sim: sf.SalesforceSim
    server: SimulatorServer
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return self.server.url

    def add_user(self, user_id: str | None = None, name: str = "") -> str:
        return self._post("/_sim/users", {"id": user_id, "name": name})["id"]

    def login(self, user_id: str, **options: Any) -> dict[str, Any]:
        """A UI login (options: seconds_valid, last_modified ISO, session_type, login_type,
        notify=False to skip the webhook call)."""
        return self._post(f"/_sim/users/{user_id}/login", options)

    def logout(self, user_id: str, notify: bool = True) -> dict[str, Any]:
        return self._post(f"/_sim/users/{user_id}/logout", {"notify": notify})

    def clock(self, offset_s: float = 0.0, at: str | None = None) -> dict[str, Any]:
        return self._post("/_sim/clock", {"offset_s": offset_s, "at": at})

    def expire_tokens(self) -> int:
        return self._post("/_sim/expire-tokens")["expired"]

    def settings(self, **values: Any) -> dict[str, Any]:
        return self._post("/_sim/settings", values)

    def state(self) -> dict[str, Any]:
        return self._get("/_sim/state")

    def requests(self, path_part: str = "") -> list[dict[str, Any]]:
        """The logged API and token calls whose path contains `path_part`."""
        return [r for r in self._get("/_sim/requests")["requests"] if path_part in r["path"]]

    def webhooks(self) -> list[dict[str, Any]]:
        return self._get("/_sim/webhooks", timeout=10)["sent"]

    def close(self) -> None:
        self.server.shutdown()
        self.sim.close()
        self.http.close()


def start_salesforce_sim(sim: sf.SalesforceSim | None = None) -> SfSimHandle:
    sim = sim or sf.SalesforceSim(
        client_id=SF_CLIENT_ID,
        client_secret=SF_CLIENT_SECRET,
        api_user=SF_API_USER,
        jwt_public_key=rsa_key_pair()[1],
    )
    return SfSimHandle(sim, SimulatorServer(sf.create_app(sim)).start())


def salesforce_section(sim: SfSimHandle, **overrides: Any) -> dict[str, Any]:
    """A `[providers.salesforce]` section (client credentials) for
    `make_config(providers={"salesforce": ...})` against `sim`."""
    return {
        "base_url": sim.url,
        "client_id": SF_CLIENT_ID,
        "client_secret_env": SF_CLIENT_SECRET_ENV,
        "webhook_secret_env": SF_WEBHOOK_SECRET_ENV,
        "timeout_seconds": 3,
        **overrides,
    }
