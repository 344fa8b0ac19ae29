"""Person cards in headless Chromium, from the real templates, CSS and JS on fake data: busy has
its own colour, shape, word and count; the activity is on the card at every wall density and
in its text; a `since` that is only first-seen says "at least"; live changes re-render."""

from __future__ import annotations

import re
from typing import Any

import fake_pages
import pytest
from fake_pages import person

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

CISCO_BUSY = {
    "cisco": {
        "status": "busy",
        "detail": "on-the-phone",
        "observed_at": "2026-11-23T09:59:58.000Z",
        "stale": False,
        "activity": "On the phone",
    }
}
SNAPSHOT = fake_pages.snapshot(
    [
        person("ada", "Service Desk", "online"),
        person(
            "bea",
            "Service Desk",
            "busy",
            activity="On the phone",
            activity_source="cisco",
            since_exact=False,
            sources=CISCO_BUSY,
        ),
        person("grace", "Service Desk", "away", activity="Away", activity_source="cisco"),
        person("alan", "Field", "offline"),
        person("kay", "Field", "online", since_exact=False) | {"since": "2026-11-23T09:59:40.000Z"},
        person("linus", "Field", "unknown"),
    ]
)
# Both views' words for an hour in state, exact and first-seen only.
SINCE_WORDS = {"agent": ("for 1h", "for at least 1h"), "wall": ("1h", "≥1h")}

# What makes a dot look like itself: its colour and its glyph (the two pseudo-elements).
DOT_LOOK = """(pid) => {
  const dot = document.querySelector(`[data-person-id="${pid}"] > .dot`);
  const style = getComputedStyle(dot);
  const glyph = (pseudo) => {
    const s = getComputedStyle(dot, pseudo);
    return [s.content, s.transform, s.width, s.height, s.backgroundColor, s.borderRightWidth];
  };
  const filled = style.backgroundColor !== "rgba(0, 0, 0, 0)";
  return {
    colour: filled ? style.backgroundColor : style.borderTopColor,
    shape: JSON.stringify([filled, style.borderTopWidth, glyph("::before"), glyph("::after")]),
    cardBorder: getComputedStyle(dot.parentElement).borderLeftColor,
  };
}"""


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", css)[:3])


@pytest.mark.parametrize("view", ["agent", "wall"])
def test_busy_has_its_own_red_dot_shape_word_and_card_border(page: Any, view: str) -> None:
    fake_pages.open_view(page, view, SNAPSHOT)
    looks = {pid: page.evaluate(DOT_LOOK, pid) for pid in ["ada", "bea", "grace", "alan", "linus"]}
    busy = looks["bea"]
    red, green, blue = _rgb(busy["colour"])
    assert red > 1.5 * green and red > 1.3 * blue, busy["colour"]  # a red, not orange or pink
    assert busy["colour"] not in {looks[p]["colour"] for p in ["ada", "grace", "alan"]}
    assert len({look["shape"] for look in looks.values()}) == 5, "two statuses share a shape"
    assert busy["cardBorder"] == busy["colour"]
    expect(page.locator('[data-person-id="bea"] .status-text')).to_have_text("Busy")


@pytest.mark.parametrize("view", ["agent", "wall"])
def test_busy_is_counted_between_online_and_away(page: Any, view: str) -> None:
    fake_pages.open_view(page, view, SNAPSHOT)
    counts = page.locator('[data-team="Service Desk"] .team-counts').first
    order = counts.locator(".count").evaluate_all("items => items.map(i => i.dataset.status)")
    assert order == ["online", "busy", "away", "offline", "unknown"]
    busy = counts.locator('.count[data-status="busy"]')
    expect(busy).to_be_visible()
    expect(busy.locator(".count-n")).to_have_text("1")
    expect(busy.locator(".count-word")).to_have_text("busy")


@pytest.mark.parametrize("view", ["agent", "wall"])
def test_card_shows_the_activity_not_the_raw_state_and_says_at_least(page: Any, view: str) -> None:
    fake_pages.open_view(page, view, SNAPSHOT)
    card = page.locator('[data-person-id="bea"]')
    expect(card.locator(".activity")).to_have_text("On the phone")
    expect(card.locator(".activity")).to_be_visible()
    expect(card.locator(".activity")).to_have_attribute("data-activity-source", "cisco")
    exact, at_least = SINCE_WORDS[view]
    expect(card.locator(".since")).to_have_text(at_least)
    expect(page.locator('[data-person-id="ada"] .since')).to_have_text(exact)
    text = card.inner_text()
    assert "Busy" in text and "On the phone" in text and at_least in text, text
    assert "on-the-phone" not in text  # the vendor's raw state is for the source badge's title


@pytest.mark.parametrize("view", ["agent", "wall"])
def test_card_claims_nothing_it_cannot_say_more_of(page: Any, view: str) -> None:
    fake_pages.open_view(page, view, SNAPSHOT)
    # An activity that only repeats the status word is not shown twice.
    expect(page.locator('[data-person-id="grace"] .activity')).to_have_text("")
    # First seen 20 s ago: "at least <1m" would say nothing, so the time waits for a minute.
    expect(page.locator('[data-person-id="kay"] .since')).to_have_text("")
    expect(page.locator('[data-person-id="kay"] .since')).to_be_hidden()


def test_agent_source_badge_shows_the_source_activity(page: Any) -> None:
    fake_pages.open_view(page, "agent", SNAPSHOT)
    badge = page.locator('[data-person-id="bea"] .source[data-source="cisco"]')
    assert " ".join(badge.inner_text().split()) == "Cisco busy On the phone"
    expect(badge).to_have_attribute("title", "Cisco: busy · On the phone (on-the-phone)")


# The activity and the name, measured in the same task as the density is set, so wall.js's
# fit() cannot step in between.
MEASURE_AT = """([pid, density]) => {
  document.getElementById("people").dataset.density = density;
  const card = document.querySelector(`[data-person-id="${pid}"]`);
  const box = (el) => {
    const r = el.getBoundingClientRect();
    const c = card.getBoundingClientRect();
    const inside = r.left >= c.left - 1 && r.right <= c.right + 1 && r.top >= c.top - 1
      && r.bottom <= c.bottom + 1;
    return { display: getComputedStyle(el).display, width: r.width, height: r.height, inside };
  };
  return {
    name: box(card.querySelector(".name")),
    activity: box(card.querySelector(".activity")),
    fontPx: parseFloat(getComputedStyle(card.querySelector(".activity")).fontSize),
    text: card.innerText,
  };
}"""


@pytest.mark.parametrize("density", ["large", "normal"])  # wall.css sizes
def test_wall_shows_the_activity_wherever_it_shows_the_name(page: Any, density: str) -> None:
    fake_pages.open_view(page, "wall", SNAPSHOT)
    seen = page.evaluate(MEASURE_AT, ["bea", density])
    for part in ("name", "activity"):
        assert seen[part]["display"] != "none", (part, seen)
        assert seen[part]["width"] > 20 and seen[part]["height"] >= 8, (part, seen)
        assert seen[part]["inside"], (part, seen)
    assert seen["fontPx"] >= 10, seen
    # Whatever gives way on the screen stays in the card's text.
    assert "Busy" in seen["text"] and "On the phone" in seen["text"], seen["text"]


def test_crowded_wall_keeps_activities_on_its_paged_cards(page: Any) -> None:
    people = [
        person(f"p{i:03d}", f"Team {i % 4}", "busy" if i % 3 == 0 else "online") for i in range(400)
    ]
    people[0] = person("bea", "Team 0", "busy", activity="In a meeting", activity_source="cisco")
    fake_pages.open_view(page, "wall", fake_pages.snapshot(people))
    # The wall pages at its smallest readable size instead of shrinking the cards further.
    assert page.locator("#people").get_attribute("data-density") == "normal"
    expect(page.locator("#page-indicator")).to_be_visible()
    activity = page.locator('[data-person-id="bea"] .activity')
    expect(activity).to_be_visible()
    expect(activity).to_have_text("In a meeting")
    expect(page.locator('[data-person-id="bea"] .name')).to_be_visible()


def _push(page: Any, seq: int, *changes: dict) -> None:
    page.evaluate(
        "([seq, changes]) => window.fakeSocket.fire('presence', {seq, changes})",
        [seq, list(changes)],
    )


@pytest.mark.parametrize("view", ["agent", "wall"])
def test_live_changes_of_activity_and_since_exactness_are_rendered(page: Any, view: str) -> None:
    fake_pages.open_view(page, view, SNAPSHOT)
    exact, at_least = SINCE_WORDS[view]
    card = page.locator('[data-person-id="ada"]')
    busy_count = page.locator(
        '[data-team="Service Desk"] .team-counts .count[data-status="busy"] .count-n'
    ).first

    ada = person(
        "ada", "Service Desk", "busy", activity="In a meeting", activity_source="cisco"
    ) | {"since_exact": False}
    _push(page, 18, ada)
    expect(card).to_have_attribute("data-status", "busy")
    expect(card.locator(".status-text")).to_have_text("Busy")
    expect(card.locator(".activity")).to_have_text("In a meeting")
    expect(card.locator(".activity")).to_have_attribute("title", "Reported by Cisco")
    expect(card.locator(".since")).to_have_text(at_least)
    expect(busy_count).to_have_text("2")

    _push(page, 19, ada | {"activity": "On the phone"})  # the status alone did not change
    expect(card.locator(".activity")).to_have_text("On the phone")
    _push(page, 20, ada | {"activity": "On the phone", "since_exact": True})
    expect(card.locator(".since")).to_have_text(exact)
    _push(page, 21, ada | {"activity": None, "activity_source": None, "since_exact": True})
    expect(card.locator(".activity")).to_have_text("")
    expect(card.locator(".activity")).to_be_hidden()
    expect(card.locator(".activity")).not_to_have_attribute("title", re.compile("."))

    # Someone new is built by static/js/dom.js: the same markup as the template's.
    zoe = person("zoe", "Service Desk", "busy", activity="Presenting", activity_source="cisco") | {
        "since_exact": False
    }
    _push(page, 22, zoe)
    new = page.locator('[data-person-id="zoe"]')
    expect(new.locator(".status-text")).to_have_text("Busy")
    expect(new.locator(".activity")).to_have_text("Presenting")
    expect(new.locator(".activity")).to_be_visible()
    expect(new.locator(".since")).to_have_text(at_least)
    expect(new.locator(".since")).to_have_attribute("data-since-exact", "false")
    expect(busy_count).to_have_text("3")
