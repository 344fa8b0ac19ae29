"""The wall's query options and the server's first page (presence_dash/web/wall_plan.py)."""

from __future__ import annotations

from presence_dash.web.wall_plan import ESTIMATE, paginate, parse_options, plan_wall, wall_context


def _people(n: int, teams: tuple[str, ...]) -> list[dict]:
    return [
        {
            "id": f"p{i}",
            "name": f"P {i:03d}",
            "team": teams[i % len(teams)],
            "status": "online",
            "since": "2026-11-23T09:00:00.000Z",
            "sources": {},
        }
        for i in range(n)
    ]


def test_options_fall_back_to_defaults_and_clamp_rotation() -> None:
    opts = parse_options(["Sales", " Sales ", "", "Billing"], {"view": "tiles", "sort": "x"})
    assert opts.teams == ("Sales", "Billing") and opts.view == "cards" and opts.sort == "name"
    assert parse_options([], {"rotate": "1"}).rotate_s == 3
    assert parse_options([], {"rotate": "0"}).rotate_s == 0
    assert parse_options([], {"rotate": "soon"}).rotate_s is None
    assert parse_options([], {"sound": "1", "view": "summary"}).sound


def test_pages_keep_teams_whole_and_split_only_what_cannot_fit() -> None:
    m = {"cols": 4, "row": 10.0, "head": 5.0, "gap": 0.0, "avail": 45.0}  # 4 rows a page
    pages = paginate([("A", list(range(6))), ("B", list(range(8))), ("C", list(range(30)))], m)
    assert [[(t, len(ids), cont) for t, ids, cont in page] for page in pages] == [
        [("A", 6, False)],  # B (2 rows + head) does not fit beside A's 2 rows: next page
        [("B", 8, False)],  # C would start with a single row here: next page
        [("C", 16, False)],  # larger than a page: it fills it ...
        [("C", 14, True)],  # ... and continues
    ]
    assert sum(len(ids) for page in pages for _, ids, _ in page) == 44


def test_first_page_and_partial_snapshot_carry_only_the_first_page() -> None:
    snap = {"seq": 3, "server_time": "t", "people": _people(500, ("A", "B")), "providers": {}}
    plan = plan_wall(snap, ["A", "B"], parse_options(["B"], {}))
    assert plan.teams == ["B"] and plan.shown == 250 and plan.pages > 1
    shown = [p for chunk in plan.first_page for p in chunk.people]
    assert 0 < len(shown) <= ESTIMATE["cols"] * 11 and {p["team"] for p in shown} == {"B"}
    ctx = wall_context(snap, ["A", "B"], parse_options([], {"view": "summary"}))
    assert ctx["snapshot"]["people"] == [] and ctx["snapshot"]["partial"]
    assert ctx["counts"][("A", "online")] == 250
