"""The wall screen in headless Chromium against the real server and simulator: a dot changes
colour and text after a simulator change, and the connection-lost banner appears when the
server stops."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import DashServer, SnSimHandle, person

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")


def _dot_colour(page: object, pid: str) -> str:
    return page.eval_on_selector(  # type: ignore[attr-defined]
        f'[data-person-id="{pid}"] .dot', "el => getComputedStyle(el).backgroundColor"
    )


def test_wall_dot_follows_the_simulator_and_warns_when_the_server_goes(
    page: object,
    sn_sim: SnSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
    tmp_path: Path,
) -> None:
    ada, bob = person("ada"), person("bob", team="Field Engineering")
    sn_sim.set_user(ada["servicenow"], seconds_ago=600)
    sn_sim.set_user(bob["servicenow"], seconds_ago=1)
    server = dash_server(make_config(tmp_path, [ada, bob], sn_sim.url))

    page.goto(server.url + "/wall")  # type: ignore[attr-defined]
    expect = sync_api.expect
    ada_card = page.locator('[data-person-id="ada"]')  # type: ignore[attr-defined]
    expect(ada_card).to_have_attribute("data-status", "offline", timeout=10_000)
    expect(ada_card.locator(".status-text")).to_have_text("Offline")
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "live")  # type: ignore[attr-defined]
    offline_colour = _dot_colour(page, "ada")

    sn_sim.set_user(ada["servicenow"], seconds_ago=1)
    expect(ada_card).to_have_attribute("data-status", "online", timeout=10_000)
    expect(ada_card.locator(".status-text")).to_have_text("Online")
    assert _dot_colour(page, "ada") != offline_colour
    banner = page.locator("#connection-banner")  # type: ignore[attr-defined]
    expect(banner).to_be_hidden()

    server.stop()
    expect(banner).to_be_visible(timeout=15_000)
    expect(banner).to_contain_text("Connection lost")
