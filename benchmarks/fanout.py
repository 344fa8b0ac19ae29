"""Fan-out benchmark: change -> client latency with N people, C clients and R changes/s.

    .venv/bin/python benchmarks/fanout.py [--people 5000] [--clients 1000] [--rate 200]
        [--duration 20] [--modes eventlet,gevent] [--push-interval-ms 100] [--repeat 1]
        [--out results.md|results.json] [--smoke]

`make bench ARGS="..."` runs the same. For each async mode: starts benchmarks/bench_server.py
(the real app with a synthetic provider that flips R random people per second), opens C
Socket.IO clients with benchmarks/loadgen.mjs (the official socket.io-client on Node; python
clients only when node/npm are missing), starts the changes, waits a warm-up, then measures for
--duration seconds: latency from the board applying a change (PERSON.since) to a client
receiving it, deliveries/s, and the CPU of the server and of the load generator
(psutil cpu_times delta / wall time; 100% = one core). Everything runs on 127.0.0.1 and every
process is stopped at the end, also on errors. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
SERVER = HERE / "bench_server.py"
LOADGEN_JS = HERE / "loadgen.mjs"
LOADGEN_PY = HERE / "loadgen_py.py"

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
    ("other CPU %", "other_cpu_pct", "{:.0f}"),
    ("loadgen lag p99 ms", "loadgen_loop_delay_p99_ms", "{:.0f}"),
    ("clients", "clients_connected", "{}"),
    ("seq gaps", "seq_gaps", "{}"),
    ("disconnects", "disconnects_during", "{}"),
)


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


def run_mode(mode: str, ns: argparse.Namespace, loadgen: list[str]) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logdir = Path(tempfile.mkdtemp(prefix=f"fanout-{mode}-"))
    server_log, loadgen_log = logdir / "server.log", logdir / "loadgen.err"
    server = client = None
    ok = False
    try:
        with server_log.open("w") as out:
            argv = [mode, ns.people, ns.rate, port, ns.push_interval_ms]
            argv.append(f"sqlite:///{logdir}/history.db")
            server = subprocess.Popen(
                [sys.executable, str(SERVER), *map(str, argv)],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=HERE.parent,
                env=os.environ | {"BENCH_WS_COMPRESSION": "1" if ns.ws_compression else "0"},
            )
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"{mode} server exited:\n{_tail(server_log)}")
            with contextlib.suppress(OSError):
                http(f"{base}/healthz", timeout=2)
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{mode} server not ready after 60 s:\n{_tail(server_log)}")
            time.sleep(0.2)
        server_ps = psutil.Process(server.pid)

        cmd = [
            *loadgen,
            "--url", base,
            "--go-url", f"{base}/_bench/go",
            "--clients", str(ns.clients),
            "--duration", str(ns.duration),
            "--warmup", str(ns.warmup),
            "--group", str(ns.group),
        ]  # fmt: skip
        with loadgen_log.open("w") as err:
            client = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        client_ps = psutil.Process(client.pid)
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(client.stdout, lines), daemon=True).start()

        result: dict[str, Any] | None = None
        mark: dict[str, Any] = {}
        deadline = time.monotonic() + ns.ramp_timeout + ns.warmup + ns.duration + 60
        while result is None:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"{mode}: load generator timed out") from None
            if line is None:
                raise RuntimeError(f"{mode}: load generator exited:\n{_tail(loadgen_log)}")
            if line.startswith("PHASE connected"):
                _, _, connected, ramp = line.split()
                print(f"  {mode}: {connected} clients connected in {ramp} s", flush=True)
            elif line == "PHASE measure_start":
                psutil.cpu_percent()  # starts the machine-wide window
                mark = {
                    "wall": time.monotonic(),
                    "server": _cpu_seconds(server_ps),
                    "client": _cpu_seconds(client_ps),
                    "flips": http(f"{base}/_bench/stats")["flips"],
                }
            elif line == "PHASE measure_end":
                wall = time.monotonic() - mark["wall"]
                machine = psutil.cpu_percent() * psutil.cpu_count()
                flips = http(f"{base}/_bench/stats")["flips"] - mark["flips"]
                mark.update(
                    server_cpu_pct=100 * (_cpu_seconds(server_ps) - mark["server"]) / wall,
                    loadgen_cpu_pct=100 * (_cpu_seconds(client_ps) - mark["client"]) / wall,
                    machine_cpu_pct=machine,
                    changes_per_s=flips / wall,
                    server_rss_mb=server_ps.memory_info().rss / 2**20,
                )
            elif line.startswith("RESULT "):
                result = json.loads(line.removeprefix("RESULT "))
        client.wait(timeout=30)
        result.update({k: v for k, v in mark.items() if k not in ("wall", "server", "client")})
        result.pop("flips", None)
        result["mode"] = mode
        # whatever else ran on the machine meanwhile (noise; 200% = two busy cores)
        busy = result["server_cpu_pct"] + result["loadgen_cpu_pct"]
        result["other_cpu_pct"] = max(0.0, result["machine_cpu_pct"] - busy)
        result["expected_deliveries_per_s"] = result["changes_per_s"] * result["clients_connected"]
        ok = True
        return result
    finally:
        _stop(client)
        _stop(server)
        if ok:  # the logs are kept when a run fails
            shutil.rmtree(logdir, ignore_errors=True)


def fmt_row(result: dict[str, Any]) -> list[str]:
    cells = []
    for _, key, spec in COLUMNS:
        value = result.get(key)
        cells.append("-" if value is None else spec.format(value))
    return cells


def table(results: list[dict[str, Any]]) -> str:
    head = [name for name, _, _ in COLUMNS]
    rows = [fmt_row(r) for r in results]
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
    parser.add_argument("--out", help="also write the results (.json, else markdown)")
    parser.add_argument("--smoke", action="store_true", help="tiny run that takes seconds")
    ns = parser.parse_args(argv)
    if ns.smoke:
        ns.people, ns.clients, ns.rate, ns.duration, ns.warmup = 200, 20, 50, 3, 1
    modes = [m.strip() for m in ns.modes.split(",") if m.strip()]
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
        for mode in modes:
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
        config |= {"ws_compression": ns.ws_compression}
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
