"""ScreenMeet in headless Chromium against the real server and the simulator: an agent starts
a session from a person's card menu and gets its links, sees a vendor error in the dialog,
schedules, reschedules and closes from the sessions panel; the strict CSP holds throughout."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser_helpers import open_page
from helpers import DashServer, wait_for
from screenmeet_helpers import (
    SM_PASSWORD,
    SM_PASSWORD_ENV,
    ScreenMeetSimHandle,
    screenmeet_section,
)

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")

PEOPLE = [
    {"id": "ada", "name": "Ada Lovelace", "team": "Service Desk"},
    {"id": "alan", "name": "Alan Turing", "team": "Service Desk"},
]


@pytest.fixture
def sim(screenmeet_sim: ScreenMeetSimHandle) -> ScreenMeetSimHandle:
    return screenmeet_sim


@pytest.fixture
def server(
    tmp_path: Path,
    sim: ScreenMeetSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
) -> DashServer:
    config = make_config(tmp_path, PEOPLE, None, providers={"screenmeet": screenmeet_section(sim)})
    return dash_server(config, **{SM_PASSWORD_ENV: SM_PASSWORD})


@pytest.fixture
def page(browser: object, server: DashServer) -> Iterator[object]:
    with open_page(
        browser, clipboard_origin=server.url, viewport={"width": 1400, "height": 1000}
    ) as page:
        page.goto(server.url + "/")
        yield page


def _open_dialog(page: object, person: str) -> object:
    """From the card's actions menu ("⋯"), as an agent does."""
    page.locator(f'[data-person-id="{person}"] .card-actions').click()  # type: ignore[attr-defined]
    page.get_by_role("menuitem", name="Start ScreenMeet…").click()  # type: ignore[attr-defined]
    dialog = page.locator("#sm-dialog")  # type: ignore[attr-defined]
    sync_api.expect(dialog).to_be_visible()
    return dialog


def _panel_height(page: object) -> float:
    return page.locator("#sm-panel").bounding_box()["height"]  # type: ignore[attr-defined]


def test_the_empty_sessions_panel_is_one_line_beside_the_people(page: object) -> None:
    expect = sync_api.expect
    panel = page.locator("#sm-panel")  # type: ignore[attr-defined]
    expect(page.locator("#sm-empty")).to_have_text("No open sessions.")  # type: ignore[attr-defined]
    expect(panel).to_have_attribute("data-empty", "true")
    assert _panel_height(page) < 30  # one line, not a box
    # Presence first: at 1400 px the panel sits beside the people, not above them.
    people = page.locator("#people").bounding_box()  # type: ignore[attr-defined]
    assert panel.bounding_box()["x"] >= people["x"] + people["width"] - 1
    # No card has a ScreenMeet button of its own: it is in the card's menu.
    expect(page.locator(".person .sm-start")).to_have_count(0)  # type: ignore[attr-defined]


def test_an_agent_starts_a_session_from_a_card_and_gets_its_links(
    page: object, sim: ScreenMeetSimHandle
) -> None:
    expect = sync_api.expect
    dialog = _open_dialog(page, "ada")
    expect(dialog.locator("#sm-person-name")).to_have_text("Ada Lovelace")

    # Only the options the chosen type supports are offered (the vendor's table).
    dialog.locator("#sm-type").select_option("live")
    for shown in ("record", "knock", "audio"):
        expect(dialog.locator(f'.sm-pref[data-pref="{shown}"]')).to_be_visible()
    for hidden in ("prerequestrc", "prerequestadmin"):
        expect(dialog.locator(f'.sm-pref[data-pref="{hidden}"]')).to_be_hidden()
    dialog.locator("#sm-type").select_option("replay")
    expect(dialog.locator(".sm-pref:visible")).to_have_count(0)
    expect(dialog.locator("#sm-no-prefs")).to_be_visible()
    dialog.locator("#sm-type").select_option("support")
    expect(dialog.locator(".sm-pref:visible")).to_have_count(3)

    dialog.locator("#sm-record").fill("INC0000005")
    dialog.locator('.sm-pref[data-pref="record"] input').check()
    dialog.locator("#sm-submit").click()

    expect(dialog.locator("#sm-result")).to_be_visible(timeout=10_000)
    session = wait_for(lambda: list(sim.sessions().values()), 5, what="the session at the vendor")
    assert len(session) == 1
    vendor = session[0]
    assert vendor["settings"]["recording"] is True and vendor["userDescription"] == "INC0000005"
    expect(dialog.locator("#sm-user-url")).to_have_value(vendor["urls"]["user"])
    expect(dialog.locator("#sm-pin")).to_have_value(f"{vendor['pin']:06d}")
    expect(dialog.locator("#sm-host-link")).to_have_attribute("href", vendor["urls"]["host"])

    dialog.get_by_role("button", name="Copy PIN").click()
    expect(dialog.locator("#sm-copied")).to_have_text("PIN copied.")
    assert page.evaluate("navigator.clipboard.readText()") == f"{vendor['pin']:06d}"  # type: ignore[attr-defined]
    dialog.get_by_role("button", name="Copy link").click()
    assert page.evaluate("navigator.clipboard.readText()") == vendor["urls"]["user"]  # type: ignore[attr-defined]

    dialog.locator("#sm-done").click()
    # The dialog gives the focus back to the card's actions button it was opened from.
    expect(page.locator('[data-person-id="ada"] .card-actions')).to_be_focused()  # type: ignore[attr-defined]
    row = page.locator(f'#sm-sessions [data-sm-id="{vendor["id"]}"]')  # type: ignore[attr-defined]
    expect(row).to_have_attribute("data-sm-status", "new")
    expect(page.locator("#sm-panel")).to_have_attribute("data-empty", "false")  # type: ignore[attr-defined]
    assert _panel_height(page) > 60  # with a session it is a box again
    expect(row).to_contain_text(f"PIN {vendor['pin']:06d}")


def test_a_vendor_error_is_shown_in_the_dialog_and_a_retry_works(
    page: object, sim: ScreenMeetSimHandle
) -> None:
    expect = sync_api.expect
    dialog = _open_dialog(page, "alan")
    dialog.locator("#sm-record").fill("INC0000007")
    sim.fault("503")
    dialog.locator("#sm-submit").click()
    error = dialog.locator("#sm-error")
    expect(error).to_be_visible(timeout=10_000)
    expect(error).to_contain_text("Instance unavailable")
    expect(dialog.locator("#sm-form")).to_be_visible()
    assert sim.sessions() == {}

    dialog.locator("#sm-submit").click()  # the same request again: the vendor is back
    expect(dialog.locator("#sm-result")).to_be_visible(timeout=10_000)
    assert len(sim.sessions()) == 1


def test_schedule_then_reschedule_and_close_from_the_panel(
    page: object, sim: ScreenMeetSimHandle
) -> None:
    expect = sync_api.expect
    dialog = _open_dialog(page, "ada")
    dialog.locator("#sm-record").fill("INC0000009")
    dialog.locator("#sm-start").fill("2099-06-01T10:30")
    dialog.locator("#sm-submit").click()
    expect(dialog.locator("#sm-result-title")).to_have_text("Session scheduled", timeout=10_000)
    expect(dialog.locator("#sm-pin-row")).to_be_hidden()
    dialog.locator("#sm-done").click()

    (sid,) = sim.sessions()
    row = page.locator(f'#sm-sessions [data-sm-id="{sid}"]')  # type: ignore[attr-defined]
    expect(row).to_have_attribute("data-sm-status", "scheduled")
    row.get_by_role("button", name="Reschedule").click()
    row.locator(".sm-reschedule-form input").fill("2099-06-02T11:45")
    row.get_by_role("button", name="Save").click()
    wait_for(
        lambda: sim.sessions()[sid]["startTime"][:10] == "2099-06-02", 10, what="the new start"
    )
    row = page.locator(f'#sm-sessions [data-sm-id="{sid}"]')  # type: ignore[attr-defined]
    # The page has applied the answer (the row is rebuilt without the form) before Close is
    # pressed: a rebuild after it would drop the pending "Confirm close".
    expect(row.locator(".sm-reschedule-form")).to_have_count(0)
    expect(row.locator(".sm-session-meta")).to_contain_text("2099")

    row.get_by_role("button", name="Close").click()
    row.get_by_role("button", name="Confirm close").click()
    expect(row).to_have_count(0, timeout=10_000)
    assert sim.sessions()[sid]["status"] == "closed"
    expect(page.locator("#sm-empty")).to_be_visible()  # type: ignore[attr-defined]
    expect(page.locator("#sm-panel")).to_have_attribute("data-empty", "true")  # type: ignore[attr-defined]


def test_a_web_site_visitor_gets_a_cobrowse_session_from_the_visitors_panel(
    browser: object,
    sim: ScreenMeetSimHandle,
    tmp_path: Path,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
) -> None:
    from glance_helpers import API_KEY, API_KEY_ENV, glance_section, running_glance_sim

    expect = sync_api.expect
    with running_glance_sim() as glance:
        glance.arrive("4711", title="Pricing")
        providers = {"screenmeet": screenmeet_section(sim), "glance": glance_section(glance)}
        config = make_config(tmp_path, PEOPLE, None, providers=providers)
        server = dash_server(config, **{SM_PASSWORD_ENV: SM_PASSWORD, API_KEY_ENV: API_KEY})
        with open_page(browser) as page:
            page.goto(server.url + "/")
            visitor = page.locator('.visitor[data-visitor-id="4711"]')
            # visitors.js rebuilds the rows once after load (it fills in "for <1m"); a click
            # that straddles that rebuild lands on the list, not on the button.
            expect(visitor.locator(".visitor-since")).not_to_have_text("", timeout=15_000)
            visitor.locator(".sm-start").click()
            dialog = page.locator("#sm-dialog")
            expect(dialog.locator("#sm-person-name")).to_have_text("visitor 4711")
            expect(dialog.locator("#sm-type")).to_have_value("cobrowse")
            dialog.locator("#sm-record").fill("INC0000042")
            dialog.locator("#sm-submit").click()
            expect(dialog.locator("#sm-result")).to_be_visible(timeout=10_000)
            (vendor,) = sim.sessions().values()
            assert vendor["type"] == "cobrowse"
            expect(dialog.locator("#sm-user-url")).to_have_value(vendor["urls"]["user"])
