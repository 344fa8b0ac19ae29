"""`make bench ARGS=--smoke`: the fan-out benchmark still runs end to end (real server per
async mode, the official socket.io-client as load generator) and every change it drives
reaches every client in order. Figures are not asserted here; docs/benchmarks.md has them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO_ROOT


def test_the_fanout_benchmark_smoke_run_delivers_everything(tmp_path: Path) -> None:
    if not shutil.which("node") and not os.environ.get("CI"):
        pytest.skip("node is not installed (the benchmark's load generator)")
    out = tmp_path / "smoke.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/fanout.py", "--smoke", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    medians = json.loads(out.read_text())["medians"]
    assert {m["mode"] for m in medians} == {"eventlet", "gevent"}
    for mode in medians:
        assert mode["clients_connected"] == 20
        assert mode["seq_gaps"] == 0 and mode["disconnects_during"] == 0
        # No seq gap means every batch reached every client in order; the delivery *rate* in a
        # 3 s window is not a delivery check (under the parallel suite clients lag by tenths
        # of a second, so a window can end with deliveries still in flight).
        assert mode["deliveries_per_s"] > 0 and mode["changes_per_s"] > 0, mode
