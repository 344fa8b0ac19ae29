"""The agent view at a big floor in headless Chromium, on fake data: the server renders the
first screenful and says the others are loading, the socket's snapshot then brings everyone
in one pass (in name order, the focus kept, no team twice in the select), a later arrival
sorts in; and the keyboard gets past thousands of cards ("Skip to search", "/")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import fake_pages
import pytest
from browser_helpers import open_page
from fake_pages import fire
from test_accessibility import assert_accessible, axe_page, axe_source  # noqa: F401
from test_agent_view import floor

from presence_dash.web.agent_plan import FIRST_PAGE_PEOPLE, name_key

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

PEOPLE = 1000  # in 12 teams: the first page is part of the first two


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    with open_page(browser, viewport={"width": 1440, "height": 900}) as page:
        yield page


CARD_ORDER = """() => [...document.querySelectorAll('#people section.team')].map(s =>
  [s.dataset.team, [...s.querySelectorAll('.person')].map(n => n.dataset.name)])"""


def _collated(names: list[str]) -> list[str]:
    """Names in the page's order (Intl.Collator: accents and case aside, numbers as numbers)."""
    return sorted(names, key=name_key)


def test_the_first_paint_says_who_is_still_loading_and_the_snapshot_brings_everyone(
    desktop: Any,
) -> None:
    snap = floor(PEOPLE)
    fake_pages.open_view(desktop, "agent", snap, connect=False)
    cards = desktop.locator("#people .person")
    expect(cards).to_have_count(FIRST_PAGE_PEOPLE)
    count = desktop.locator("#result-count")
    expect(count).to_have_text(f"Showing {FIRST_PAGE_PEOPLE} of {PEOPLE} people, loading the rest…")
    note = desktop.locator("#people-loading")
    expect(note).to_be_visible()
    expect(note).to_contain_text(f"Loading the other {PEOPLE - FIRST_PAGE_PEOPLE} people")
    expect(desktop.locator("#no-people")).to_be_hidden()
    embedded = json.loads(desktop.locator("#initial-snapshot").text_content())
    assert embedded["partial"] is True and embedded["total"] == PEOPLE
    assert len(embedded["people"]) == FIRST_PAGE_PEOPLE  # the rest comes once, by socket
    # Counts in the team headers are everyone's from the start.
    team00 = [p for p in snap["people"] if p["team"] == "Team 00"]
    online = sum(p["status"] == "online" for p in team00)
    head = desktop.locator('section[data-team="Team 00"] .count[data-status="online"] .count-n')
    expect(head).to_have_text(str(online))

    # Someone tabs into the first card before the snapshot arrives: it keeps the focus.
    first = desktop.locator("#people .person-open").first
    first.focus()
    fire(desktop, "connect", None)
    fire(desktop, "snapshot", snap)
    expect(cards).to_have_count(PEOPLE)
    expect(note).to_be_hidden()
    expect(count).to_have_text(f"{PEOPLE} people")
    expect(first).to_be_focused()
    order = desktop.evaluate(CARD_ORDER)
    assert [team for team, _ in order] == [f"Team {i:02d}" for i in range(12)]
    by_team: dict[str, list[str]] = {}
    for p in snap["people"]:
        by_team.setdefault(p["team"], []).append(p["name"])
    for team, names in order:
        assert names == _collated(by_team[team]), team
    options = desktop.locator("#team-filter option").all_text_contents()
    assert options == ["All teams", *[f"Team {i:02d}" for i in range(12)]]

    # A person who joins later is one sorted insert among the others.
    newcomer = fake_pages.person("p-new", "Team 03", "busy") | {"name": "Aaron Aardvark"}
    fire(desktop, "presence", {"seq": snap["seq"] + 1, "changes": [newcomer]})
    expect(cards).to_have_count(PEOPLE + 1)
    names = desktop.locator('section[data-team="Team 03"] .person').evaluate_all(
        "ns => ns.map(n => n.dataset.name)"
    )
    assert names[0] == "Aaron Aardvark" and names[1:] == _collated(by_team["Team 03"])


def test_a_search_before_the_snapshot_says_more_people_are_coming(desktop: Any) -> None:
    snap = floor(PEOPLE)
    fake_pages.open_view(desktop, "agent", snap, connect=False)
    desktop.locator("#search").fill("ada")
    rest = PEOPLE - FIRST_PAGE_PEOPLE
    expect(desktop.locator("#result-count")).to_contain_text(
        f"found so far, loading the other {rest} people"
    )
    fire(desktop, "connect", None)
    fire(desktop, "snapshot", snap)
    expect(desktop.locator("#people-loading")).to_be_hidden()
    ada = sum("ada" in p["name"].lower() for p in snap["people"])
    expect(desktop.locator("#result-count")).to_have_text(f"{ada} of {PEOPLE} people")
    expect(desktop.locator("#people .person:visible")).to_have_count(ada)


def test_a_chosen_team_renders_its_own_people_first(desktop: Any) -> None:
    snap = floor(PEOPLE)
    fake_pages.open_view(desktop, "agent", snap, team_filter="Team 07", connect=False)
    teams = desktop.locator("#people section.team").evaluate_all("s => s.map(e => e.dataset.team)")
    assert teams == ["Team 07"]
    expect(desktop.locator("#people .person:visible")).to_have_count(
        sum(p["team"] == "Team 07" for p in snap["people"])
    )


def test_skip_to_search_is_the_first_tab_stop_and_slash_goes_to_the_search(
    axe_page: Any,  # noqa: F811
) -> None:
    fake_pages.open_view(axe_page, "agent", floor(300))
    skip = axe_page.locator(".skip-link")
    expect(skip).not_to_be_in_viewport()
    axe_page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # visible while it has the focus
    assert_accessible(axe_page, "the agent view with the skip link focused")
    axe_page.keyboard.press("Enter")
    search = axe_page.locator("#search")
    expect(search).to_be_focused()

    # Deep in the cards, "/" comes back to the search (and selects what was typed).
    search.fill("ada")
    card = axe_page.locator("#people .person:not([hidden]) .person-open").nth(5)
    card.focus()
    expect(card).to_be_focused()
    axe_page.keyboard.press("/")
    expect(search).to_be_focused()
    assert axe_page.evaluate("[search.selectionStart, search.selectionEnd]") == [0, 3]
    # Typed into a field, "/" is a character, not the shortcut.
    axe_page.keyboard.press("End")
    axe_page.keyboard.type("/x")
    expect(search).to_have_value("ada/x")
    # Not while the timeline drawer has the focus: it keeps it.
    axe_page.route("**/api/people/*/history*", lambda r: r.fulfill(json={"changes": []}))
    search.fill("")
    card.click()
    drawer = axe_page.locator("#timeline")
    expect(drawer).to_be_visible()
    axe_page.keyboard.press("/")
    assert axe_page.evaluate("document.getElementById('timeline').contains(document.activeElement)")


BLOCKS = """() => [...document.querySelectorAll('#people section.team')].map(s =>
  [s.dataset.team, [...s.querySelectorAll('.people-block')].map(b => b.childElementCount)])"""


def test_a_team_lists_its_people_in_full_blocks_and_a_search_hides_the_empty_ones(
    desktop: Any,
) -> None:
    snap = floor(PEOPLE)
    fake_pages.open_view(desktop, "agent", snap, connect=False)
    per_block = int(desktop.locator("#people").get_attribute("data-block"))
    fire(desktop, "connect", None)
    fire(desktop, "snapshot", snap)
    cards = desktop.locator("#people .person")
    expect(cards).to_have_count(PEOPLE)

    def assert_blocks_full() -> None:
        # Only a team's last block may be short: no short row in the middle of a team.
        for team, sizes in desktop.evaluate(BLOCKS):
            assert sizes and all(n == per_block for n in sizes[:-1]), (team, sizes)
            assert 0 < sizes[-1] <= per_block, (team, sizes)

    assert_blocks_full()
    team03 = [p for p in snap["people"] if p["team"] == "Team 03"]
    assert len(team03) > per_block  # the moves below cross a block boundary

    # One arrival at the front of a team, one person moving to another team, and one
    # leaving: the blocks stay full and the names in order across them.
    newcomer = fake_pages.person("p-new", "Team 03", "busy") | {"name": "Aaron Aardvark"}
    mover = team03[-1] | {"team": "Team 04"}
    fire(desktop, "presence", {"seq": snap["seq"] + 1, "changes": [newcomer, mover]})
    expect(desktop.locator('section[data-team="Team 04"] .person')).to_have_count(
        sum(p["team"] == "Team 04" for p in snap["people"]) + 1
    )
    assert_blocks_full()
    gone = team03[0]
    people = [p for p in snap["people"] if p["id"] != gone["id"]]
    people = [mover if p["id"] == mover["id"] else p for p in people] + [newcomer]
    fire(desktop, "snapshot", snap | {"seq": snap["seq"] + 2, "people": people})
    expect(cards).to_have_count(PEOPLE)
    assert_blocks_full()
    names = desktop.locator('section[data-team="Team 03"] .person').evaluate_all(
        "ns => ns.map(n => n.dataset.name)"
    )
    assert names == _collated([p["name"] for p in people if p["team"] == "Team 03"])

    # A search hides the blocks with nobody shown (they would keep their placeholder height).
    desktop.locator("#search").fill(newcomer["name"])
    expect(desktop.locator("#people .person:visible")).to_have_count(1)
    expect(desktop.locator("#people .people-block:visible")).to_have_count(1)
    desktop.locator("#search").fill("")
    expect(desktop.locator("#people .people-block:visible")).to_have_count(
        sum(len(sizes) for _, sizes in desktop.evaluate(BLOCKS))
    )
