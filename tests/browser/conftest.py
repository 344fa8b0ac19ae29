"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium through Playwright
(never a downloaded browser). With CI=true a missing browser fails instead of skipping."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import open_page

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    # With CI=true a missing browser is a failure, never a skip.
    assert shutil.which(CHROMIUM), f"{CHROMIUM} is required for browser tests"
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A 1920x1080 page (the wall's screen)."""
    with open_page(browser, viewport={"width": 1920, "height": 1080}) as page:
        yield page
