"""`presence-dash simulate glance` runs the load balancer and its presence servers alone, and
our adapter can work against it as the printed settings say."""

from __future__ import annotations

import re
from pathlib import Path

import requests
from helpers import APP_PY, REPO_ROOT, free_port, start_process, wait_for

from presence_dash.core.timefmt import utc_now
from presence_dash.providers.glance.config import GlanceConfig
from presence_dash.providers.glance.provider import GlanceProvider
from presence_dash.visitors.board import VisitorBoard


def test_simulate_glance_serves_demo_visitors_to_the_adapter(tmp_path: Path) -> None:
    port = free_port()
    args = [str(APP_PY), "simulate", "glance", "--port", str(port), "--demo-users", "1"]
    proc, out, _err = start_process(args, REPO_ROOT, tmp_path, env={"SIM_PASSWORD": "k3y"})
    try:
        printed = wait_for(
            lambda: re.search(r"glance simulator on (\S+) \(auth_url (\S+)\)", out.read_text()),
            10,
            what="the simulator's start line",
        )
        assert printed[1] == f"http://127.0.0.1:{port}"
        servers = re.search(r"direct_allowlist = \[(.*)\]", out.read_text())
        assert servers
        config = GlanceConfig.model_validate(
            {
                "base_url": printed[1],
                "auth_url": printed[2],
                "group_ids": [72431],
                "partner_user_id": "presence.dash",
                "api_key_env": "X",
                "direct_scheme": "http",
                "direct_allowlist": re.findall(r'"([^"]+)"', servers[1]),
            }
        )
        board = VisitorBoard(config.group_ids)
        glance = GlanceProvider(config, "k3y", requests.Session(), utc_now, board=board)
        glance.poll()
        visitors = board.snapshot().visitors
        assert len(visitors) >= 3  # the demo seeds 3-6 per group
        sent = glance.signal(72431, visitors[0].visitor_id, "signal", {"command": "ping"})
        assert sent.server in out.read_text()  # one of the printed presence servers
    finally:
        proc.terminate()
        proc.wait(timeout=10)
