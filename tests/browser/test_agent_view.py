"""The agent view in headless Chromium, from the real templates, CSS and JS on fake data:
presence first and few Tab presses to the first person, one actions menu per card, the
connection-lost banner with provider pills that say unknown, search that answers each key
fast at 5,000 people, and no horizontal scrolling on a 390 px phone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fake_pages
import pytest
from browser_helpers import open_page
from fake_pages import person

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

PROVIDERS = {
    "servicenow": {"state": "ok", "last_success": fake_pages.SERVER_TIME, "error": None},
    "cisco": {"state": "degraded", "last_success": fake_pages.SERVER_TIME, "error": "timeout"},
}
FIRST = ["Ada", "Alan", "Grace", "Linus", "Bea", "Kay", "Zoë", "Émile", "Noor", "Ravi"]
LAST = ["Lovelace", "Turing", "Hopper", "Torvalds", "Okafor", "Nakamura", "Dubois", "Singh"]
STATUSES = ["online", "busy", "away", "offline", "online", "unknown"]


def floor(n: int, teams: int = 12) -> dict[str, Any]:
    """A snapshot of `n` people in `teams` teams with every status."""
    people = []
    for i in range(n):
        p = person(f"p{i:05d}", f"Team {i % teams:02d}", STATUSES[i % len(STATUSES)])
        p["name"] = f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]} {i}"
        people.append(p)
    return fake_pages.snapshot(people, PROVIDERS)


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    with open_page(browser, viewport={"width": 1440, "height": 900}) as page:
        yield page


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    with open_page(browser, viewport={"width": 390, "height": 844}, has_touch=True) as page:
        yield page


def tabs_to_first_person(page: Any, limit: int = 40) -> int:
    """Tab presses from page load until the focus is inside the first person card."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(
            "document.activeElement.closest('.person') === document.querySelector('.person')"
        ):
            return presses
    raise AssertionError(f"no person card after {limit} Tab presses")


def test_the_first_person_is_four_tab_presses_away_and_first_under_the_search(
    desktop: Any,
) -> None:
    fake_pages.open_view(desktop, "agent", floor(60))
    assert tabs_to_first_person(desktop) <= 4  # skip link, search, team, the first card
    # The people grid is the first thing under the search, above the fold at 1440x900.
    first = desktop.locator(".person").first.bounding_box()
    toolbar = desktop.locator("#filters").bounding_box()
    assert toolbar["y"] < first["y"] < 300, (toolbar, first)
    # One actions button per card, no ScreenMeet button on any card.
    expect(desktop.locator(".person .sm-start")).to_have_count(0)
    assert desktop.locator(".person .card-actions").count() == 60


def test_the_card_menu_opens_from_the_keyboard_and_gives_the_focus_back(desktop: Any) -> None:
    fake_pages.open_view(desktop, "agent", floor(12))
    button = desktop.locator('[data-person-id="p00001"] .card-actions')
    expect(button).to_have_attribute("aria-label", "Actions for Alan Lovelace 1")
    button.focus()
    desktop.keyboard.press("Enter")
    menu = desktop.locator("#card-menu")
    expect(menu).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    item = menu.get_by_role("menuitem", name="Show timeline")
    expect(item).to_be_focused()
    desktop.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")

    desktop.keyboard.press("ArrowDown")  # opens it too, on the first item
    expect(item).to_be_focused()
    desktop.keyboard.press("Enter")
    drawer = desktop.locator("#timeline")
    expect(drawer).to_be_visible()
    expect(drawer.locator("#timeline-title")).to_have_text("Alan Lovelace 1")


def _fire(page: Any, name: str, payload: Any = None) -> None:
    page.evaluate("([name, payload]) => window.fakeSocket.fire(name, payload)", [name, payload])


def test_a_dropped_connection_shows_the_banner_and_the_pills_say_unknown(desktop: Any) -> None:
    fake_pages.open_view(desktop, "agent", floor(12))
    banner = desktop.locator("#connection-banner")
    pills = desktop.locator("#provider-strip .provider-state")
    _fire(desktop, "connect")
    expect(banner).to_be_hidden()
    expect(pills).to_have_text(["Degraded", "OK"])

    _fire(desktop, "disconnect", "transport close")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Connection lost")
    expect(pills).to_have_text(["Unknown", "Unknown"])
    expect(desktop.locator("#provider-strip .provider-error").first).to_be_hidden()
    expect(desktop.locator("#connection-state")).to_have_text("Reconnecting…")
    # A providers event while down still says unknown: the page cannot vouch for it.
    _fire(desktop, "providers", {"servicenow": {"state": "down", "last_success": None}})
    expect(pills).to_have_text(["Unknown", "Unknown"])

    _fire(desktop, "connect")
    expect(banner).to_be_hidden()
    expect(pills).to_have_text(["Degraded", "Down"])


# Per key: from keydown to the filtered DOM (the input handlers have run: `hidden` is set on
# every card) and to the end of the next frame (style, layout and paint of the new list).
MEASURE_KEYS = """() => {
  window.__keys = [];
  const search = document.getElementById("search");
  let down = 0;
  window.addEventListener("keydown", () => { down = performance.now(); }, true);
  // Registered after the page's own input handler, so it runs after the filter did its work.
  search.addEventListener("input", () => {
    const dom = performance.now() - down;
    const shown = document.querySelectorAll("#people .person:not([hidden])").length;
    requestAnimationFrame(() => setTimeout(() => {
      window.__keys.push({ dom, frame: performance.now() - down, shown });
    }, 0));
  });
}"""


def test_search_answers_every_key_within_50_ms_at_5000_people(desktop: Any) -> None:
    fake_pages.open_view(desktop, "agent", floor(5000))
    # A person starts typing after the first paint has settled (two frames).
    desktop.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    desktop.evaluate(MEASURE_KEYS)
    search = desktop.locator("#search")
    search.focus()
    text = "ada lovelace 1"
    presses = [*text, *["Backspace"] * 4]
    # The same keys twice, and per key the better run: a test machine shared with other jobs
    # can stall any one task; the page's own cost shows in both runs.
    for i, key in enumerate(presses * 2):
        if i == len(presses):
            search.fill("")
            desktop.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")
            desktop.evaluate("window.__keys.length = 0")
        desktop.keyboard.press(key)
        desktop.wait_for_function("(n) => window.__keys.length > n", arg=i % len(presses))
        if i == len(presses) - 1:
            first = desktop.evaluate("window.__keys.slice()")
    second = desktop.evaluate("window.__keys")
    keys = [min(a, b, key=lambda k: k["dom"]) for a, b in zip(first, second, strict=True)]
    dom = [min(a["dom"], b["dom"]) for a, b in zip(first, second, strict=True)]
    frame = [min(a["frame"], b["frame"]) for a, b in zip(first, second, strict=True)]
    print(
        f"\nsearch at 5,000 people: keydown -> DOM max {max(dom):.1f} ms, "
        f"median {sorted(dom)[len(dom) // 2]:.1f} ms; -> next frame max {max(frame):.1f} ms, "
        f"median {sorted(frame)[len(frame) // 2]:.1f} ms"
    )
    assert max(dom) < 50, dom
    # The frame after it, with the layout of the new list: teams off the screen are skipped
    # (content-visibility), so it stays short too; the bound is loose for a loaded CI machine.
    assert sorted(frame)[len(frame) // 2] < 50 and max(frame) < 250, frame
    # "ada lovelace 1": Ada Lovelace 0, 80, 160 ... whose number contains a 1.
    expected = desktop.evaluate(
        """() => [...document.querySelectorAll('.person')].filter(n =>
             n.dataset.name.toLowerCase().includes('ada') &&
             n.dataset.name.toLowerCase().includes('lovelace') &&
             n.dataset.name.includes('1')).length"""
    )
    assert keys[len(text) - 1]["shown"] == expected > 0
    expect(desktop.locator("#result-count")).to_contain_text("of 5000 people")


def test_search_ignores_case_and_accents_and_hides_empty_teams(desktop: Any) -> None:
    fake_pages.open_view(desktop, "agent", floor(60, teams=3))
    desktop.locator("#search").fill("ZOE")
    shown = desktop.locator(".person:visible")
    expect(shown).to_have_count(6)
    assert all(
        name.startswith("Zoë") for name in shown.evaluate_all("n => n.map(e => e.dataset.name)")
    )
    desktop.locator("#search").fill("zoe dubois")  # nobody: every team goes
    expect(desktop.locator("section.team:visible")).to_have_count(0)
    expect(desktop.locator("#no-people")).to_be_visible()
    desktop.locator("#search").fill("")
    desktop.locator("#team-filter").select_option("Team 01")
    expect(desktop.locator("section.team:visible")).to_have_count(1)
    expect(desktop.locator(".person:visible")).to_have_count(20)


def _no_overflow(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"


def test_a_390_px_phone_never_scrolls_sideways(phone: Any) -> None:
    fake_pages.open_view(phone, "agent", floor(40))
    _no_overflow(phone)
    phone.locator(".person .card-actions").first.click()
    box = phone.locator("#card-menu").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    phone.keyboard.press("Escape")
    _fire(phone, "disconnect", "transport close")
    expect(phone.locator("#connection-banner")).to_be_visible()
    _no_overflow(phone)
    phone.locator(".person").first.click()
    drawer = phone.locator("#timeline")
    expect(drawer).to_be_visible()
    box = drawer.bounding_box()
    assert box["x"] >= 0 and box["width"] <= 390, box
    _no_overflow(phone)


# ---- The timeline drawer ----------------------------------------------------------------

HISTORY = {  # newest first, as GET /api/people/<id>/history answers
    "person_id": "p00000",
    "hours": 24,
    "changes": [
        {"from": "away", "to": "online", "at": "2026-11-23T09:00:00.000Z"},
        {"from": "busy", "to": "away", "at": "2026-11-23T06:00:00.000Z"},
        {"from": "offline", "to": "busy", "at": "2026-11-23T02:30:00.000Z"},
    ],
    "sources": {
        "servicenow": [
            {"from": "busy", "to": "online", "at": "2026-11-23T09:00:00.000Z"},
            {"from": "offline", "to": "busy", "at": "2026-11-23T05:00:00.000Z"},
            # the change in force when the window began (07:00 the day before)
            {"from": "unknown", "to": "offline", "at": "2026-11-22T08:00:00.000Z"},
        ],
        "cisco": [
            {"from": "busy", "to": "unknown", "at": "2026-11-23T07:00:00.000Z"},
            {
                "from": "unknown",
                "to": "busy",
                "at": "2026-11-23T04:00:00.000Z",
                "activity": "On the phone",
                "detail": "ONCALL",
            },
        ],
        # recorded once, but not a source Ada has now: no bar for it
        "teams": [{"from": "unknown", "to": "online", "at": "2026-11-23T08:00:00.000Z"}],
    },
}
for change in [c for changes in HISTORY["sources"].values() for c in changes]:
    change.setdefault("activity", None)
    change.setdefault("detail", None)

SEGMENTS = """(label) => [...document.querySelectorAll('#timeline .tl-bar')]
  .find(b => b.getAttribute('aria-label') === label)
  .querySelectorAll('.tl-seg')"""


def _three_sources() -> dict[str, Any]:
    """floor(12) with Ada on three sources: ServiceNow online, Cisco stale (unknown to the
    board) and Salesforce, which has no recorded change."""
    snap = floor(12)
    ada = snap["people"][0]
    seen = ada["sources"]["servicenow"]["observed_at"]
    ada["sources"] = {
        "cisco": {"status": "busy", "detail": None, "observed_at": seen, "stale": True},
        "salesforce": {"status": "online", "detail": None, "observed_at": seen, "stale": False},
        "servicenow": ada["sources"]["servicenow"],
    }
    for src in ada["sources"].values():
        src.setdefault("activity", None)
    return snap


def _segments(page: Any, label: str) -> list[dict[str, Any]]:
    return page.evaluate(
        f"(label) => [...({SEGMENTS})(label)].map(s => ({{status: s.dataset.status, "
        "left: parseFloat(s.style.left), width: parseFloat(s.style.width)}))",
        label,
    )


def _serve_history(page: Any, calls: list[str]) -> None:
    def answer(route: Any) -> None:
        calls.append(route.request.url)
        route.fulfill(json=HISTORY)

    page.route("**/api/people/*/history*", answer)


def test_the_timeline_opens_from_the_keyboard_with_the_history_and_gives_the_focus_back(
    desktop: Any,
) -> None:
    fake_pages.open_view(desktop, "agent", _three_sources())
    calls: list[str] = []
    _serve_history(desktop, calls)
    tabs_to_first_person(desktop)
    opener = desktop.locator('[data-person-id="p00000"] .person-open')
    expect(opener).to_be_focused()
    desktop.keyboard.press("Enter")
    drawer = desktop.get_by_role("dialog", name="Ada Lovelace 0")
    expect(drawer).to_be_visible()
    expect(drawer.locator(".drawer-close")).to_be_focused()
    expect(drawer.locator(".tl-chart")).to_have_attribute("data-loaded", "true")
    assert calls and calls[0].endswith("/api/people/p00000/history?hours=24")

    def hours(segs: list[dict[str, Any]]) -> list[float]:
        return [round(s["width"] * 24 / 100, 1) for s in segs]

    # 24 h before 10:00: offline until 02:30, busy until 06:00, away until 09:00, then online.
    segs = _segments(desktop, "All sources")
    assert [s["status"] for s in segs] == ["offline", "busy", "away", "online"]
    assert hours(segs)[:3] == [16.5, 3.5, 3.0] and 0.9 <= hours(segs)[3] <= 1.1, hours(segs)
    # One bar per source, from its recorded changes, in the providers' names.
    labels = desktop.evaluate(
        "() => [...document.querySelectorAll('#timeline .tl-bar')].map(b => b.ariaLabel)"
    )
    assert labels == ["All sources", "Cisco", "Salesforce", "ServiceNow"]
    # ServiceNow: offline from before the window (its change in force), busy 05:00-09:00.
    sn = _segments(desktop, "ServiceNow")
    assert [s["status"] for s in sn] == ["offline", "busy", "online"]
    assert hours(sn)[:2] == [19.0, 4.0], hours(sn)
    # Cisco: not known before its first record, busy on the phone, then stale (unknown).
    cisco = _segments(desktop, "Cisco")
    assert [s["status"] for s in cisco] == ["none", "busy", "unknown"]
    assert hours(cisco)[:2] == [18.0, 3.0], hours(cisco)
    words = desktop.evaluate(
        f"() => [...({SEGMENTS})('Cisco')].map(s => s.querySelector('.sr-only').textContent)"
    )
    assert words[0].startswith("Not known ") and words[1].startswith("Busy (On the phone) ")
    assert words[2].startswith("Unknown "), words
    # Salesforce has no record: what the page saw since it opened, not known before.
    assert [s["status"] for s in _segments(desktop, "Salesforce")] == ["none", "online"]
    expect(drawer.locator(".tl-note")).to_contain_text("No change is recorded for Salesforce")
    expect(drawer.locator(".tl-changes li").first).to_contain_text("Away → Online")
    # The segments have the dots' colours: busy is the dots' red.
    colours = desktop.evaluate(
        """() => ['busy', 'online'].map(s => {
          const q = (sel) => document.querySelector(sel);
          const seg = getComputedStyle(q(`#timeline .tl-seg[data-status=${s}]`));
          const dot = document.querySelector(`.person[data-status=${s}] > .dot`);
          return [seg.backgroundImage + seg.backgroundColor, getComputedStyle(dot).backgroundColor];
        })"""
    )
    for seg_look, dot_colour in colours:
        assert dot_colour in seg_look, (seg_look, dot_colour)

    desktop.keyboard.press("Tab")  # the focus stays in the dialog
    assert desktop.evaluate("document.getElementById('timeline').contains(document.activeElement)")
    desktop.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(opener).to_be_focused()

    desktop.keyboard.press(" ")  # Space opens it too
    expect(drawer).to_be_visible()
    drawer.locator(".drawer-close").click()
    expect(drawer).to_be_hidden()
    expect(opener).to_be_focused()


def test_the_open_timeline_grows_with_live_presence_batches(desktop: Any) -> None:
    snap = _three_sources()
    fake_pages.open_view(desktop, "agent", snap)
    _serve_history(desktop, [])
    desktop.locator('[data-person-id="p00000"]').click()  # a click anywhere on the card
    drawer = desktop.locator("#timeline")
    expect(drawer.locator(".tl-chart")).to_have_attribute("data-loaded", "true")
    ada = dict(snap["people"][0])
    now = desktop.evaluate("new Date(Date.parse('2026-11-23T10:00:00.000Z') + 1000).toISOString()")
    sources = ada["sources"]
    _fire(
        desktop,
        "presence",
        {
            "seq": 18,
            "changes": [
                ada
                | {
                    "status": "busy",
                    "since": now,
                    "activity": "In a meeting",
                    "sources": sources
                    | {
                        "servicenow": sources["servicenow"]
                        | {"status": "busy", "activity": "In a meeting"},
                        "cisco": sources["cisco"] | {"stale": False},  # fresh again: busy
                    },
                }
            ],
        },
    )
    expect(drawer.locator(".drawer-status")).to_contain_text("Busy · In a meeting")
    desktop.wait_for_function(
        f"() => [...({SEGMENTS})('All sources')].map(s => s.dataset.status).join() "
        "=== 'offline,busy,away,online,busy'"
    )
    # Each source's bar goes on from its recorded changes with what the batch said.
    sn = _segments(desktop, "ServiceNow")
    assert [s["status"] for s in sn] == ["offline", "busy", "online", "busy"]
    assert [s["status"] for s in _segments(desktop, "Cisco")] == ["none", "busy", "unknown", "busy"]
    assert [s["status"] for s in _segments(desktop, "Salesforce")] == ["none", "online"]
    last = desktop.evaluate(
        f"() => [...({SEGMENTS})('ServiceNow')].pop().querySelector('.sr-only').textContent"
    )
    assert last.startswith("Busy (In a meeting) "), last
    expect(drawer.locator(".tl-changes li").first).to_contain_text("Online → Busy")
    # "Last hour" zooms in, on every bar.
    drawer.get_by_role("button", name="Last hour").click()
    expect(drawer.get_by_role("button", name="Last hour")).to_have_attribute("aria-pressed", "true")
    zoomed = _segments(desktop, "All sources")
    assert [s["status"] for s in zoomed] == ["online", "busy"]
    assert [s["status"] for s in _segments(desktop, "ServiceNow")] == ["online", "busy"]
    assert [s["status"] for s in _segments(desktop, "Cisco")] == ["unknown", "busy"]
