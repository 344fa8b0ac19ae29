"""Fan-out benchmark: change -> client latency with N people, C clients and R changes/s.

    .venv/bin/python benchmarks/fanout.py [--people 5000] [--clients 1000] [--rate 200]
        [--duration 20] [--modes eventlet,gevent] [--push-interval-ms 100] [--repeat 1]
        [--out results.md|results.json] [--smoke] [--reference] [--storm] [--cluster]

`make bench ARGS="..."` runs the same. For each async mode: starts benchmarks/bench_server.py
(the real app with a synthetic provider that flips R random people per second), opens C
Socket.IO clients with benchmarks/loadgen.mjs (the official socket.io-client on Node; python
clients only when node/npm are missing), starts the changes, waits a warm-up, then measures for
--duration seconds: latency from the board applying a change (PERSON.since) to a client
receiving it, deliveries/s, and the CPU of the server and of the load generator
(psutil cpu_times delta / wall time; 100% = one core). Everything runs on 127.0.0.1 and every
process is stopped at the end, also on errors. See docs/benchmarks.md.

--reference adds the Node socket.io v4 reference server (benchmarks/reference/server.mjs: the
same messages, batching and snapshot size) to the modes, and turns on --storm: after the
measured window every client disconnects and all of them connect again at once, changes still
flowing (time until each has its snapshot, ping-timeout drops). Modes run in alternating order
across repeats (forwards, then backwards). Per mode it also reports server CPU per connecting
client during the ramp and the server's RSS per connected client.

Mode `clusterN` (or `clusterN-gevent`; `--cluster` adds `cluster2`) is a cluster on the
machine's Redis (--redis, a fresh redis_prefix per run): one worker running the synthetic
provider (bench_server.py --role worker) and N web nodes (--role web) on one SQLite file; the
load generator's clients are split across the web nodes, go and the flip count go to the
worker. Server CPU, RSS and CPU/connect are the sums over its processes; the per-process
figures and Redis's CPU are extra columns. Run it beside `eventlet` (one node, role all) to
compare: `--modes eventlet,cluster2`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
SERVER = HERE / "bench_server.py"
LOADGEN_JS = HERE / "loadgen.mjs"
LOADGEN_PY = HERE / "loadgen_py.py"
REFERENCE = HERE / "reference"

COLUMNS = (
    ("mode", "mode", "{}"),
    ("p50 ms", "p50_ms", "{:.0f}"),
    ("p90 ms", "p90_ms", "{:.0f}"),
    ("p99 ms", "p99_ms", "{:.0f}"),
    ("max ms", "max_ms", "{:.0f}"),
    ("changes/s", "changes_per_s", "{:.0f}"),
    ("deliveries/s", "deliveries_per_s", "{:,.0f}"),
    ("expected/s", "expected_deliveries_per_s", "{:,.0f}"),
    ("batches/s/client", "batches_per_s_per_client", "{:.1f}"),
    ("server CPU %", "server_cpu_pct", "{:.0f}"),
    ("loadgen CPU %", "loadgen_cpu_pct", "{:.0f}"),
    ("CPU µs/send", "cpu_us_per_send", "{:.1f}"),
    ("other CPU %", "other_cpu_pct", "{:.0f}"),
    ("loadgen lag p99 ms", "loadgen_loop_delay_p99_ms", "{:.0f}"),
    ("clients", "clients_connected", "{}"),
    ("seq gaps", "seq_gaps", "{}"),
    ("disconnects", "disconnects_during", "{}"),
    ("ramp s", "ramp_seconds", "{:.1f}"),
    ("CPU ms/connect", "cpu_ms_per_connect", "{:.1f}"),
    ("RSS KB/client", "rss_kb_per_client", "{:.0f}"),
    ("storm s", "storm_seconds", "{:.1f}"),
    ("storm snapshots", "storm_snapshots", "{}"),
    ("storm ping timeouts", "storm_ping_timeouts", "{}"),
    ("storm reconnects", "storm_reconnects", "{}"),
    ("storm peak RSS MB", "storm_peak_rss_mb", "{:.0f}"),
    # cluster modes only (hidden when no row has them)
    ("CPU % per process", "cpu_pct_by_process", "{:.0f}"),
    ("RSS MB per process", "rss_mb_by_process", "{:.0f}"),
    ("redis CPU %", "redis_cpu_pct", "{:.0f}"),
    ("seq span", "seq_span", "{}"),
    ("seq missing", "seq_missing", "{}"),
    ("seq mismatches", "seq_mismatches", "{}"),
)
OPTIONAL = {"cpu_pct_by_process", "rss_mb_by_process", "redis_cpu_pct"}
OPTIONAL |= {"seq_span", "seq_missing", "seq_mismatches"}
CLUSTER_MODE = re.compile(r"^cluster(\d+)(?:-(eventlet|gevent))?$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(url: str, method: str = "GET", timeout: float = 5.0) -> dict[str, Any]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"{}")


def loadgen_command(python_fallback: bool) -> tuple[list[str], str]:
    """The load generator to use: node + socket.io-client (installed on first use)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not python_fallback and node and npm:
        if not (HERE / "node_modules" / "socket.io-client").is_dir():
            print("installing socket.io-client (npm install) ...", flush=True)
            subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=HERE,
                check=True,
                timeout=300,
            )
        return [node, str(LOADGEN_JS)], "socket.io-client (node)"
    if not python_fallback:
        print("node/npm not found: falling back to python-socketio clients", flush=True)
    return [sys.executable, str(LOADGEN_PY)], "python-socketio (fallback)"


def npm_install(where: Path, package: str) -> None:
    """`npm install` in `where` the first time (node_modules/ is not in git)."""
    if (where / "node_modules" / package).is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is needed for {package} ({where})")
    print(f"installing {package} (npm install in {where.name}/) ...", flush=True)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=where,
        check=True,
        timeout=300,
    )


def server_command(
    mode: str,
    ns: argparse.Namespace,
    port: int,
    logdir: Path,
    role: str = "all",
    redis_prefix: str = "",
) -> list[str]:
    if mode == "reference":
        npm_install(REFERENCE, "socket.io")
        node = shutil.which("node") or "node"
        return [
            node, str(REFERENCE / "server.mjs"), "--port", str(port), "--people", str(ns.people),
            "--rate", str(ns.rate), "--push-interval-ms", str(ns.push_interval_ms),
        ]  # fmt: skip
    argv = [mode, ns.people, ns.rate, port, ns.push_interval_ms, f"sqlite:///{logdir}/history.db"]
    if role != "all":  # one database for the whole cluster, as in a deployment
        argv += ["--role", role, "--redis", ns.redis, "--redis-prefix", redis_prefix]
    return [sys.executable, str(SERVER), *map(str, argv)]


@dataclass
class ServerProcess:
    """One server process of a mode: the one node, or a cluster's worker or web node."""

    name: str
    proc: subprocess.Popen[Any]
    url: str
    log: Path
    ps: psutil.Process = field(init=False)

    def __post_init__(self) -> None:
        self.ps = psutil.Process(self.proc.pid)


@dataclass
class Deployment:
    """What a mode runs: its server processes, where clients connect, where go/stats are."""

    mode: str
    servers: list[ServerProcess] = field(default_factory=list)
    client_urls: list[str] = field(default_factory=list)
    control: str = ""  # base URL of /_bench/go and /_bench/stats
    redis_prefix: str | None = None
    redis: psutil.Process | None = None

    @property
    def clustered(self) -> bool:
        return self.redis_prefix is not None

    def cpu(self) -> dict[str, float]:
        return {s.name: _cpu_seconds(s.ps) for s in self.servers}

    def rss(self) -> dict[str, float]:
        return {s.name: s.ps.memory_info().rss for s in self.servers}

    def stop(self) -> None:
        for server in self.servers:  # all at once: each may take seconds to stop
            if server.proc.poll() is None:
                server.proc.terminate()
        for server in self.servers:
            _stop(server.proc)

    def tails(self) -> str:
        return "\n".join(f"--- {s.name}:\n{_tail(s.log)}" for s in self.servers)


class PeakRss:
    """Samples the processes' summed RSS every 0.2 s between start() and stop(); `peak` in MB."""

    def __init__(self, procs: list[psutil.Process]) -> None:
        self.procs = procs
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(timeout=2)
        return self.peak

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                rss = sum(p.memory_info().rss for p in self.procs)
                self.peak = max(self.peak, rss / 2**20)
            self._stop.wait(0.2)


def _pump(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def _stop(proc: subprocess.Popen[Any] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _launch(
    deployment: Deployment, name: str, command: list[str], port: int, logdir: Path, ns: Any
) -> ServerProcess:
    log = logdir / f"{name}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=HERE.parent,
            env=os.environ | {"BENCH_WS_COMPRESSION": "1" if ns.ws_compression else "0"},
        )
    server = ServerProcess(name, proc, f"http://127.0.0.1:{port}", log)
    deployment.servers.append(server)  # stopped by the caller, also on errors
    return server


def _wait(server: ServerProcess, ready: Any, what: str, timeout: float = 60) -> None:
    """Poll `ready()` (an HTTP error counts as not yet) until true; fail if the process exits."""
    deadline = time.monotonic() + timeout
    while True:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{_tail(server.log)}")
        with contextlib.suppress(OSError, KeyError, ValueError):
            if ready():
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name}: {what} not after {timeout:.0f} s")
        time.sleep(0.2)


def _serving(server: ServerProcess) -> None:
    _wait(server, lambda: http(f"{server.url}/healthz", timeout=2) is not None, "serving")


def start_deployment(mode: str, ns: argparse.Namespace, logdir: Path, into: Deployment) -> None:
    """Start `mode`'s processes into `into` and wait until clients can connect."""
    shape = CLUSTER_MODE.match(mode)
    if shape is None:
        port = free_port()
        server = _launch(into, "server", server_command(mode, ns, port, logdir), port, logdir, ns)
        _serving(server)
        into.client_urls, into.control = [server.url], server.url
        return
    nodes, async_mode = int(shape.group(1)), shape.group(2) or "eventlet"
    into.redis_prefix = prefix = f"bench-{uuid.uuid4().hex[:10]}"
    into.redis = _redis_process(ns.redis)
    port = free_port()
    command = server_command(async_mode, ns, port, logdir, "worker", prefix)
    worker = _launch(into, "worker", command, port, logdir, ns)
    _serving(worker)
    _wait(worker, lambda: http(f"{worker.url}/readyz")["cluster"]["leading"], "leading")
    # The web nodes after the leader: the schema is created once, the snapshot is in Redis.
    webs = []
    for n in range(1, nodes + 1):
        port = free_port()
        command = server_command(async_mode, ns, port, logdir, "web", prefix)
        webs.append(_launch(into, f"web{n}", command, port, logdir, ns))
    for web in webs:
        _serving(web)
        _wait(web, lambda w=web: _people(w) == ns.people, f"a snapshot of {ns.people} people")
    into.client_urls, into.control = [w.url for w in webs], worker.url


def _people(web: ServerProcess) -> int:
    return len(http(f"{web.url}/api/presence", timeout=10)["people"])


def _redis_process(url: str) -> psutil.Process | None:
    """The Redis server's process when it runs on this machine (its CPU is part of the cost)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        return psutil.Process(int(client.info("server")["process_id"]))
    except (redis.RedisError, psutil.Error, KeyError, ValueError):
        return None
    finally:
        client.close()


def _drop_redis_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    with contextlib.suppress(redis.RedisError):
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    client.close()


def run_mode(mode: str, ns: argparse.Namespace, loadgen: list[str]) -> dict[str, Any]:
    logdir = Path(tempfile.mkdtemp(prefix=f"fanout-{mode}-"))
    loadgen_log = logdir / "loadgen.err"
    deployment = Deployment(mode)
    client = None
    ok = False
    try:
        try:
            start_deployment(mode, ns, logdir, deployment)
        except RuntimeError as exc:
            raise RuntimeError(f"{mode}: {exc}") from None
        control = deployment.control
        cmd = [
            *loadgen,
            "--url", ",".join(deployment.client_urls),
            "--go-url", f"{control}/_bench/go",
            "--clients", str(ns.clients),
            "--duration", str(ns.duration),
            "--warmup", str(ns.warmup),
            "--group", str(ns.group),
        ]  # fmt: skip
        if ns.storm:
            cmd += ["--storm", "1", "--storm-timeout", str(ns.storm_timeout)]
        with loadgen_log.open("w") as err:
            client = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        client_ps = psutil.Process(client.pid)
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(client.stdout, lines), daemon=True).start()

        result: dict[str, Any] | None = None
        mark: dict[str, Any] = {}
        ramp: dict[str, Any] = {}
        window: dict[str, Any] = {}
        peak: PeakRss | None = None
        deadline = time.monotonic() + ns.ramp_timeout + ns.warmup + ns.duration + 60
        deadline += ns.storm_timeout + 10 if ns.storm else 0
        while result is None:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"{mode}: load generator timed out") from None
            if line is None:
                raise RuntimeError(
                    f"{mode}: load generator exited:\n{_tail(loadgen_log)}\n{deployment.tails()}"
                )
            if line == "PHASE ramp_start":
                ramp = {"cpu": deployment.cpu(), "rss": deployment.rss()}
            elif line.startswith("PHASE connected"):
                _, _, connected, ramp_s = line.split()
                clients = max(1, int(connected))
                cpu = sum(deployment.cpu().values()) - sum(ramp["cpu"].values())
                mark["cpu_ms_per_connect"] = 1000 * cpu / clients
                rss = sum(deployment.rss().values())
                mark["rss_kb_per_client"] = (rss - sum(ramp["rss"].values())) / 1024 / clients
                mark["rss_connected_mb"] = rss / 2**20
                print(
                    f"  {mode}: {connected} clients connected in {ramp_s} s, "
                    f"{mark['cpu_ms_per_connect']:.1f} ms server CPU per connect, "
                    f"{mark['rss_kb_per_client']:.0f} KB RSS per client",
                    flush=True,
                )
            elif line == "PHASE storm_start":
                peak = PeakRss([s.ps for s in deployment.servers])
                peak.start()
                mark["storm_cpu"] = sum(deployment.cpu().values())
            elif line == "PHASE storm_end" and peak is not None:
                mark["storm_peak_rss_mb"] = peak.stop()
                storm_cpu = sum(deployment.cpu().values()) - mark.pop("storm_cpu")
                mark["storm_server_cpu_s"] = storm_cpu
            elif line == "PHASE measure_start":
                psutil.cpu_percent()  # starts the machine-wide window
                window = {
                    "wall": time.monotonic(),
                    "servers": deployment.cpu(),
                    "client": _cpu_seconds(client_ps),
                    "redis": _redis_cpu(deployment),
                    "flips": http(f"{control}/_bench/stats")["flips"],
                }
            elif line == "PHASE measure_end":
                mark.update(_window_figures(deployment, window, client_ps))
            elif line.startswith("RESULT "):
                result = json.loads(line.removeprefix("RESULT "))
        client.wait(timeout=30)
        result.update(mark)
        result.pop("flips", None)
        result["mode"] = mode
        # whatever else ran on the machine meanwhile (noise; 200% = two busy cores)
        busy = result["server_cpu_pct"] + result["loadgen_cpu_pct"]
        busy += result.get("redis_cpu_pct") or 0
        result["other_cpu_pct"] = max(0.0, result["machine_cpu_pct"] - busy)
        result["expected_deliveries_per_s"] = result["changes_per_s"] * result["clients_connected"]
        # server CPU per batch sent to one client (a socket send): what fan-out costs
        sends = result["batches_per_s_per_client"] * result["clients_connected"]
        result["cpu_us_per_send"] = 1e4 * result["server_cpu_pct"] / sends if sends else None
        if not deployment.clustered:
            for key in ("seq_span", "seq_missing", "seq_mismatches"):
                result.pop(key, None)  # one server: the gaps column says it all
        ok = True
        return result
    finally:
        _stop(client)
        deployment.stop()
        if deployment.redis_prefix:
            _drop_redis_keys(ns.redis, deployment.redis_prefix)
        if ok:  # the logs are kept when a run fails
            shutil.rmtree(logdir, ignore_errors=True)


def _redis_cpu(deployment: Deployment) -> float | None:
    if deployment.redis is None:
        return None
    with contextlib.suppress(psutil.Error):
        return _cpu_seconds(deployment.redis)
    return None


def _window_figures(
    deployment: Deployment, window: dict[str, Any], client_ps: psutil.Process
) -> dict[str, Any]:
    """CPU (per process and summed), RSS and changes/s over the measured window."""
    wall = time.monotonic() - window["wall"]
    machine = psutil.cpu_percent() * psutil.cpu_count()
    flips = http(f"{deployment.control}/_bench/stats")["flips"] - window["flips"]
    cpu = {
        name: 100 * (seconds - window["servers"][name]) / wall
        for name, seconds in deployment.cpu().items()
    }
    rss = {name: value / 2**20 for name, value in deployment.rss().items()}
    figures: dict[str, Any] = {
        "server_cpu_pct": sum(cpu.values()),
        "loadgen_cpu_pct": 100 * (_cpu_seconds(client_ps) - window["client"]) / wall,
        "machine_cpu_pct": machine,
        "changes_per_s": flips / wall,
        "server_rss_mb": sum(rss.values()),
    }
    if deployment.clustered:
        figures |= {"cpu_pct_by_process": cpu, "rss_mb_by_process": rss}
        redis_now = _redis_cpu(deployment)
        if redis_now is not None and window["redis"] is not None:
            figures["redis_cpu_pct"] = 100 * (redis_now - window["redis"]) / wall
    return figures


def _cell(value: Any, spec: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):  # per process: "worker 12 / web1 40 / web2 41"
        return " / ".join(f"{name} {_cell(v, spec)}" for name, v in value.items())
    return spec.format(value)


def _columns(results: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Every column, less the optional ones no row has."""
    return [
        column
        for column in COLUMNS
        if column[1] not in OPTIONAL or any(r.get(column[1]) is not None for r in results)
    ]


def fmt_row(result: dict[str, Any], columns: list[tuple[str, str, str]] | None = None) -> list[str]:
    return [_cell(result.get(key), spec) for _, key, spec in columns or COLUMNS]


def table(results: list[dict[str, Any]]) -> str:
    columns = _columns(results)
    head = [name for name, _, _ in columns]
    rows = [fmt_row(r, columns) for r in results]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def medians(runs: list[dict[str, Any]], modes: list[str]) -> list[dict[str, Any]]:
    summary = []
    for mode in modes:
        mine = [r for r in runs if r["mode"] == mode]
        if not mine:
            continue
        merged: dict[str, Any] = {"mode": mode}
        for _, key, _ in COLUMNS[1:]:
            values = [r[key] for r in mine if isinstance(r.get(key), int | float)]
            merged[key] = statistics.median(values) if values else None
            per = [r[key] for r in mine if isinstance(r.get(key), dict)]
            if per:  # per process: the median of each process's figure
                merged[key] = {name: statistics.median(d[name] for d in per) for name in per[0]}
        summary.append(merged)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200, help="presence changes per second")
    parser.add_argument("--duration", type=float, default=20, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3, help="seconds after go, unmeasured")
    parser.add_argument("--modes", default="eventlet,gevent")
    parser.add_argument("--push-interval-ms", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1, help="runs per mode (medians shown)")
    parser.add_argument("--group", type=int, default=50, help="clients connecting at once")
    parser.add_argument("--ramp-timeout", type=float, default=600)
    parser.add_argument(
        "--ws-compression",
        action="store_true",
        help="let clients negotiate permessage-deflate (the app refuses it; for comparison)",
    )
    parser.add_argument("--python-clients", action="store_true", help="skip node")
    parser.add_argument(
        "--reference", action="store_true", help="add the Node socket.io reference (and --storm)"
    )
    parser.add_argument("--storm", action="store_true", help="add a reconnect-storm phase")
    parser.add_argument("--storm-timeout", type=float, default=180)
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="add mode cluster2: one worker and two web nodes on Redis (modes clusterN[-gevent])",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="for cluster modes")
    parser.add_argument("--out", help="also write the results (.json, else markdown)")
    parser.add_argument("--smoke", action="store_true", help="tiny run that takes seconds")
    ns = parser.parse_args(argv)
    if ns.smoke:
        ns.people, ns.clients, ns.rate, ns.duration, ns.warmup = 200, 20, 50, 3, 1
    modes = [m.strip() for m in ns.modes.split(",") if m.strip()]
    if ns.reference:
        ns.storm = True
        modes += [] if "reference" in modes else ["reference"]
    if ns.cluster and not any(CLUSTER_MODE.match(m) for m in modes):
        modes.append("cluster2")
    unknown = [m for m in modes if m not in ("eventlet", "gevent", "reference")]
    unknown = [m for m in unknown if not CLUSTER_MODE.match(m)]
    if unknown:
        parser.error(f"unknown mode(s) {', '.join(unknown)}: eventlet, gevent, reference, clusterN")
    loadgen, loadgen_name = loadgen_command(ns.python_clients)
    print(
        f"fan-out: {ns.people} people, {ns.clients} clients, {ns.rate:g} changes/s, "
        f"push interval {ns.push_interval_ms} ms, {ns.duration:g} s measured; "
        f"websocket compression {'on' if ns.ws_compression else 'off'}; "
        f"load: {loadgen_name}; {os.cpu_count()} CPUs",
        flush=True,
    )
    runs: list[dict[str, Any]] = []
    for run in range(ns.repeat):
        # alternating order, so that no mode always runs first (a cold machine) or last
        for mode in modes if run % 2 == 0 else modes[::-1]:
            print(f"run {run + 1}/{ns.repeat}: {mode} ...", flush=True)
            runs.append(run_mode(mode, ns, loadgen) | {"run": run + 1})
            print(table([runs[-1]]), flush=True)
    summary = medians(runs, modes)
    print()
    print(table(runs) if ns.repeat == 1 else "all runs:\n" + table(runs))
    if ns.repeat > 1:
        print("\nmedians:\n" + table(summary))
    if ns.out:
        config = {k: getattr(ns, k) for k in ("people", "clients", "rate", "duration", "warmup")}
        config |= {"push_interval_ms": ns.push_interval_ms, "loadgen": loadgen_name}
        config |= {"ws_compression": ns.ws_compression, "storm": ns.storm}
        path = Path(ns.out)
        if path.suffix == ".json":
            body = {"config": config, "runs": runs, "medians": summary}
            path.write_text(json.dumps(body, indent=2) + "\n")
        else:
            path.write_text(
                f"config: `{json.dumps(config)}`\n\nall runs:\n\n{table(runs)}\n\n"
                f"medians:\n\n{table(summary)}\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
