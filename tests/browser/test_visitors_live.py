"""The visitors panel and the wall's visitor counts in headless Chromium, against the real
server and the Glance simulator: a click on Co-browse reaches the visitor's presence server
as GLANCE.Cobrowse.Visitor.startSession (once, even on a double click), the signal dialog sends
its JSON, a visitor who left shows the failure, and arrivals appear live."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from glance_helpers import (
    API_KEY,
    API_KEY_ENV,
    GROUP,
    GlanceSimHandle,
    glance_section,
)
from helpers import DashServer, wait_for

pytestmark = pytest.mark.browser

# `browser` and `page` (headless Debian Chromium, CSP violations fail the test) come from
# tests/browser/conftest.py.
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture
def start_server(
    tmp_path: Path,
    glance_sim: GlanceSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
) -> Callable[..., DashServer]:
    def start(**glance: object) -> DashServer:
        section = glance_section(glance_sim, group_labels={GROUP: "Support site"}, **glance)
        config = make_config(tmp_path, [], None, providers={"glance": section})
        return dash_server(config, **{API_KEY_ENV: API_KEY})

    return start


@pytest.fixture
def server(start_server: Callable[..., DashServer]) -> DashServer:
    return start_server()


def _row(page: object, visitor_id: str) -> object:
    return page.locator(f'.visitor[data-visitor-id="{visitor_id}"]')  # type: ignore[attr-defined]


def test_cobrowse_click_reaches_the_visitor_once(
    page: object, glance_sim: GlanceSimHandle, server: DashServer
) -> None:
    glance_sim.arrive("v-ada", server=1, title="Checkout", url="https://www.example.com/checkout")
    page.goto(server.url + "/")  # type: ignore[attr-defined]
    row = _row(page, "v-ada")
    expect(row).to_be_visible(timeout=10_000)
    expect(row.locator(".visitor-meta")).to_contain_text("Checkout")

    row.locator("button[data-action=cobrowse]").dblclick()

    expect(row.locator(".action-state")).to_have_attribute("data-state", "sent", timeout=10_000)
    expect(row.locator(".action-state")).to_contain_text("sent")
    signals = wait_for(glance_sim.signals, 5, what="the simulator's signal log")
    assert [(s["visitor_id"], s["server"], s["mtype"], s["data"]) for s in signals] == [
        ("v-ada", 1, "invoke", {"func": "GLANCE.Cobrowse.Visitor.startSession"})
    ]


def test_signal_dialog_sends_the_json_and_a_departed_visitor_shows_failed(
    page: object, glance_sim: GlanceSimHandle, start_server: Callable[..., DashServer]
) -> None:
    glance_sim.arrive("v-bob")
    server = start_server(poll_seconds=30)  # no poll will see v-bob leave before the click
    page.goto(server.url + "/")  # type: ignore[attr-defined]
    row = _row(page, "v-bob")
    expect(row).to_be_visible(timeout=10_000)

    row.locator("button[data-action=signal]").click()
    dialog = page.locator("#signal-dialog")  # type: ignore[attr-defined]
    expect(dialog).to_be_visible()
    dialog.locator("textarea[name=data]").fill('{"command": "startchat", "chatid": "56789"}')
    dialog.locator("button[type=submit]").click()
    expect(row.locator(".action-state")).to_have_attribute("data-state", "sent", timeout=10_000)
    assert [(s["mtype"], s["data"]) for s in glance_sim.signals()] == [
        ("signal", {"command": "startchat", "chatid": "56789"})
    ]

    # Invalid JSON never leaves the page.
    row.locator("button[data-action=signal]").click()
    dialog.locator("textarea[name=data]").fill("{not json")
    dialog.locator("button[type=submit]").click()
    expect(dialog.locator(".signal-error")).to_contain_text("not valid JSON")
    dialog.locator("[data-close]").click()

    glance_sim.leave("v-bob")  # gone before the poll notices: the click finds out
    row.locator("button[data-action=cobrowse]").click()
    # The row goes (the server forgets the visitor); the reason stays on the panel.
    notice = page.locator("#visitors-notice")  # type: ignore[attr-defined]
    expect(notice).to_contain_text("v-bob", timeout=10_000)
    expect(notice).to_contain_text("visitor is no longer on the site")
    expect(row).to_have_count(0, timeout=10_000)
    assert len(glance_sim.signals()) == 1


def test_arrivals_show_live_on_the_panel_and_the_wall_counts(
    browser: object, page: object, glance_sim: GlanceSimHandle, server: DashServer
) -> None:
    page.goto(server.url + "/")  # type: ignore[attr-defined]
    expect(page.locator("#visitors-empty")).to_be_visible(timeout=10_000)  # type: ignore[attr-defined]
    wall = page.context.new_page()  # type: ignore[attr-defined]
    wall.goto(server.url + "/wall")
    count = wall.locator(f'#visitor-counts [data-group-id="{GROUP}"]')
    expect(count).to_contain_text("Support site")
    expect(count.locator(".count-n")).to_have_text("0")

    glance_sim.arrive("v-cy", url="https://www.example.com/pricing")
    glance_sim.arrive("v-dee", server=1)

    expect(_row(page, "v-cy")).to_be_visible(timeout=10_000)
    expect(page.locator("#visitors-count")).to_have_text("2 present")  # type: ignore[attr-defined]
    expect(count.locator(".count-n")).to_have_text("2", timeout=10_000)
    expect(count.locator(".count-word")).to_have_text("visitors")
