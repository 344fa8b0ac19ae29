"""How `presence-dash simulate cisco` and the demo run `simulators/cisco_pws.py`."""

from __future__ import annotations

import random
import secrets

from presence_dash.providers.spec import DemoContext, DemoPart, SimulateArgs, SimulatorRun
from presence_dash.simulators import cisco_pws
from presence_dash.simulators.serve import SimulatorServer

APP_USER = "presence.app"
END_USER = "presence.dash@example.com"


def demo_id(person_id: str) -> str:
    return f"{person_id}@example.com"


def simulate(args: SimulateArgs) -> SimulatorRun:
    sim = cisco_pws.CiscoPwsSim(
        app_user=args.username,
        app_password=args.password,
        end_users={args.options.get("end_user") or END_USER},
    )
    if args.demo_people:
        sim.add_demo_contacts([demo_id(pid) for pid in args.demo_people])
        sim.start_demo(interval_s=1.0)
    server = SimulatorServer(cisco_pws.create_app(sim), args.host, args.port)
    return SimulatorRun.single("cisco", server)


def start_demo(ctx: DemoContext) -> DemoPart:
    password = secrets.token_urlsafe(16)
    sim = cisco_pws.CiscoPwsSim(app_user=APP_USER, app_password=password, end_users={END_USER})
    on_shift = [p["cisco"] for p in ctx.people if p["id"] not in ctx.off_shift]
    sim.add_demo_contacts(on_shift, random.Random(11))
    for person in ctx.people:
        if person["id"] in ctx.off_shift:
            sim.set_contact(person["cisco"], "UNAVAILABLE")
    sim.start_demo(interval_s=1.0)
    server = SimulatorServer(cisco_pws.create_app(sim)).start(ctx.spawn)
    section = {
        "base_url": server.url,
        "app_user": APP_USER,
        "app_password_env": "DEMO_CISCO_PASSWORD",
        "end_user": END_USER,
        "callback_url": f"http://127.0.0.1:{ctx.dashboard_port}/hooks/cisco/pws",
        "presence_type": "rich",
        "resync_seconds": 60,
    }
    return DemoPart(section, {"DEMO_CISCO_PASSWORD": password}, (server,))
