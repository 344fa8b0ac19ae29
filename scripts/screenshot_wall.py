"""Make the README screenshots from the demo: `python scripts/screenshot_wall.py docs/img`.

Starts `app.py` (demo mode) on a free port, waits until the ServiceNow simulator has been
polled, and photographs `/wall` and `/` at 1920x1080 in Debian's Chromium via Playwright.
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


def _wait_ready(url: str, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/presence", timeout=2) as response:
                body = json.load(response)
            if body["providers"]["servicenow"]["state"] == "ok":
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
                for path, name in (("/wall", "wall.png"), ("/", "agent.png")):
                    page.goto(url + path)
                    page.wait_for_selector("[data-person-id]")
                    page.screenshot(path=str(out / name))
                    print(out / name)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "docs" / "img"))
