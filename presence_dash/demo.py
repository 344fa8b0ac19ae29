"""The demo: vendor simulators in-process on loopback and seeded people in three teams."""

from __future__ import annotations

import hashlib
import logging
import random
import secrets
from collections.abc import Callable
from typing import Any

from .config import Settings, settings_from_dict
from .simulators import cisco_pws as cisco_sim
from .simulators import glance as glance_sim
from .simulators import salesforce as sf_sim
from .simulators import screenmeet as sm_sim
from .simulators import servicenow as sn_sim
from .simulators.serve import SimulatorServer

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

# Two web sites, each a Glance group, for the visitors panel and the wall's counts.
GLANCE_GROUPS = {72431: "Support site", 72432: "Store"}


# Which systems each team works in, as in a real support organisation: the service desk has
# all three, field engineers no softphone, network operations no Salesforce.
TEAM_SOURCES = {
    "Service Desk": ("servicenow", "cisco", "salesforce"),
    "Field Engineering": ("servicenow", "salesforce"),
    "Network Operations": ("servicenow", "cisco"),
}
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
# The one person who logs out of Salesforce during the demo (the simulator's logout event
# reaches the dashboard through the webhook, as a real org's LogoutEventStream trigger does).
SALESFORCE_LEAVER = "grace-hopper"


def demo_people() -> list[dict[str, str]]:
    """~40 people with stable ids and sys_ids (so bookmarks and history survive restarts),
    each with the vendor ids of the systems their team works in."""
    people = []
    for team, names in TEAMS.items():
        for name in names:
            pid = name.lower().replace(" ", "-").replace(".", "")
            sys_id = hashlib.md5(f"demo:{pid}".encode(), usedforsecurity=False).hexdigest()
            ids = {
                "servicenow": sys_id,
                "cisco": f"{pid}@example.com",
                "salesforce": sf_sim.make_id("005", int(sys_id[:10], 16)),
            }
            person = {"id": pid, "name": name, "team": team}
            person.update({source: ids[source] for source in TEAM_SOURCES[team]})
            people.append(person)
    return people


def off_shift(people: list[dict[str, str]]) -> set[str]:
    """Ids of the people who stay offline in every system (a wall is never all green)."""
    return {p["id"] for index, p in enumerate(people) if index % OFF_SHIFT_EVERY == 2}


def demo_auth() -> dict[str, Any]:
    """Sign-in as a real deployment has it, with one account per role whose password the
    sign-in page shows ("demo"); the wall needs no sign-in."""
    from .auth.passwords import hash_password
    from .web.auth_routes import DEMO_PASSWORD

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
) -> tuple[Settings, list[SimulatorServer]]:
    """Start the simulators and return the settings that point the app at them."""
    people = demo_people()
    # The simulators log every call; in the demo that drowns the dashboard's own log.
    logging.getLogger("presence_dash.simulators").setLevel(logging.WARNING)
    password = secrets.token_urlsafe(16)
    sim = sn_sim.ServiceNowSim(username="presence.dash", password=password, rng=random.Random(7))
    away_all_day = off_shift(people)
    on_shift = [p for p in people if p["id"] not in away_all_day]
    sim.add_demo_users([p["servicenow"] for p in on_shift])
    for person in people:
        if person["id"] in away_all_day:  # last seen yesterday evening
            sim.last_on[person["servicenow"]] = sim.now_ms() - 14 * 3600 * 1000
    sn_server = SimulatorServer(sn_sim.create_app(sim)).start(spawn)
    cisco_password = secrets.token_urlsafe(16)
    cisco = cisco_sim.CiscoPwsSim(
        app_user="presence.app",
        app_password=cisco_password,
        end_users={"presence.dash@example.com"},
    )
    cisco.add_demo_contacts([p["cisco"] for p in on_shift if "cisco" in p], random.Random(11))
    for person in people:
        if person["id"] in away_all_day and "cisco" in person:
            cisco.set_contact(person["cisco"], "UNAVAILABLE")
    cisco.start_demo(interval_s=1.0)
    cisco_server = SimulatorServer(cisco_sim.create_app(cisco)).start(spawn)
    sf_secret, sf_webhook_secret = secrets.token_urlsafe(16), secrets.token_urlsafe(32)
    org = sf_sim.SalesforceSim(
        client_id="3MVG9demo.presence.dash",
        client_secret=sf_secret,
        session_seconds=180,  # short sessions, so a closed browser shows within minutes
        # the org's Login Flow / LogoutEventStream trigger call our webhook
        webhook_url=f"http://127.0.0.1:{port}/hooks/salesforce",
        webhook_secret=sf_webhook_secret,
    )
    leaver = next(p["salesforce"] for p in people if p["id"] == SALESFORCE_LEAVER)
    org.add_demo_users(
        [p["salesforce"] for p in on_shift if "salesforce" in p],
        random.Random(13),
        logout_user=leaver,  # signs out of Salesforce a minute in: "Logged out" on her card
    )
    for person in people:
        if person["id"] in away_all_day and "salesforce" in person:
            org.add_user(person["salesforce"], person["name"])  # never logs in today
    org.start_demo(interval_s=1.0)
    sf_server = SimulatorServer(sf_sim.create_app(org)).start(spawn)
    sm_password = secrets.token_urlsafe(16)
    screenmeet = sm_sim.ScreenMeetSim(username="screenmeet.bridge", password=sm_password)
    sm_server = SimulatorServer(sm_sim.create_app(screenmeet)).start(spawn)
    glance_key = secrets.token_urlsafe(24)
    glance = glance_sim.GlanceSim(
        groups=set(GLANCE_GROUPS),
        api_key=glance_key,
        partner_user_ids={"presence-dash"},
        rng=random.Random(17),
    )
    glance_servers = glance_sim.serve(glance, presence_servers=2, start=lambda s: s.start(spawn))
    glance.start_demo(list(GLANCE_GROUPS), interval_s=1.0)  # visitors come and go
    # So a demo user can see what a visitor received after a click on Co-browse.
    logging.getLogger(__name__).info(
        "demo: Glance simulator on %s; signals visitors received: %s/_sim/signals",
        glance_servers.url,
        glance_servers.url,
    )
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
            "servicenow": {
                "base_url": sn_server.url,
                "username": "presence.dash",
                "password_env": "DEMO_SN_PASSWORD",
                "poll_seconds": 2,
            },
            "cisco": {
                "base_url": cisco_server.url,
                "app_user": "presence.app",
                "app_password_env": "DEMO_CISCO_PASSWORD",
                "end_user": "presence.dash@example.com",
                "callback_url": f"http://127.0.0.1:{port}/hooks/cisco/pws",
                "presence_type": "rich",
                "resync_seconds": 60,
            },
            "salesforce": {
                "base_url": sf_server.url,
                "client_id": "3MVG9demo.presence.dash",
                "client_secret_env": "DEMO_SF_SECRET",
                "webhook_secret_env": "DEMO_SF_WEBHOOK_SECRET",
                "poll_seconds": 5,
            },
            "screenmeet": {
                "base_url": sm_server.url + screenmeet.base_path,
                "username": "screenmeet.bridge",
                "password_env": "DEMO_SM_PASSWORD",
            },
            "glance": {
                "base_url": glance_servers.url,
                "auth_url": glance_servers.auth_url,
                "group_ids": list(GLANCE_GROUPS),
                "group_labels": GLANCE_GROUPS,
                "partner_user_id": "presence-dash",
                "api_key_env": "DEMO_GLANCE_API_KEY",
                "direct_scheme": "http",  # the simulator's presence servers are on loopback
                # ... and only they may be called there, each on its own port.
                "direct_allowlist": list(glance_servers.sim.servers),
                "poll_seconds": 2,
            },
        },
    }
    secrets_env = {"DEMO_SN_PASSWORD": password, "DEMO_CISCO_PASSWORD": cisco_password}
    secrets_env |= {"DEMO_SF_SECRET": sf_secret, "DEMO_SF_WEBHOOK_SECRET": sf_webhook_secret}
    secrets_env["DEMO_SM_PASSWORD"] = sm_password
    secrets_env["DEMO_GLANCE_API_KEY"] = glance_key
    settings = settings_from_dict(raw, secrets_env, demo=True)
    glance_parts = [glance_servers.balancer, *glance_servers.presence]
    return settings, [sn_server, cisco_server, sm_server, sf_server, *glance_parts]
