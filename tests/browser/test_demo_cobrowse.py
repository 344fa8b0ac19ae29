"""Done-when of the Glance issue, end to end: in the demo (`python app.py`, simulators
in-process), an agent clicks Co-browse on a simulated visitor in Chromium and the Glance
simulator has received GLANCE.Cobrowse.Visitor.startSession for exactly that visitor."""

from __future__ import annotations

import re

import pytest
import requests
from helpers import DashServer, wait_for

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
SIM_URL = re.compile(r"demo: Glance simulator on (http://127\.0\.0\.1:\d+)")


def test_an_agent_starts_cobrowse_in_the_demo(demo: DashServer, page: object) -> None:
    """`page` (tests/browser/conftest.py) fails the test on JavaScript errors."""
    sim_url = wait_for(lambda: SIM_URL.search(demo.output()), 5, what="the simulator's URL")[1]
    if demo.get("/login").status_code == 200:  # the demo signs agents in
        page.goto(demo.url + "/login")  # type: ignore[attr-defined]
        page.fill("input[name=username]", "agent")  # type: ignore[attr-defined]
        page.fill("input[name=password]", "demo")  # type: ignore[attr-defined]
        page.locator("form.signin-form [type=submit]").click()  # type: ignore[attr-defined]
        page.wait_for_url(demo.url + "/")  # type: ignore[attr-defined]
    else:
        page.goto(demo.url + "/")  # type: ignore[attr-defined]
    rows = page.locator(".visitor")  # type: ignore[attr-defined]
    expect(rows.first).to_be_visible(timeout=15_000)
    visitor_id = rows.first.get_attribute("data-visitor-id")
    # Rows are rebuilt as visitors come and go: hold on to this visitor, not "the first".
    row = page.locator(f'.visitor[data-visitor-id="{visitor_id}"]')  # type: ignore[attr-defined]

    row.locator("button[data-action=cobrowse]").click()

    expect(row.locator(".action-state")).to_have_attribute("data-state", "sent", timeout=10_000)
    signals = requests.get(sim_url + "/_sim/signals", timeout=5).json()["signals"]
    assert [(s["visitor_id"], s["mtype"], s["data"]) for s in signals] == [
        (visitor_id, "invoke", {"func": "GLANCE.Cobrowse.Visitor.startSession"})
    ]
