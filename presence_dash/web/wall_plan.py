"""What the wall `/wall` shows, from its query string: which teams, cards or team tiles only,
the order, page rotation and sound; and which people the server renders for the first paint.

Pure: the query values and the snapshot go in, a plan comes out. static/js/wall-pager.js
orders and pages the same way in the browser (the first page here is an estimate for a
16:9 screen, where the wall's sizes scale with the viewport; the browser measures its own).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

VIEWS = ("cards", "summary")
SORTS = ("name", "state")
DEFAULT_ROTATE_S = 15
MIN_ROTATE_S = 3
MAX_ROTATE_S = 3600
# ?sort=state: the people a supervisor looks for first, longest in the state first.
STATE_ORDER = {"busy": 0, "away": 1, "online": 2, "offline": 3, "unknown": 4}

# A 1920x1080 screen at the wall's readable size, in its design pixels (wall.css): 6 cards
# across, a card row 77 px, a team heading 40 px, 800 px for the teams under the tiles.
ESTIMATE = {"cols": 6, "row": 77.0, "head": 40.0, "gap": 12.0, "avail": 800.0}


@dataclass(frozen=True)
class WallOptions:
    teams: tuple[str, ...] = ()  # empty: every team
    view: str = "cards"
    sort: str = "name"
    rotate_s: int | None = None  # None: rotate (DEFAULT_ROTATE_S) only when there are pages
    sound: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "teams": list(self.teams),
            "view": self.view,
            "sort": self.sort,
            "rotate": self.rotate_s,
            "sound": self.sound,
        }


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def parse_options(teams: Sequence[str], args: Mapping[str, str]) -> WallOptions:
    """`teams`: every `?team=` value; `args`: the other parameters. What is not understood
    falls back to the default: a kiosk URL typed on a TV remote should still show people."""
    wanted = tuple(dict.fromkeys(t.strip() for t in teams if t and t.strip()))
    view = args.get("view", "cards")
    sort = args.get("sort", "name")
    rotate = _int_or_none(args.get("rotate"))
    if rotate is not None and rotate > 0:
        rotate = max(MIN_ROTATE_S, min(MAX_ROTATE_S, rotate))
    return WallOptions(
        teams=wanted,
        view=view if view in VIEWS else "cards",
        sort=sort if sort in SORTS else "name",
        rotate_s=rotate,  # 0 (or less): never rotate
        sound=args.get("sound", "0") in ("1", "true", "on", "yes"),
    )


def _since_ms(person: Mapping[str, Any]) -> float:
    try:
        return datetime.fromisoformat(str(person.get("since")).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return float("inf")


def order_people(people: Iterable[Mapping[str, Any]], sort: str) -> list[Mapping[str, Any]]:
    """One team's people in wall order: by name, or by state then longest in it."""
    by_name = sorted(people, key=lambda p: str(p.get("name", "")).casefold())
    if sort != "state":
        return by_name
    return sorted(by_name, key=lambda p: (STATE_ORDER.get(p.get("status"), 9), _since_ms(p)))


@dataclass(frozen=True)
class Chunk:
    team: str
    people: list[Mapping[str, Any]]
    continued: bool = False


@dataclass(frozen=True)
class WallPlan:
    options: WallOptions
    teams: list[str]  # shown teams, in order
    shown: int  # people in the shown teams
    first_page: list[Chunk] = field(default_factory=list)
    pages: int = 1


def paginate(sections: Sequence[tuple[str, list[Any]]], m: Mapping[str, float]) -> list[list]:
    """Whole team sections per page where they fit; a team larger than the room left goes
    on the next page if it fits there whole, else it fills this page and continues.
    The same rules as static/js/wall-pager.js paginate()."""
    cols, row, head, gap, avail = int(m["cols"]), m["row"], m["head"], m["gap"], m["avail"]
    pages: list[list] = []
    page: list = []
    used = 0.0

    def height(n: int) -> float:
        return head + -(-n // cols) * row + gap

    for team, items in sections:
        rest, cont = list(items), False
        while rest:
            room = avail - used
            if height(len(rest)) <= room:
                page.append((team, rest, cont))
                used += height(len(rest))
                break
            rows = int((room - head - gap) // row)
            if page and (height(len(rest)) <= avail or rows < 2):
                pages.append(page)
                page, used = [], 0.0
                continue
            take = max(1, rows) * cols
            page.append((team, rest[:take], cont))
            rest, cont = rest[take:], True
            pages.append(page)
            page, used = [], 0.0
    if page or not pages:
        pages.append(page)
    return pages


def plan_wall(snapshot: Mapping[str, Any], all_teams: Sequence[str], opts: WallOptions) -> WallPlan:
    """The shown teams and the first page of cards the server renders."""
    wanted = set(opts.teams)
    teams = [t for t in all_teams if not wanted or t in wanted]
    # A team asked for by name is shown even before anyone is in it (its tile says 0).
    teams += [t for t in opts.teams if t not in teams]
    by_team: dict[str, list] = {t: [] for t in teams}
    for p in snapshot.get("people", []):
        if p.get("team") in by_team:
            by_team[p["team"]].append(p)
    sections = [(t, order_people(by_team[t], opts.sort)) for t in teams if by_team[t]]
    shown = sum(len(people) for _, people in sections)
    if opts.view == "summary":
        return WallPlan(opts, teams, shown)
    pages = paginate(sections, ESTIMATE)
    first = [Chunk(team, people, cont) for team, people, cont in pages[0]]
    return WallPlan(opts, teams, shown, first, len(pages))


def wall_context(
    snapshot: Mapping[str, Any], teams: Sequence[str], opts: WallOptions
) -> dict[str, Any]:
    """Template variables of wall.html. The embedded snapshot carries only the first page's
    people (`partial`): the socket's snapshot on connect brings everyone, so the 5,000
    people of a big floor are sent once, not in the HTML and again over the socket."""
    plan = plan_wall(snapshot, teams, opts)
    shown = set(plan.teams)
    counts: dict[tuple[str, str], int] = {}
    stale_sources: set[str] = set()
    for p in snapshot.get("people", []):
        if p.get("team") not in shown:
            continue
        key = (p["team"], p.get("status", "unknown"))
        counts[key] = counts.get(key, 0) + 1
        stale_sources.update(n for n, s in (p.get("sources") or {}).items() if s.get("stale"))
    providers = snapshot.get("providers", {})
    stale = [
        (name, prov)
        for name, prov in sorted(providers.items())
        if prov.get("state") == "down" or name in stale_sources
    ]
    first_people = [p for chunk in plan.first_page for p in chunk.people]
    partial = {**snapshot, "people": first_people, "partial": True, "total": plan.shown}
    return {
        "snapshot": partial,
        "wall": plan,
        "counts": counts,
        "stale": stale,
        "team_filter": None,  # the wall's own filter is in `wall.options`
    }
