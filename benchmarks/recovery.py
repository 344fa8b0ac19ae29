"""Recovery benchmark: how long after a vendor answers again does the dashboard show the
right state, per provider and fault kind, at default backoff settings (issue 10).

    .venv/bin/python benchmarks/recovery.py [--quick] [--repeat 3] [--base-seconds 5]
        [--defaults] [--kinds 5xx,timeout,malformed,auth] [--providers ...] [--out FILE]

`make bench-recovery ARGS="..."` runs the same. One real dashboard process (`app.py`) per fault
kind, each with every polling provider against its own simulator (in this process, over real
HTTP), all kinds at once. Per provider and repetition: the vendor shows state A and the
dashboard sees it; the simulator then fails every call (a 5xx, a hang past the timeout, a
malformed body, or a 401) while the vendor's state changes to B; after the outage (3 x the
target, so an uncapped backoff would be far past it) the faults are cleared and the time until
`GET /api/presence` (Glance: `/api/visitors`) shows B is the recovery time, in real time.

The target is the retry interval + 5 s. `--base-seconds` (default 5) is every provider's poll
interval (Cisco: resync interval), which is the default for ServiceNow and Glance; with
`--defaults` each provider runs at its own default (Cisco 600 s resync, i.e. 30 s retry;
Salesforce 60 s), which takes several minutes. Timeouts are the default 10 s. See
docs/reliability.md for the results and what they mean.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
# The simulators' test handles and the recovery scenarios are shared with the test suite.
sys.path.insert(0, str(REPO_ROOT / "tests"))

from helpers import (  # noqa: E402
    APP_PY,
    DashServer,
    free_port,
    make_config,
    start_process,
    wait_until_serving,
)
from recovery_helpers import (  # noqa: E402
    DEFAULT_TIMEOUT_S,
    KINDS,
    SCENARIOS,
    SECRETS,
    Recovery,
    Scenario,
    run_outage,
)

DEFAULT_BASE_S = {"servicenow": 5.0, "cisco": 600.0, "salesforce": 60.0, "glance": 5.0}
OUTAGE_TARGETS = 3  # outage length in targets: several failures, past an uncapped backoff
POLL_INTERVAL_S = 0.1  # how often the dashboard's API is read: the measurement's resolution


def start_dashboard(tmp: Path, scenarios: list[Scenario], base: dict[str, float]) -> DashServer:
    port = free_port()
    people = [p for s in scenarios for p in s.people()]
    sections = {s.name: s.section(port, base[s.name], timeout_s=None) for s in scenarios}
    config = make_config(tmp, people, None, providers=sections, push_interval_ms=100)
    args = [str(APP_PY), "--config", str(config), "--port", str(port)]
    proc, out, err = start_process(args, cwd=REPO_ROOT, logs=tmp / "logs", env=SECRETS)
    server = DashServer(f"http://127.0.0.1:{port}", proc, out, err)
    wait_until_serving(server, timeout=30)
    return server


def measure(
    server: DashServer, scenario: Scenario, kind: str, base_s: float, repeat: int
) -> list[Recovery]:
    target = scenario.target_s(base_s)
    results = []
    for _ in range(repeat):
        result = run_outage(
            server,
            scenario,
            kind,
            min_outage_s=OUTAGE_TARGETS * target,
            recovery_timeout_s=600,
            timeout_s=DEFAULT_TIMEOUT_S,
            interval_s=POLL_INTERVAL_S,
        )
        print(
            f"  {scenario.name:<10} {kind:<9} {result.seconds:6.1f} s"
            f" after {result.failures} failed refreshes,"
            f" longest wait {result.longest_wait_s:.1f} s",
            flush=True,
        )
        results.append(result)
    return results


def run_kind(kind: str, providers: list[str], base: dict[str, float], repeat: int) -> list[Any]:
    """One dashboard with every provider, all failing `kind`-wise (each on its own clock)."""
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        scenarios = []
        for name in providers:
            scenario = SCENARIOS[name]()
            stack.callback(scenario.close)
            scenarios.append(scenario)
        server = start_dashboard(Path(tmp), scenarios, base)
        stack.callback(server.stop)
        with ThreadPoolExecutor(len(scenarios)) as pool:
            futures = [
                pool.submit(measure, server, s, kind, base[s.name], repeat) for s in scenarios
            ]
            return [r for f in futures for r in f.result()]


def summarize(results: list[Recovery], base: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    for name in dict.fromkeys(r.provider for r in results):
        target = SCENARIOS[name].target_s(base[name])
        for kind in KINDS:
            runs = [r for r in results if (r.provider, r.kind) == (name, kind)]
            if not runs:
                continue
            seconds = [r.seconds for r in runs]
            rows.append(
                {
                    "provider": name,
                    "kind": kind,
                    "base_s": base[name],
                    "target_s": target,
                    "runs": len(runs),
                    "failures_median": statistics.median(r.failures for r in runs),
                    "outage_s": round(statistics.median(r.outage_s for r in runs), 1),
                    "median_s": round(statistics.median(seconds), 2),
                    "max_s": round(max(seconds), 2),
                    "longest_wait_s": round(max(r.longest_wait_s for r in runs), 1),
                    "within_target": kind != "auth" and max(seconds) <= target,
                }
            )
    return rows


def markdown(rows: list[dict[str, Any]], header: dict[str, Any]) -> str:
    lines = [f"- {key}: {value}" for key, value in header.items()]
    lines += [
        "",
        "| provider | fault | interval s | target s | runs | failures | outage s"
        " | longest wait s | median s | max s | within target |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        within = "n/a (auth)" if r["kind"] == "auth" else ("yes" if r["within_target"] else "NO")
        lines.append(
            f"| {r['provider']} | {r['kind']} | {r['base_s']:g} | {r['target_s']:g} | {r['runs']}"
            f" | {r['failures_median']:g} | {r['outage_s']:g} | {r['longest_wait_s']:.1f}"
            f" | {r['median_s']:.1f}"
            f" | {r['max_s']:.1f} | {within} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one repetition per case")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--base-seconds", type=float, default=5.0)
    parser.add_argument("--defaults", action="store_true", help="each provider's own default")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--providers", default=",".join(SCENARIOS))
    parser.add_argument("--out", type=Path, help="also write the results (.json or .md)")
    args = parser.parse_args(argv)
    providers = [p for p in args.providers.split(",") if p]
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = sorted(set(providers) - set(SCENARIOS)) + sorted(set(kinds) - set(KINDS))
    if unknown:
        parser.error(f"unknown provider or fault kind: {', '.join(unknown)}")
    repeat = 1 if args.quick else args.repeat
    base = DEFAULT_BASE_S if args.defaults else dict.fromkeys(SCENARIOS, args.base_seconds)
    header = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python"
        f" {platform.python_version()}, {platform.system()} {platform.release()}",
        "load average at start (1/5/15 min)": "/".join(f"{x:.2f}" for x in os.getloadavg()),
        "poll interval (Cisco: resync)": ", ".join(f"{p} {base[p]:g} s" for p in providers),
        "timeout_seconds": f"{DEFAULT_TIMEOUT_S:g} (default); max_backoff_seconds: default",
    }
    print("\n".join(f"{k}: {v}" for k, v in header.items()), flush=True)
    started = time.monotonic()
    lock = threading.Lock()
    results: list[Recovery] = []

    def one_kind(kind: str) -> None:
        found = run_kind(kind, providers, base, repeat)
        with lock:
            results.extend(found)

    # Every kind at once, each in its own dashboard: the waits are the vendor's and the
    # backoff's, not this machine's, so running them side by side keeps the run short.
    with ThreadPoolExecutor(len(kinds)) as pool:
        for future in [pool.submit(one_kind, kind) for kind in kinds]:
            future.result()
    header["load average at end (1/5/15 min)"] = "/".join(f"{x:.2f}" for x in os.getloadavg())
    header["run time"] = f"{time.monotonic() - started:.0f} s"
    rows = summarize(results, base)
    table = markdown(rows, header)
    print("\n" + table)
    if args.out:
        if args.out.suffix == ".json":
            body = {"header": header, "rows": rows, "runs": [asdict(r) for r in results]}
            args.out.write_text(json.dumps(body, indent=2) + "\n")
        else:
            args.out.write_text(table + "\n")
    missed = [
        f"{r['provider']}/{r['kind']}"
        for r in rows
        if r["kind"] != "auth" and not r["within_target"]
    ]
    print("\ntarget missed: " + (", ".join(missed) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
