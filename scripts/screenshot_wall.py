"""Make the README screenshots from the demo: `python scripts/screenshot_wall.py docs/img`.

Starts `app.py` (demo mode) on a free port, waits until every simulator has been polled and
the demo people are spread over online, away and offline, then photographs `/wall` and, signed
in as the demo agent, `/` at 1920x1080 in Debian's Chromium via Playwright.

`python scripts/screenshot_wall.py --floor docs/img`: a 5,000-person floor in 10 teams with
thresholds (benchmarks/floor_server.py) on the wall at 1920x1080 and 1280x720
(wall-5000-1920x1080.png, wall-5000-1280x720.png) and in the agent view at 1440x900 and on a
390 px phone (agent-5000-1440x900.png, agent-5000-390x844.png).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url: str, deadline_s: float = 120) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/presence", timeout=2) as response:
                body = json.load(response)
            statuses = {person["status"] for person in body["people"]}
            # A picture worth taking: every source polled and the demo's people spread out.
            if (
                all(p["state"] == "ok" for p in body["providers"].values())
                and {
                    "away",
                    "offline",
                }
                <= statuses
            ):
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"demo at {url} did not become ready in {deadline_s} s")


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    with tempfile.TemporaryDirectory() as cwd:  # no presence-dash.toml there: demo mode
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--port", str(port)],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ready(url)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
                )
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(url + "/wall")  # the demo's wall needs no sign-in
                page.wait_for_selector("[data-person-id]")
                page.screenshot(path=str(out / "wall.png"))
                print(out / "wall.png")
                # The agent view as an agent: one click on the demo's sign-in page.
                page.goto(url + "/login")
                page.locator(".demo-accounts button", has_text="agent").click()
                page.wait_for_selector(".visitor .visitor-cobrowse")
                page.wait_for_selector('#connection-state[data-state="live"]')
                page.wait_for_function(
                    "!document.querySelector('#sm-empty').textContent.startsWith('Loading')"
                )
                page.screenshot(path=str(out / "agent.png"))
                print(out / "agent.png")
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)


def _wait_up(url: str, deadline_s: float = 120) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/alerts", timeout=2) as response:
                if json.load(response)["teams"]:
                    return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"floor server at {url} did not come up in {deadline_s} s")


def floor(out_dir: str, people: int = 5000) -> None:
    """The wall of a big floor at the two common TV sizes, and its agent view."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "floor_server.py"), str(people), "0", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_up(url)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            for width, height in ((1920, 1080), (1280, 720)):
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(url + "/wall?rotate=0")
                page.wait_for_selector('#connection-state[data-state="live"]')
                page.wait_for_function("document.body.dataset.page === '1'")
                path = out / f"wall-{people}-{width}x{height}.png"
                page.screenshot(path=str(path))
                print(path, page.locator("#page-indicator").inner_text().replace("\n", " "))
                page.close()
            # The agent view of the same floor on a laptop and a phone, every card built.
            for width, height in ((1440, 900), (390, 844)):
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(url + "/")
                page.wait_for_selector('#connection-state[data-state="live"]')
                page.wait_for_function(
                    "(n) => document.querySelectorAll('#people .person').length >= n", arg=people
                )
                path = out / f"agent-{people}-{width}x{height}.png"
                page.screenshot(path=str(path))
                print(path)
                page.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--floor":
        floor(args[1] if len(args) > 1 else str(ROOT / "docs" / "img"))
    else:
        main(args[0] if args else str(ROOT / "docs" / "img"))
