"""The browser floor (Chromium 69, Safari 14: docs/accessibility.md) where a lint cannot see
it: dialogs open without <dialog> (static/js/modal.js's fallback, forced by deleting
HTMLDialogElement before the page's scripts run) and no box on the wall leans on flex `gap`
(Chromium 84+, Safari 14.1+), whichever stylesheet the rule comes from."""

from __future__ import annotations

from typing import Any

import fake_pages
import pytest
from helpers import DashServer
from wall_floor import floor

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

NO_DIALOG = "delete window.HTMLDialogElement;"


def _sign_in_as_admin(page: Any, demo: DashServer) -> None:
    page.goto(demo.url + "/login")
    page.locator(".demo-accounts button", has_text="(admin)").click()
    expect(page.locator(".account-name")).to_contain_text("· admin")


def test_screenmeet_and_signal_dialogs_work_without_html_dialog_element(
    page: Any, demo: DashServer
) -> None:
    page.context.add_init_script(script=NO_DIALOG)
    _sign_in_as_admin(page, demo)
    assert page.evaluate("'HTMLDialogElement' in window") is False
    # Closed, the fallback's <dialog> stays out of sight like a real one.
    expect(page.locator("#sm-dialog")).to_be_hidden()
    expect(page.locator("#signal-dialog")).to_be_hidden()

    start = page.locator(".visitor .sm-start").first
    expect(start).to_be_visible(timeout=15_000)
    start.evaluate("(button) => { button.dataset.opener = 'yes'; }")
    start.click()
    dialog = page.locator("#sm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("role", "dialog")
    expect(dialog).to_have_attribute("aria-modal", "true")
    expect(page.locator(".modal-backdrop")).to_be_visible()
    assert page.evaluate("document.getElementById('sm-dialog').contains(document.activeElement)")
    # The focus stays inside while tabbing past the last control.
    for _ in range(25):
        page.keyboard.press("Tab")
        assert page.evaluate(
            "document.getElementById('sm-dialog').contains(document.activeElement)"
        ), "the focus left the fallback dialog"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator(".modal-backdrop")).to_have_count(0)
    # The focus goes back to the button that opened it, unless the live visitor list has
    # rebuilt that row meanwhile (the button is gone then).
    back = page.evaluate(
        "(() => { const b = document.querySelector('[data-opener]');"
        " return b ? document.activeElement === b : 'rebuilt'; })()"
    )
    assert back in (True, "rebuilt"), back

    page.locator('.visitor button[data-action="signal"]').first.click()
    signal = page.locator("#signal-dialog")
    expect(signal).to_be_visible()
    expect(signal).to_have_attribute("role", "dialog")
    signal.locator("textarea").fill("not json")
    signal.locator('button[type="submit"]').click()
    expect(signal.locator(".signal-error")).to_contain_text("not valid JSON")
    expect(signal).to_be_visible()
    signal.locator("[data-close]").click()
    expect(signal).to_be_hidden()


def test_with_html_dialog_element_the_native_modal_is_used(page: Any, demo: DashServer) -> None:
    _sign_in_as_admin(page, demo)
    start = page.locator(".visitor .sm-start").first
    expect(start).to_be_visible(timeout=15_000)
    start.click()
    expect(page.locator("#sm-dialog")).to_be_visible()
    assert page.evaluate("document.querySelector('#sm-dialog:modal') !== null")
    expect(page.locator(".modal-backdrop")).to_have_count(0)


# Every flex box with a gap and two or more laid-out children: spacing that collapses on the floor.
FLEX_GAPS = """() => {
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    const s = getComputedStyle(el);
    if (!/flex/.test(s.display)) continue;
    const gap = (v) => v !== "normal" && parseFloat(v) > 0;
    if (!gap(s.rowGap) && !gap(s.columnGap)) continue;
    const laidOut = Array.prototype.filter.call(el.children, (c) => {
      const cs = getComputedStyle(c);
      return cs.display !== "none" && cs.position !== "absolute" && cs.position !== "fixed";
    });
    if (laidOut.length > 1) found.push(`${el.tagName}.${el.className} ${s.rowGap} ${s.columnGap}`);
  }
  return found;
}"""


@pytest.mark.parametrize("query", [None, {"view": "summary"}])
def test_the_wall_uses_no_flex_gap(page: Any, query: dict | None) -> None:
    fake_pages.open_view(page, "wall", fake_pages.snapshot(floor(300)), query=query)
    assert page.evaluate(FLEX_GAPS) == []


def test_the_flex_gap_probe_sees_a_gap(page: Any) -> None:
    page.set_content('<div style="display:flex;gap:4px"><span>a</span><span>b</span></div>')
    assert len(page.evaluate(FLEX_GAPS)) == 1
