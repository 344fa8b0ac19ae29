"""The demo: every registered provider's simulator in-process on loopback (as its spec's
`demo` entry starts it) and seeded people in three teams."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from presence_dash.config import Settings, settings_from_dict
from presence_dash.providers.registry import PROVIDERS
from presence_dash.providers.spec import DemoContext, Stoppable, load
from presence_dash.simulators import screenmeet as sm_sim
from presence_dash.simulators.serve import SimulatorServer

TEAMS = {
    "Service Desk": [
        "Ada Lovelace",
        "Grace Hopper",
        "Alan Turing",
        "Katherine Johnson",
        "Edsger Dijkstra",
        "Barbara Liskov",
        "Donald Knuth",
        "Frances Allen",
        "John Backus",
        "Radia Perlman",
        "Ken Thompson",
        "Margaret Hamilton",
        "Tim Berners-Lee",
        "Hedy Lamarr",
    ],
    "Field Engineering": [
        "Dennis Ritchie",
        "Joan Clarke",
        "Claude Shannon",
        "Annie Easley",
        "Niklaus Wirth",
        "Sophie Wilson",
        "Bjarne Stroustrup",
        "Adele Goldberg",
        "Guido van Rossum",
        "Evelyn Berezin",
        "Linus Torvalds",
        "Mary Kenneth Keller",
        "John McCarthy",
    ],
    "Network Operations": [
        "Vint Cerf",
        "Elizabeth Feinler",
        "Bob Kahn",
        "Jon Postel",
        "Sally Floyd",
        "Van Jacobson",
        "Paul Baran",
        "Judith Estrin",
        "Leonard Kleinrock",
        "Susan Kare",
        "Whitfield Diffie",
        "Shafi Goldwasser",
        "Ward Christensen",
    ],
}

# Which systems each team works in is each provider's `DemoSpec.skip_teams`, as in a real
# support organisation: the service desk has all of them, field engineers no softphone,
# network operations no Salesforce.

# Thresholds ([[teams]]) the demo's drift trips now and then, so the wall shows its alerts.
# Two five-minute samples: Network Operations had 6-10 of 13 online (below 8 a quarter to
# 40 % of the time), the Service Desk 8-11 of 14 (below 9 now and then); Cisco calls last
# 1-5 min and meetings 3-8, so a 3-4 minute busy limit trips every few minutes. Away spells
# are short (ServiceNow idles for about a minute), so the one-minute away limit trips only
# sometimes. Field Engineering stays well staffed: the calm case.
TEAM_THRESHOLDS = [
    {"name": "Service Desk", "min_online": 9, "max_away_minutes": 2, "max_busy_minutes": 3},
    {"name": "Field Engineering", "min_online": 8, "max_away_minutes": 5},
    {"name": "Network Operations", "min_online": 8, "max_away_minutes": 1, "max_busy_minutes": 4},
]
OFF_SHIFT_EVERY = 5  # every fifth person is off shift: offline everywhere, all day


def demo_people() -> list[dict[str, str]]:
    """~40 people with stable ids and vendor ids (so bookmarks and history survive
    restarts), each with the ids of the systems their team works in."""
    people = []
    for team, names in TEAMS.items():
        for name in names:
            pid = name.lower().replace(" ", "-").replace(".", "")
            person = {"id": pid, "name": name, "team": team}
            for spec in PROVIDERS:
                demo, field = spec.demo, spec.person_field
                if demo and demo.person_id and field and team not in demo.skip_teams:
                    person[field.key] = load(demo.person_id)(pid)
            people.append(person)
    return people


def off_shift(people: list[dict[str, str]]) -> set[str]:
    """Ids of the people who stay offline in every system (a wall is never all green)."""
    return {p["id"] for index, p in enumerate(people) if index % OFF_SHIFT_EVERY == 2}


def demo_auth() -> dict[str, Any]:
    """Sign-in as a real deployment has it, with one account per role whose password the
    sign-in page shows ("demo"); the wall needs no sign-in."""
    from presence_dash.auth.passwords import hash_password
    from presence_dash.web.auth_routes import DEMO_PASSWORD

    demo_hash = hash_password(DEMO_PASSWORD)
    return {
        "mode": "local",
        "users": [
            {"username": role, "password_hash": demo_hash, "role": role}
            for role in ("viewer", "agent", "admin")
        ],
        "anonymous_role": "viewer",
        "secure_cookies": False,  # the demo is plain HTTP
    }


def start_demo(
    host: str,
    port: int,
    spawn: Callable[[Callable[[], None]], Any] | None,
    async_mode: str = "eventlet",
) -> tuple[Settings, list[Stoppable]]:
    """Start the simulators and return the settings that point the app at them."""
    people = demo_people()
    # The simulators log every call; in the demo that drowns the dashboard's own log.
    logging.getLogger("presence_dash.simulators").setLevel(logging.WARNING)
    away_all_day = frozenset(off_shift(people))
    sections: dict[str, Any] = {}
    secrets_env: dict[str, str] = {}
    servers: list[Stoppable] = []
    for spec in PROVIDERS:
        if spec.demo is None:
            continue
        works_here = [p for p in people if p["team"] not in spec.demo.skip_teams]
        part = load(spec.demo.start)(DemoContext(works_here, away_all_day, port, spawn))
        sections[spec.name] = dict(part.section)
        secrets_env |= part.secrets
        servers.extend(part.servers)
    sm_password = secrets.token_urlsafe(16)
    screenmeet = sm_sim.ScreenMeetSim(username="screenmeet.bridge", password=sm_password)
    sm_server = SimulatorServer(sm_sim.create_app(screenmeet)).start(spawn)
    raw = {
        "server": {
            "host": host,
            "port": port,
            "async_mode": async_mode,
            "database": "sqlite:///presence-dash-demo.db",
        },
        "auth": demo_auth(),
        "people": people,
        "teams": TEAM_THRESHOLDS,
        "providers": {
            **sections,
            "screenmeet": {
                "base_url": sm_server.url + screenmeet.base_path,
                "username": "screenmeet.bridge",
                "password_env": "DEMO_SM_PASSWORD",
            },
        },
    }
    secrets_env["DEMO_SM_PASSWORD"] = sm_password
    settings = settings_from_dict(raw, secrets_env, demo=True)
    return settings, [*servers, sm_server]
