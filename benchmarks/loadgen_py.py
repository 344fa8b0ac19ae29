"""Fallback load generator (python-socketio clients) for machines without node/npm.

Same arguments and output protocol as loadgen.mjs ("PHASE ..." lines, then "RESULT {json}").
Each client is a python-socketio `Client` with its own threads, so this process saturates
long before the server does: use it for smoke runs, not for the recorded numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import threading
import time
import urllib.request
from datetime import datetime

import socketio


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--go-url", default="")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--group", type=int, default=50)
    ns = parser.parse_args()

    lock = threading.Lock()
    latencies: list[int] = []
    stats = {"batches": 0, "gaps": 0, "disconnects": 0, "errors": 0, "negative": 0}
    measuring = threading.Event()
    since_cache: dict[str, float] = {}

    def parse_ms(text: str) -> float:
        value = since_cache.get(text)
        if value is None:
            value = datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000
            since_cache[text] = value
        return value

    def connect_one() -> socketio.Client | None:
        client = socketio.Client(reconnection=False)
        state: dict[str, int | None] = {"seq": None}
        ready = threading.Event()

        @client.on("snapshot")
        def on_snapshot(snap: dict) -> None:
            state["seq"] = snap["seq"]
            ready.set()

        @client.on("presence")
        def on_presence(batch: dict) -> None:
            now = time.time() * 1000
            with lock:
                if state["seq"] is not None and batch["seq"] != state["seq"] + 1:
                    stats["gaps"] += measuring.is_set()
                state["seq"] = batch["seq"]
                if not measuring.is_set():
                    return
                stats["batches"] += 1
                for change in batch["changes"]:
                    latency = now - parse_ms(change["since"])
                    stats["negative"] += latency < 0
                    latencies.append(max(0, math.floor(latency)))

        @client.on("disconnect")
        def on_disconnect(*_: object) -> None:
            stats["disconnects"] += 1

        try:
            client.connect(ns.url, transports=["websocket"], wait_timeout=30)
        except socketio.exceptions.ConnectionError:
            stats["errors"] += 1
            return None
        return client if ready.wait(60) else None

    started = time.monotonic()
    clients = [c for _ in range(ns.clients) if (c := connect_one()) is not None]
    ramp = time.monotonic() - started
    print(f"PHASE connected {len(clients)} {ramp:.1f}", flush=True)
    if ns.go_url:
        urllib.request.urlopen(urllib.request.Request(ns.go_url, data=b"", method="POST"))
    time.sleep(ns.warmup)
    disconnects_before = stats["disconnects"]
    measuring.set()
    t0 = time.monotonic()
    print("PHASE measure_start", flush=True)
    time.sleep(ns.duration)
    measuring.clear()
    seconds = time.monotonic() - t0
    print("PHASE measure_end", flush=True)
    with lock:
        values = sorted(latencies)

    def pct(p: float) -> int | None:
        return values[max(0, math.ceil(p / 100 * len(values)) - 1)] if values else None

    result = {
        "clients_requested": ns.clients,
        "clients_connected": len(clients),
        "ramp_seconds": ramp,
        "seconds": seconds,
        "count": len(values),
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": values[-1] if values else None,
        "mean_ms": sum(values) / len(values) if values else None,
        "deliveries_per_s": len(values) / seconds,
        "batches_per_s_per_client": stats["batches"] / seconds / max(1, len(clients)),
        "seq_gaps": stats["gaps"],
        "negative_latencies": stats["negative"],
        "disconnects_during": stats["disconnects"] - disconnects_before,
        "connect_errors": stats["errors"],
    }
    for client in clients:
        client.disconnect()
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
