"""The agent view's first paint (presence_dash/web/agent_plan.py): the first screenful in page
order, every team's counts, and an embedded snapshot that says it is partial."""

from __future__ import annotations

from typing import Any

from presence_dash.web.agent_plan import agent_context, name_key, plan_agent


def _person(pid: str, name: str, team: str, status: str = "online") -> dict[str, Any]:
    return {"id": pid, "name": name, "team": team, "status": status}


def _snapshot(people: list[dict[str, Any]]) -> dict[str, Any]:
    return {"seq": 3, "server_time": "2026-12-01T12:00:00.000Z", "people": people, "providers": {}}


PEOPLE = [
    _person("b2", "zed", "B", "away"),
    _person("a1", "Mia", "A"),
    _person("b1", "Ann", "B"),
    _person("a2", "bob", "A", "busy"),
    _person("c1", "Cy", "C", "offline"),
]


def test_the_first_page_is_in_team_then_name_order_and_stops_at_the_limit() -> None:
    plan = plan_agent(_snapshot(PEOPLE), ["A", "B", "C"], None, limit=3)
    assert [(team, [p["id"] for p in people]) for team, people in plan.sections] == [
        ("A", ["a2", "a1"]),  # bob before Mia: case does not count
        ("B", ["b1"]),
    ]
    assert (plan.shown, plan.total) == (3, 5)


def test_counts_cover_everyone_not_only_the_people_rendered() -> None:
    plan = plan_agent(_snapshot(PEOPLE), ["A", "B", "C"], None, limit=1)
    assert plan.counts == {("A", "online"): 1, ("A", "busy"): 1, ("B", "away"): 1,
                           ("B", "online"): 1, ("C", "offline"): 1}  # fmt: skip


def test_a_chosen_team_fills_the_first_page_from_that_team() -> None:
    plan = plan_agent(_snapshot(PEOPLE), ["A", "B", "C"], "B", limit=10)
    assert [team for team, _ in plan.sections] == ["B"]
    assert (plan.shown, plan.total) == (2, 5)


def test_the_embedded_snapshot_is_partial_only_when_someone_is_left_for_the_socket() -> None:
    snap = _snapshot(PEOPLE)
    whole = agent_context(snap, ["A", "B", "C"], None)
    assert whole["snapshot"] is snap and "partial" not in whole["snapshot"]
    cut = agent_context(snap, ["A", "B", "C"], "C")
    assert cut["snapshot"]["partial"] is True and cut["snapshot"]["total"] == 5
    assert [p["id"] for p in cut["snapshot"]["people"]] == ["c1"]
    assert cut["snapshot"]["seq"] == 3  # the rest of the body is the snapshot's


def test_names_sort_as_the_browser_collates_them_numbers_as_numbers_accents_ignored() -> None:
    names = ["ada 10", "Émile", "Ada 9", "Zoë", "emile b", "Ada Lovelace"]
    assert sorted(names, key=name_key) == [
        "Ada 9",
        "ada 10",
        "Ada Lovelace",
        "Émile",
        "emile b",
        "Zoë",
    ]
