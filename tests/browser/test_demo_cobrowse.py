"""Done-when of the Glance issue, end to end: in the demo (`python app.py`, simulators
in-process), an agent clicks Co-browse on a simulated visitor in Chromium and the Glance
simulator has received GLANCE.Cobrowse.Visitor.startSession for exactly that visitor."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from helpers import APP_PY, DashServer, free_port, start_process, wait_for, wait_until_serving

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip(
        "Debian chromium is not installed (apt-get install chromium)", allow_module_level=True
    )

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
SIM_URL = re.compile(r"demo: Glance simulator on (http://127\.0\.0\.1:\d+)")


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


def test_an_agent_starts_cobrowse_in_the_demo(demo: DashServer) -> None:
    sim_url = wait_for(lambda: SIM_URL.search(demo.output()), 5, what="the simulator's URL")[1]
    assert shutil.which(CHROMIUM)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        if demo.get("/login").status_code == 200:  # the demo signs agents in
            page.goto(demo.url + "/login")
            page.fill("input[name=username]", "agent")
            page.fill("input[name=password]", "demo")
            page.locator("form.signin-form [type=submit]").click()
            page.wait_for_url(demo.url + "/")
        else:
            page.goto(demo.url + "/")
        rows = page.locator(".visitor")
        expect(rows.first).to_be_visible(timeout=15_000)
        visitor_id = rows.first.get_attribute("data-visitor-id")
        # Rows are rebuilt as visitors come and go: hold on to this visitor, not "the first".
        row = page.locator(f'.visitor[data-visitor-id="{visitor_id}"]')

        row.locator("button[data-action=cobrowse]").click()

        expect(row.locator(".action-state")).to_have_attribute("data-state", "sent", timeout=10_000)
        browser.close()
    assert not errors, errors
    signals = requests.get(sim_url + "/_sim/signals", timeout=5).json()["signals"]
    assert [(s["visitor_id"], s["mtype"], s["data"]) for s in signals] == [
        (visitor_id, "invoke", {"func": "GLANCE.Cobrowse.Visitor.startSession"})
    ]
