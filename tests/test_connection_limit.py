"""No hidden connection ceiling (issue 13): the real app.py accepts more Socket.IO clients
than eventlet's default pool of 1,024, and the open-files limit is made room for at start."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO_ROOT, person

from presence_dash.launch import FD_HEADROOM, fd_limit_problem

HOLD = REPO_ROOT / "benchmarks" / "hold_connections.mjs"


def _hold(url: str, clients: int, timeout: float) -> dict[str, Any]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        pytest.skip("node is not installed (the connection holder)")
    if not (REPO_ROOT / "benchmarks" / "node_modules" / "ws").is_dir():
        subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=HOLD.parent, check=True)
    done = subprocess.run(
        [node, str(HOLD), "--url", url, "--clients", str(clients), "--timeout", str(timeout)],
        capture_output=True,
        text=True,
        timeout=timeout + 30,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(line.removeprefix("RESULT "))


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_more_than_1024_clients_are_served_at_once(
    async_mode: str, tmp_path: Path, make_config: Callable[..., Path], dash_server: Any
) -> None:
    # eventlet's wsgi.server serves at most max_size connections (1,024 unless told) and
    # every websocket holds one for its life: client 1,025 used to wait forever.
    config = make_config(tmp_path, [person("ada"), person("grace")], None)
    server = dash_server(config, async_mode=async_mode)
    result = _hold(server.url.replace("http", "ws"), 1100, timeout=40)
    assert result["snapshots"] == 1100, result
    assert result["failures"] == 0, result


def test_a_low_open_files_limit_is_raised_to_the_hard_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2000 + FD_HEADROOM:
        pytest.skip(f"hard open-files limit {hard} too low to test raising to it")
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        assert fd_limit_problem(2000) is None
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == 2000 + FD_HEADROOM
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_an_open_files_limit_that_cannot_be_raised_is_one_warning_line() -> None:
    # In a child: lowering the hard limit cannot be undone in this process.
    code = (
        "import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (512, 512));"
        "from presence_dash.launch import fd_limit_problem; print(fd_limit_problem(10000))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    line = done.stdout.strip()
    assert done.returncode == 0, done.stderr
    assert "\n" not in line and "ulimit -n" in line, line
    assert "is 512, below the 10200" in line and "max_connections = 10000" in line, line
