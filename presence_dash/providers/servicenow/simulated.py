"""How `presence-dash simulate servicenow` and the demo run `simulators/servicenow.py`."""

from __future__ import annotations

import hashlib
import random
import secrets

from presence_dash.providers.spec import DemoContext, DemoPart, SimulateArgs, SimulatorRun
from presence_dash.simulators import servicenow as sim_module
from presence_dash.simulators.serve import SimulatorServer

USERNAME = "presence.dash"


def demo_id(person_id: str) -> str:
    """A stable sys_id per demo person, so bookmarks and history survive restarts."""
    return hashlib.md5(f"demo:{person_id}".encode(), usedforsecurity=False).hexdigest()


def simulate(args: SimulateArgs) -> SimulatorRun:
    sim = sim_module.ServiceNowSim(username=args.username, password=args.password)
    if args.demo_people:
        sim.add_demo_users([demo_id(pid) for pid in args.demo_people])
    server = SimulatorServer(sim_module.create_app(sim), args.host, args.port)
    return SimulatorRun.single("servicenow", server)


def start_demo(ctx: DemoContext) -> DemoPart:
    password = secrets.token_urlsafe(16)
    sim = sim_module.ServiceNowSim(username=USERNAME, password=password, rng=random.Random(7))
    sim.add_demo_users([p["servicenow"] for p in ctx.people if p["id"] not in ctx.off_shift])
    for person in ctx.people:
        if person["id"] in ctx.off_shift:  # last seen yesterday evening
            sim.last_on[person["servicenow"]] = sim.now_ms() - 14 * 3600 * 1000
    server = SimulatorServer(sim_module.create_app(sim)).start(ctx.spawn)
    section = {
        "base_url": server.url,
        "username": USERNAME,
        "password_env": "DEMO_SN_PASSWORD",
        "poll_seconds": 2,
    }
    return DemoPart(section, {"DEMO_SN_PASSWORD": password}, (server,))
