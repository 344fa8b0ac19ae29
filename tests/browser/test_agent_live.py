"""The agent view against the real server and the ServiceNow simulator: a person whose status
changed a few times has those changes on the timeline drawer's bars, the aggregate's and the
source's (from the history API),
the open drawer follows a new change live, and stopping the server shows the connection-lost
banner with provider pills that say unknown."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import DashServer, SnSimHandle, person, wait_for

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

BAR = """(label) => [...document.querySelectorAll('#timeline .tl-bar')]
  .find(b => b.getAttribute('aria-label') === label)"""


def _statuses(page: Any, label: str) -> list[str]:
    return page.evaluate(
        f"(label) => [...({BAR})(label).querySelectorAll('.tl-seg')].map(s => s.dataset.status)",
        label,
    )


def _in_order(seen: list[str], wanted: list[str]) -> bool:
    """`wanted` appears in `seen` in this order, possibly with others in between."""
    rest = iter(seen)
    return all(any(s == w for s in rest) for w in wanted)


def _status(server: DashServer, pid: str) -> str:
    people = server.get("/api/presence").json()["people"]
    return next(p["status"] for p in people if p["id"] == pid)


def test_the_timeline_shows_the_recorded_changes_and_follows_a_live_one(
    page: Any,
    sn_sim: SnSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
    tmp_path: Path,
) -> None:
    ada = person("ada")
    sn_sim.set_user(ada["servicenow"], seconds_ago=600)
    server = dash_server(make_config(tmp_path, [ada], sn_sim.url))
    wait_for(lambda: _status(server, "ada") == "offline", 10, what="ada offline")
    sn_sim.set_user(ada["servicenow"], seconds_ago=1)
    wait_for(lambda: _status(server, "ada") == "online", 10, what="ada online")
    online_at = time.monotonic()
    wait_for(lambda: time.monotonic() - online_at > 3, 5, what="a few seconds online")
    # Last active 31 s ago: away since 1 s ago (ServiceNow dates it last_on + 30 s).
    sn_sim.set_user(ada["servicenow"], seconds_ago=31)
    wait_for(lambda: _status(server, "ada") == "away", 10, what="ada away")

    # The snapshot can run a batch ahead of the history, which is written per batch.
    def recorded() -> list[tuple[str, str]] | None:
        history = server.get("/api/people/ada/history?hours=24").json()["changes"]
        newest = [(c["from"], c["to"]) for c in history][:2]
        return newest if newest[:1] == [("online", "away")] else None

    assert wait_for(recorded, 5, what="away recorded") == [
        ("online", "away"),
        ("offline", "online"),
    ]

    page.goto(server.url + "/")
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "live")
    page.locator('[data-person-id="ada"] .person-open').click()
    drawer = page.get_by_role("dialog")
    expect(drawer.locator(".tl-chart")).to_have_attribute("data-loaded", "true", timeout=10_000)
    bar = _statuses(page, "All sources")
    # (away turns offline by itself 30 s later: the order is what counts, not the last one)
    assert _in_order(bar, ["offline", "online", "away"]), bar
    expect(drawer.locator(".tl-changes")).to_contain_text("Online → Away")
    expect(drawer.locator(".tl-changes")).to_contain_text("Offline → Online")
    # The source's bar is its recorded history too, not only what this page saw since it
    # opened (which would be "not known", then away).
    source = _statuses(page, "ServiceNow")
    assert _in_order(source, ["offline", "online", "away"]), source
    expect(drawer.locator(".tl-note")).not_to_contain_text("No change is recorded")

    sn_sim.set_user(ada["servicenow"], seconds_ago=1)  # while the drawer is open
    page.wait_for_function(
        f"() => [...({BAR})('All sources').querySelectorAll('.tl-seg')].map(s => s.dataset.status)"
        ".pop() === 'online'",
        timeout=10_000,
    )
    assert _statuses(page, "ServiceNow")[-1] == "online"
    expect(drawer.locator(".tl-changes li").first).to_contain_text("→ Online")
    page.keyboard.press("Escape")
    expect(page.locator('[data-person-id="ada"] .person-open')).to_be_focused()

    pills = page.locator("#provider-strip .provider-state")
    expect(pills).to_have_text(["OK"])
    server.stop()
    expect(page.locator("#connection-banner")).to_be_visible(timeout=15_000)
    expect(page.locator("#connection-banner")).to_contain_text("Connection lost")
    expect(pills).to_have_text(["Unknown"])
