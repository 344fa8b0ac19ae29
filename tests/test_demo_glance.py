"""The demo runs the Glance simulator in-process: visitors are on both demo web sites, the
Glance provider is healthy, and the pages carry the visitors panel and the wall's counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import APP_PY, DashServer, free_port, start_process, wait_for, wait_until_serving


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DashServer]:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    port = free_port()
    proc, out, err = start_process(
        [str(APP_PY), "--port", str(port)], cwd=cwd, logs=tmp_path / "logs"
    )
    server = DashServer(f"http://127.0.0.1:{port}", proc, out, err)
    try:
        wait_until_serving(server)
        yield server
    finally:
        server.stop()


def test_demo_has_visitors_on_both_sites(demo: DashServer) -> None:
    def visitors() -> dict | None:
        body = demo.get("/api/visitors").json()
        return body if body["enabled"] and all(body["counts"].values()) else None

    body = wait_for(visitors, 15, interval=0.1, what="demo visitors in every group")
    assert set(body["counts"]) == {"72431", "72432"}
    assert body["labels"] == {"72431": "Support site", "72432": "Store"}
    assert len(body["visitors"]) == sum(body["counts"].values()) >= 4
    assert all(v["metadata"].get("url", "").startswith("https://") for v in body["visitors"])
    glance = demo.get("/api/presence").json()["providers"]["glance"]
    assert glance["state"] == "ok", glance

    assert 'id="visitors-panel"' in demo.get("/").text
    assert 'id="visitor-counts"' in demo.get("/wall").text
