"""The wall half of alerts and freshness: a team below its minimum turns its tile to the
alert colour with the reason, a person over the away limit is flagged with an icon and
words, "data as of" follows the server time of each batch, and ?sound=1 asks for a click."""

from __future__ import annotations

import re
from typing import Any

import fake_pages
import pytest
from fake_pages import person
from wall_floor import alerts_body

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

PEOPLE = [
    person("ada", "Service Desk", "online"),
    person("bea", "Service Desk", "away"),
    person("cy", "Service Desk", "offline"),
    person("dan", "Field", "online"),
    person("eve", "Field", "online"),
]
SHORT = alerts_body(
    [
        {
            "id": "team:Service Desk:below_minimum",
            "kind": "below_minimum",
            "team": "Service Desk",
            "person_id": None,
            "since": fake_pages.SINCE,
            "value": 1,
            "threshold": 2,
            "message": "Service Desk: 1 online, minimum 2",
        },
        {
            "id": "person:bea:away_too_long",
            "kind": "away_too_long",
            "team": "Service Desk",
            "person_id": "bea",
            "since": fake_pages.SINCE,
            "value": 60,
            "threshold": 15,
            "message": "Bea: away 60 min, limit 15",
        },
    ],
    {
        "Service Desk": {"min_online": 2, "max_away_minutes": 15, "online": 1, "short": True},
        "Field": {"min_online": 2, "online": 2},
    },
)


def _colour(locator: Any) -> str:
    return locator.evaluate("el => getComputedStyle(el).backgroundColor")


def test_a_team_below_its_minimum_shows_the_alert_and_clears_live(page: Any) -> None:
    fake_pages.open_view(page, "wall", fake_pages.snapshot(PEOPLE), alerts=SHORT)
    desk = page.locator('.team-summary[data-team="Service Desk"]')
    field = page.locator('.team-summary[data-team="Field"]')
    expect(desk).to_have_attribute("data-short", "true")
    expect(desk.locator(".team-alert")).to_be_visible()
    expect(desk.locator(".team-alert")).to_have_text("Below min")
    expect(desk.locator(".staffing")).to_have_text(re.compile(r"online\s+1\s+/\s+min\s+2"))
    expect(desk.locator(".staffing")).to_have_attribute(
        "title", "Service Desk: 1 online, minimum 2"
    )
    expect(field.locator(".staffing")).to_have_text(re.compile(r"online\s+2\s+/\s+min\s+2"))
    expect(field.locator(".team-alert")).to_be_hidden()
    assert _colour(desk) != _colour(field)  # and words and an icon, not colour alone
    # "Below min" has a line kept for it: a team turning short moves nothing on the page.
    height = desk.evaluate("el => el.getBoundingClientRect().height")
    assert field.evaluate("el => el.getBoundingClientRect().height") == height

    # Cy comes online: two online, the tile is no longer short.
    fake_pages.fire(
        page, "presence", {"seq": 18, "changes": [person("cy", "Service Desk", "online")]}
    )
    expect(desk).not_to_have_attribute("data-short", "true")
    expect(desk.locator(".team-alert")).to_be_hidden()
    expect(desk.locator(".staffing-n")).to_have_text("2")
    assert desk.evaluate("el => el.getBoundingClientRect().height") == height


def test_a_person_over_the_away_limit_is_flagged_with_an_icon_and_words(page: Any) -> None:
    fake_pages.open_view(page, "wall", fake_pages.snapshot(PEOPLE), alerts=SHORT)
    bea = page.locator('[data-person-id="bea"]')
    expect(bea).to_have_attribute("data-flagged", "away_too_long")
    flag = bea.locator(".flag")
    expect(flag).to_be_visible()
    expect(flag).to_have_text("Away over 15m")
    expect(flag.locator(".flag-icon")).to_be_visible()
    expect(page.locator('[data-person-id="ada"] .flag')).to_have_count(0)
    # Back from away: the flag goes with the state, before the server's next alerts event.
    fake_pages.fire(
        page, "presence", {"seq": 18, "changes": [person("bea", "Service Desk", "online")]}
    )
    expect(bea.locator(".flag")).to_have_count(0)
    expect(bea).not_to_have_attribute("data-flagged", "away_too_long")


def test_alerts_arriving_later_flag_the_card(page: Any) -> None:
    fake_pages.open_view(page, "wall", fake_pages.snapshot(PEOPLE))
    expect(page.locator('[data-person-id="bea"] .flag')).to_have_count(0)
    fake_pages.fire(page, "alerts", SHORT)
    expect(page.locator('[data-person-id="bea"] .flag')).to_have_text("Away over 15m")
    expect(page.locator('.team-summary[data-team="Service Desk"]')).to_have_attribute(
        "data-short", "true"
    )


def test_data_as_of_follows_the_server_time_of_each_batch(page: Any) -> None:
    fake_pages.open_view(page, "wall", fake_pages.snapshot(PEOPLE))
    as_of = page.locator("#data-as-of")
    expect(as_of).to_contain_text("Data as of")
    expect(as_of).to_contain_text(re.compile(r"\d+ s ago"))
    before = as_of.locator(".as-of-time").get_attribute("datetime")
    assert before == "2026-11-23T10:00:00.000Z"
    batch = {
        "seq": 18,
        "server_time": "2026-11-23T10:00:07.000Z",
        "changes": [person("ada", "Service Desk", "busy")],
    }
    fake_pages.fire(page, "presence", batch)
    expect(as_of.locator(".as-of-time")).to_have_attribute("datetime", "2026-11-23T10:00:07.000Z")
    expect(page.locator('[data-person-id="ada"]')).to_have_attribute("data-status", "busy")
    # The clock is not the only time on the screen.
    expect(page.locator("#clock")).to_be_visible()
    expect(as_of).to_be_visible()


def test_sound_waits_for_a_gesture_and_is_off_by_default(page: Any) -> None:
    fake_pages.open_view(page, "wall", fake_pages.snapshot(PEOPLE))
    expect(page.locator("#sound-hint")).to_be_hidden()
    fake_pages.open_view(page, "wall", fake_pages.snapshot(PEOPLE), query={"sound": "1"})
    hint = page.locator("#sound-hint")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("enable sound")
    page.mouse.click(200, 600)
    expect(hint).to_be_hidden()
    expect(page.locator("body")).to_have_attribute("data-sound", "on")
    fake_pages.fire(page, "alerts", SHORT)  # two new alerts: one chime
    expect(page.locator("body")).to_have_attribute("data-chimes", "1")
