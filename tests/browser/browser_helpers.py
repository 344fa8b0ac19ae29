"""Helpers for the browser tests (imported by their conftest and by tests that need a page
with other options)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def open_page(
    browser: Any, clipboard_origin: str | None = None, **context_options: Any
) -> Iterator[Any]:
    """A fresh browser context and page that fails the test, on close, if the page threw a
    JavaScript error or the strict CSP (no inline scripts or styles) blocked anything."""
    context = browser.new_context(**context_options)
    if clipboard_origin:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=clipboard_origin)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors or CSP violations on the page: {errors}"
