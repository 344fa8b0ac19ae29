"""Starting and stopping the real process (issue 11): a taken port, an unreachable database
or Redis are one line and exit 1 (no traceback); SIGTERM always stops the demo, quickly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import APP_PY, REPO_ROOT, DashServer, start_process, wait_for, wait_until_serving

MODES = ["eventlet", "gevent"]


def run_app(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PRESENCE_DASH_CONFIG", "PORT"}}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, str(APP_PY), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def unused_port() -> str:
    """A port for a server that fails before it listens: from the kernel's ephemeral range,
    away from the blocks other test workers' dashboards use (helpers.free_port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def one_line_exit_1(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("async_mode", MODES)
def test_a_second_instance_on_a_taken_port_exits_1_and_the_first_keeps_serving(
    tmp_path: Path,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
    async_mode: str,
) -> None:
    config = make_config(tmp_path, [], None)
    first = dash_server(config, async_mode=async_mode)
    port = first.url.rsplit(":", 1)[1]

    for second_mode in MODES:  # neither runtime may share the port (SO_REUSEPORT)
        second = run_app(
            tmp_path, "--config", str(config), "--port", port, "--async-mode", second_mode
        )
        line = one_line_exit_1(second)
        assert f"127.0.0.1:{port} is already in use" in line

    for _ in range(20):  # every connection reaches the first: nobody else is listening
        assert first.get("/healthz", timeout=1).status_code == 200
    assert first.proc.poll() is None


def test_an_unreachable_database_is_one_line_and_exit_1(
    tmp_path: Path, make_config: Callable[..., Path]
) -> None:
    config = make_config(tmp_path, [], None, database="postgresql://nobody:pw@127.0.0.1:1/x")
    line = one_line_exit_1(run_app(tmp_path, "--config", str(config), "--port", unused_port()))
    assert line.startswith("presence-dash: database postgresql://nobody:***@127.0.0.1:1/x")
    assert "unreachable" in line
    assert ":pw@" not in line


def test_an_unusable_message_queue_is_one_line_and_exit_1(
    tmp_path: Path, make_config: Callable[..., Path]
) -> None:
    config = make_config(tmp_path, [], None, message_queue="redis://127.0.0.1:1/0")
    line = one_line_exit_1(run_app(tmp_path, "--config", str(config), "--port", unused_port()))
    # Unreachable, or (where the redis package is not installed) needing it.
    assert line.startswith("presence-dash: message_queue redis://127.0.0.1:1/0 ")
    assert "unreachable" in line or "needs the redis package" in line


def _sigterm_stops_the_demo(tmp_path: Path, times: int) -> list[float]:
    took: list[float] = []
    for n in range(times):
        cwd = tmp_path / f"cwd{n}"  # empty: no presence-dash.toml, so the demo
        cwd.mkdir()
        # An ephemeral port: other test runs on this machine share free_port()'s blocks,
        # and a /healthz answered by their server would make us signal ours mid-start.
        port = unused_port()
        proc, out, err = start_process([str(APP_PY), "--port", port], cwd, tmp_path / f"l{n}")
        server = DashServer(f"http://127.0.0.1:{port}", proc, out, err)
        try:
            wait_until_serving(server, timeout=30)
            line = f"127.0.0.1:{port}"
            wait_for(lambda o=out, x=line: x in o.read_text(), 5, what="our start line")
            sent = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"start {n + 1}: SIGTERM ignored\n{server.output()}") from None
            took.append(time.monotonic() - sent)
            assert code == 0, server.output()
        finally:
            server.stop()
    return took


def test_sigterm_stops_the_demo_every_time(tmp_path: Path) -> None:
    assert len(_sigterm_stops_the_demo(tmp_path, 3)) == 3


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.skipif(not os.environ.get("SLOW_TESTS"), reason="20 demo starts: SLOW_TESTS=1")
def test_sigterm_stops_the_demo_twenty_times_in_a_row(tmp_path: Path) -> None:
    took = _sigterm_stops_the_demo(tmp_path, 20)
    assert len(took) == 20 and max(took) < 5
