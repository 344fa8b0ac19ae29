"""Which people the server renders for the agent view's first paint (`/`).

Pure: the snapshot and the `?team=` filter go in, the first screenful's sections, every
team's counts and the embedded snapshot come out. As on the wall (wall_plan.py), the page
embeds only the people it renders (`partial`, with `total`): the socket's snapshot on connect
brings everyone and static/js/render.js builds the other cards from it in one pass, so the
5,000 people of a big floor are sent once, not as 6.8 MB of HTML and again over the socket.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# A 4K screen's worth of cards (about 8 across and 14 rows of the agent view's 290 px cards at
# 2560x1440): more than any screen shows above the fold, ~10 KB of gzip.
FIRST_PAGE_PEOPLE = 120


_RUNS = re.compile(r"(\d+)")


def name_key(name: str) -> list[tuple[int, int, str]]:
    """Sort key close to the browser's `Intl.Collator(undefined, {sensitivity: "base",
    numeric: true})` (static/js/dom.js compareNames): accents and case ignored, digits
    compared as numbers ("Ada 9" before "Ada 10"), so the cards the socket's snapshot adds
    merge into the rendered ones without moving them (dom.js mergeSorted)."""
    bare = "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c))
    return [
        (0, int(run), "") if run.isdigit() else (1, 0, run)
        for run in _RUNS.split(bare.casefold())
        if run
    ]


@dataclass(frozen=True)
class AgentPlan:
    sections: list[tuple[str, list[Mapping[str, Any]]]]  # (team, people by name), in team order
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (team, status) -> n
    shown: int = 0  # people rendered
    total: int = 0  # people in the snapshot


def plan_agent(
    snapshot: Mapping[str, Any],
    teams: Sequence[str],
    team_filter: str | None,
    limit: int = FIRST_PAGE_PEOPLE,
) -> AgentPlan:
    """The first `limit` people in page order (team, then name), from `team_filter`'s team
    when one is chosen: those are the ones the select shows first."""
    people = snapshot.get("people", [])
    by_team: dict[str, list[Mapping[str, Any]]] = {t: [] for t in teams}
    counts: dict[tuple[str, str], int] = {}
    for p in people:
        by_team.setdefault(p["team"], []).append(p)
        key = (p["team"], p.get("status", "unknown"))
        counts[key] = counts.get(key, 0) + 1
    sections = []
    room = limit
    for team in teams:
        if room <= 0:
            break
        if team_filter and team != team_filter:
            continue
        chosen = sorted(by_team[team], key=lambda p: name_key(str(p.get("name", ""))))[:room]
        if chosen:
            sections.append((team, chosen))
            room -= len(chosen)
    return AgentPlan(sections, counts, limit - room, len(people))


def agent_context(
    snapshot: Mapping[str, Any], teams: Sequence[str], team_filter: str | None
) -> dict[str, Any]:
    """Template variables of agent.html."""
    plan = plan_agent(snapshot, teams, team_filter)
    embedded: Mapping[str, Any] = snapshot
    if plan.shown < plan.total:
        first = [p for _, people in plan.sections for p in people]
        embedded = {**snapshot, "people": first, "partial": True, "total": plan.total}
    return {"snapshot": embedded, "agent": plan}
