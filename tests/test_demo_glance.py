"""The demo runs the Glance simulator in-process: visitors are on both demo web sites, the
Glance provider is healthy, and the pages carry the visitors panel and the wall's counts."""

from __future__ import annotations

from helpers import DashServer, wait_for


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
