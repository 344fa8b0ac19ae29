"""axe-core on every page in headless Chromium: no serious or critical violation on the real
demo's pages (wall, summary, sign-in, agent view, admin, the refused page, the open dialogs,
the timeline drawer) and on fake-data states the demo rarely shows (alerts, a paged wall, a
dropped connection). axe comes from node_modules (package.json; `make lint-js` installs it)
and is added to the page as an init script, which the page's CSP does not govern."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import fake_pages
import pytest
from browser_helpers import open_page
from fake_pages import person
from helpers import DashServer
from test_presence_cards import DOT_LOOK
from wall_floor import alerts_body

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")

# Runs axe on the whole document and returns what blocks: rule, impact, help and the first
# offending nodes with axe's own summary (which names the contrast ratio it measured).
RUN_AXE = """async () => {
  const result = await window.axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(" "), why: n.failureSummary })),
  }));
}"""


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists() and not os.environ.get("CI"):
        pytest.skip("axe-core is not installed: run `make lint-js` (npm ci) first")
    assert AXE.exists(), f"{AXE} is missing: `make lint-js` installs it from package-lock.json"
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def axe_page(browser: Any, axe_source: str) -> Any:
    with open_page(browser, viewport={"width": 1920, "height": 1080}) as page:
        page.context.add_init_script(script=axe_source)
        yield page


def blocking_violations(page: Any) -> list[dict]:
    page.wait_for_load_state("load")
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in BLOCKING]


def assert_accessible(page: Any, what: str) -> None:
    found = blocking_violations(page)
    assert not found, f"axe on {what}: " + "\n".join(
        f"{v['impact']} {v['id']} ({v['help']}): {v['nodes']}" for v in found
    )


def sign_in_as(page: Any, demo: DashServer, role: str) -> None:
    page.goto(demo.url + "/login")
    page.locator(".demo-accounts button", has_text=f"({role})").click()
    expect(page.locator(".account-name")).to_contain_text(f"· {role}")


def test_the_check_itself_finds_a_serious_violation(axe_page: Any) -> None:
    """The harness can fail: grey-on-white text and an unnamed button are serious for axe."""
    axe_page.set_content(
        '<html lang="en"><title>t</title><main><p style="color:#bbb;background:#fff">faint</p>'
        "<button></button></main></html>"
    )
    axe_page.evaluate(
        "(src) => { if (!window.axe) (0, eval)(src); }", AXE.read_text(encoding="utf-8")
    )
    ids = {v["id"] for v in blocking_violations(axe_page)}
    assert {"color-contrast", "button-name"} <= ids, ids


def test_demo_wall_and_summary_have_no_serious_violation(axe_page: Any, demo: DashServer) -> None:
    axe_page.goto(demo.url + "/wall")
    expect(axe_page.locator("#connection-state")).to_have_attribute("data-state", "live")
    expect(axe_page.locator(".person").first).to_be_visible()
    assert_accessible(axe_page, "/wall")
    axe_page.goto(demo.url + "/wall?view=summary")
    expect(axe_page.locator("#connection-state")).to_have_attribute("data-state", "live")
    assert_accessible(axe_page, "/wall?view=summary")


def test_demo_sign_in_agent_view_and_admin_have_no_serious_violation(
    axe_page: Any, demo: DashServer
) -> None:
    axe_page.goto(demo.url + "/login")
    expect(axe_page.locator(".demo-accounts")).to_be_visible()
    assert_accessible(axe_page, "/login")

    sign_in_as(axe_page, demo, "admin")
    expect(axe_page.locator("#connection-state")).to_have_attribute("data-state", "live")
    expect(axe_page.locator(".visitor").first).to_be_visible(timeout=15_000)
    assert_accessible(axe_page, "/ signed in as admin")

    axe_page.goto(demo.url + "/admin")
    expect(axe_page.locator("h1")).to_have_text("Admin")
    assert_accessible(axe_page, "/admin")
    # Minor for axe, but a column a screen reader cannot name: the actions column has a header.
    every = {v["id"] for v in axe_page.evaluate(RUN_AXE)}
    assert "empty-table-header" not in every, every


def test_demo_dialogs_have_no_serious_violation(axe_page: Any, demo: DashServer) -> None:
    sign_in_as(axe_page, demo, "admin")
    start = axe_page.locator(".visitor .sm-start").first
    expect(start).to_be_visible(timeout=15_000)
    start.click()
    expect(axe_page.locator("#sm-dialog")).to_be_visible()
    assert_accessible(axe_page, "the Start ScreenMeet dialog")
    axe_page.locator("#sm-cancel").click()
    expect(axe_page.locator("#sm-dialog")).to_be_hidden()

    signal = axe_page.locator('.visitor button[data-action="signal"]').first
    signal.click()
    expect(axe_page.locator("#signal-dialog")).to_be_visible()
    assert_accessible(axe_page, "the Glance signal dialog")


def test_demo_timeline_drawer_has_no_serious_violation(axe_page: Any, demo: DashServer) -> None:
    """The drawer with its bars drawn from the demo's real history: one per source."""
    sign_in_as(axe_page, demo, "viewer")
    expect(axe_page.locator("#connection-state")).to_have_attribute("data-state", "live")
    axe_page.locator(".person[data-person-id] .person-open").first.click()
    chart = axe_page.locator("#timeline .tl-chart")
    expect(chart).to_have_attribute("data-loaded", "true", timeout=10_000)
    assert axe_page.locator("#timeline .tl-bar").count() >= 2  # the aggregate and a source
    assert_accessible(axe_page, "the timeline drawer")


def test_refused_page_has_no_serious_violation(axe_page: Any, demo: DashServer) -> None:
    sign_in_as(axe_page, demo, "viewer")
    response = axe_page.goto(demo.url + "/admin")
    assert response is not None and response.status == 403
    expect(axe_page.locator(".form-error")).to_be_visible()
    assert_accessible(axe_page, "the refused page")


ALERTS = alerts_body(
    [
        {
            "id": "team:Service Desk:below_minimum",
            "kind": "below_minimum",
            "team": "Service Desk",
            "person_id": None,
            "since": fake_pages.SINCE,
            "value": 1,
            "threshold": 4,
            "message": "Service Desk: 1 online, minimum 4",
        },
        {
            "id": "person:grace:away_too_long",
            "kind": "away_too_long",
            "team": "Service Desk",
            "person_id": "grace",
            "since": fake_pages.SINCE,
            "value": 60,
            "threshold": 15,
            "message": "Grace: away 60 min, limit 15",
        },
    ],
    {
        "Service Desk": {
            "min_online": 4,
            "max_away_minutes": 15,
            "people": 3,
            "online": 1,
            "short": True,
        },
        "Field": {"people": 2},
    },
)
EVERY_STATUS = fake_pages.snapshot(
    [
        person("ada", "Service Desk", "online"),
        person("bea", "Service Desk", "busy", activity="On the phone", activity_source="cisco"),
        person("grace", "Service Desk", "away", since_exact=False),
        person("alan", "Field", "offline", stale=True),
        person("linus", "Field", "unknown"),
    ],
    providers={
        "servicenow": {"state": "ok", "last_success": fake_pages.SERVER_TIME, "error": None},
        "cisco": {"state": "degraded", "last_success": None, "error": "timed out"},
        "salesforce": {"state": "down", "last_success": None, "error": "refused"},
        "glance": {"state": "disabled", "last_success": None, "error": None},
    },
)


@pytest.mark.parametrize(
    "view,query",
    [
        ("agent", None),
        ("wall", None),
        ("wall", {"view": "summary"}),
        ("wall", {"sort": "state"}),
    ],
)
def test_every_status_alerts_and_provider_states_have_no_serious_violation(
    axe_page: Any, view: str, query: dict | None
) -> None:
    fake_pages.open_view(axe_page, view, EVERY_STATUS, query=query, alerts=ALERTS)
    assert_accessible(axe_page, f"{view} {query or ''} with every status and alerts")


def test_paged_wall_and_a_dropped_connection_have_no_serious_violation(axe_page: Any) -> None:
    people = [person(f"p{i:03d}", f"Team {i % 6}", "online") for i in range(400)]
    fake_pages.open_view(axe_page, "wall", fake_pages.snapshot(people))
    expect(axe_page.locator("#page-indicator")).to_be_visible()
    assert_accessible(axe_page, "a paged wall")
    fake_pages.fire(axe_page, "disconnect", "transport close")
    expect(axe_page.locator("#connection-state")).not_to_have_attribute("data-state", "live")
    assert_accessible(axe_page, "the wall after its connection dropped")


# Whether a card's status word is on screen, inside its card, at a readable size.
WORD_SHOWN = """(pid) => {
  const card = document.querySelector(`[data-person-id="${pid}"]`);
  const word = card.querySelector(".status-text");
  const r = word.getBoundingClientRect();
  const c = card.getBoundingClientRect();
  return {
    text: word.textContent,
    shown: getComputedStyle(word).display !== "none" && r.width > 8 && r.height > 8
      && r.left >= c.left - 1 && r.right <= c.right + 1,
    fontPx: parseFloat(getComputedStyle(word).fontSize),
  };
}"""
WORDS = {
    "online": "Online",
    "busy": "Busy",
    "away": "Away",
    "offline": "Offline",
    "unknown": "Unknown",
}


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
@pytest.mark.parametrize("count", [5, 300])  # the large density, and a full paged floor
def test_every_status_has_its_shape_and_word_at_every_wall_density(
    browser: Any, size: tuple[int, int], count: int
) -> None:
    people = [person(f"p{i:03d}", f"Team {i % 3}", "online") for i in range(count)]
    for i, status in enumerate(WORDS):
        people[i] = person(f"a-{status}", "Team 0", status)  # first in its team: on page 1
    width, height = size
    with open_page(browser, viewport={"width": width, "height": height}) as page:
        fake_pages.open_view(page, "wall", fake_pages.snapshot(people))
        density = page.locator(".teams").first.get_attribute("data-density")
        shapes = {page.evaluate(DOT_LOOK, f"a-{s}")["shape"] for s in WORDS}
        assert len(shapes) == 5, f"two statuses share a shape at {size}, density {density}"
        for status, word in WORDS.items():
            seen = page.evaluate(WORD_SHOWN, f"a-{status}")
            assert seen["text"] == word and seen["shown"], (size, density, status, seen)
            assert seen["fontPx"] >= 12, (size, density, status, seen)


def test_activity_and_alert_reasons_are_in_the_accessibility_tree(axe_page: Any) -> None:
    """What a screen reader gets (Playwright's ARIA snapshot): the status word, the activity
    and the reason of a flag or a short team, in words, not only in colour or a title."""
    fake_pages.open_view(axe_page, "wall", EVERY_STATUS, alerts=ALERTS)
    grace = axe_page.locator('[data-person-id="grace"]')
    expect(grace.locator(".flag-text")).to_have_text("Away over 15m")
    tree = grace.aria_snapshot()
    assert "Away" in tree and "Away over 15m" in tree, tree
    bea = axe_page.locator('[data-person-id="bea"]').aria_snapshot()
    assert "Busy" in bea and "On the phone" in bea, bea

    fake_pages.open_view(axe_page, "wall", EVERY_STATUS, query={"view": "summary"}, alerts=ALERTS)
    tile = axe_page.locator('.team-summary[data-team="Service Desk"]')
    expect(tile.locator(".team-alert")).to_be_visible()
    tree = tile.aria_snapshot()
    assert "Below min" in tree and "min 4" in tree, tree


def test_agent_cards_are_reached_by_keyboard_with_their_activity(axe_page: Any) -> None:
    fake_pages.open_view(axe_page, "agent", EVERY_STATUS)
    first = axe_page.evaluate("document.querySelector('[data-person-id]').dataset.personId")
    # Tab from the top until a person's card has the focus (a bounded walk).
    for _ in range(60):
        axe_page.keyboard.press("Tab")
        if axe_page.evaluate("!!document.activeElement.closest('[data-person-id]')"):
            break
    else:
        pytest.fail("no person card is reachable with Tab")
    focused = axe_page.evaluate(
        "document.activeElement.closest('[data-person-id]').dataset.personId"
    )
    assert focused == first, (focused, first)
    # Each card's status word and activity are text a screen reader reads with the card.
    for pid, words in {"bea": ("Busy", "On the phone"), "alan": ("Offline",)}.items():
        tree = axe_page.locator(f'[data-person-id="{pid}"]').aria_snapshot()
        assert all(word in tree for word in words), (pid, tree)
