"""The wall never hides people silently: at a readable size (names >= 28 px at 1080p, scaled
with the screen) it pages whole team sections, says "Page 2 of 7", and every person is on
some page; ?view=summary, ?team=A&team=B and ?sort=state."""

from __future__ import annotations

from typing import Any

import fake_pages
import pytest
from browser_helpers import open_page
from wall_floor import floor

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

MIN_NAME_PX_AT_1080 = 28
RANK = {"busy": 0, "away": 1, "online": 2, "offline": 3, "unknown": 4}

PAGE_STATE = """() => {
  const main = document.getElementById("people").getBoundingClientRect();
  const cards = [...document.querySelectorAll("#people .person")];
  return {
    ids: cards.map((c) => c.dataset.personId),
    outside: cards.filter((c) => {
      const r = c.getBoundingClientRect();
      return r.bottom > main.bottom + 0.5 || r.right > main.right + 0.5 || r.height < 1;
    }).length,
    headings: [...document.querySelectorAll("#people .team-name")].map((h) => h.textContent),
    n: document.querySelector("#page-indicator .page-n").textContent,
    total: document.querySelector("#page-indicator .page-total").textContent,
    indicatorShown: !document.getElementById("page-indicator").hidden,
  };
}"""


def _pages(page: Any) -> list[dict]:
    """Every page, stepped through with the arrow key, back to page 1."""
    first = page.evaluate(PAGE_STATE)
    seen = [first]
    for _ in range(int(first["total"]) - 1):
        before = seen[-1]["n"]
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            f"document.querySelector('#page-indicator .page-n').textContent !== '{before}'"
        )
        seen.append(page.evaluate(PAGE_STATE))
    return seen


def test_600_people_at_720p_are_all_on_some_page_and_the_indicator_counts(browser: Any) -> None:
    people = floor(600)
    with open_page(browser, viewport={"width": 1280, "height": 720}) as page:
        fake_pages.open_view(page, "wall", fake_pages.snapshot(people), query={"rotate": "0"})
        pages = _pages(page)
        indicator = page.locator("#page-indicator")
        expect(indicator).to_be_visible()
        total = len(pages)
        assert total > 5, total
        for i, state in enumerate(pages, 1):
            assert state["indicatorShown"]
            assert (state["n"], state["total"]) == (str(i), str(total))
            assert state["ids"], f"page {i} is empty"
            assert state["outside"] == 0, f"page {i}: cards cut off at the screen's edge"
        shown = [pid for state in pages for pid in state["ids"]]
        assert sorted(shown) == sorted(p["id"] for p in people)  # everyone, once
        assert len(shown) == len(set(shown))
        # 120 people a team do not fit on one page: the next page says it continues.
        assert any(h.endswith("(cont.)") for state in pages for h in state["headings"])
        expect(indicator).to_contain_text(f"Page {total} of {total}")
        expect(indicator).to_contain_text(f"of {len(people)}")


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_names_are_readable_from_across_the_room(browser: Any, size: tuple[int, int]) -> None:
    width, height = size
    with open_page(browser, viewport={"width": width, "height": height}) as page:
        fake_pages.open_view(page, "wall", fake_pages.snapshot(floor(600)))
        sizes = page.eval_on_selector_all(
            "#people .person .name", "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))"
        )
        # The same size on the glass: 28 px of a 1080-line screen, scaled to this one.
        minimum = MIN_NAME_PX_AT_1080 * height / 1080
        assert sizes and min(sizes) >= minimum - 0.01, (min(sizes), minimum)
        status = page.locator("#people .person .status-line").first
        expect(status).to_be_visible()


def test_a_small_floor_fits_on_one_page_without_an_indicator(page: Any) -> None:
    fake_pages.open_view(page, "wall", fake_pages.snapshot(floor(20)))
    expect(page.locator("#people .person")).to_have_count(20)
    expect(page.locator("#page-indicator")).to_be_hidden()
    assert page.locator("#people").get_attribute("data-density") == "large"


def test_summary_view_shows_team_tiles_only(page: Any) -> None:
    people = floor(300)
    fake_pages.open_view(page, "wall", fake_pages.snapshot(people), query={"view": "summary"})
    expect(page.locator(".person")).to_have_count(0)
    tiles = page.locator(".team-summary")
    expect(tiles).to_have_count(5)
    billing = page.locator('.team-summary[data-team="Billing"]')
    online = sum(1 for p in people if p["team"] == "Billing" and p["status"] == "online")
    expect(billing.locator('.count[data-status="online"] .count-n')).to_have_text(str(online))
    expect(billing.locator('.count[data-status="online"] .count-word')).to_be_visible()
    expect(page.locator("#page-indicator")).to_be_hidden()


def test_several_teams_filter_the_tiles_and_the_cards(page: Any) -> None:
    people = floor(100)
    query = {"team": ["Sales", "Field"]}
    fake_pages.open_view(page, "wall", fake_pages.snapshot(people), query=query)
    tiles = page.locator(".team-summary").evaluate_all("ts => ts.map(t => t.dataset.team)")
    assert tiles == ["Field", "Sales"]
    teams = set(page.locator("#people .person").evaluate_all("cs => cs.map(c => c.dataset.team)"))
    assert teams == {"Field", "Sales"}
    expect(page.locator("#people .person")).to_have_count(40)
    expect(page.locator("h1.title")).to_have_text("Sales · Field")
    # A live change for a team not asked for does not appear.
    other = dict(people[0], status="busy")  # Billing
    fake_pages.fire(page, "presence", {"seq": 18, "changes": [other]})
    expect(page.locator(f'[data-person-id="{other["id"]}"]')).to_have_count(0)


def test_sort_by_state_puts_busy_then_away_first_longest_first(page: Any) -> None:
    people = floor(35, teams=("Service Desk",))
    fake_pages.open_view(page, "wall", fake_pages.snapshot(people), query={"sort": "state"})
    ids = page.locator("#people .person").evaluate_all("cs => cs.map(c => c.dataset.personId)")
    by_id = {p["id"]: p for p in people}
    keys = [(RANK[by_id[i]["status"]], by_id[i]["since"]) for i in ids]
    assert keys == sorted(keys), keys
    assert by_id[ids[0]]["status"] == "busy"
    assert len(ids) == 35
