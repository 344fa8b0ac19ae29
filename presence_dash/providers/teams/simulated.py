"""How `presence-dash simulate teams` and the demo run the Graph simulator (simulator.py)."""

from __future__ import annotations

import random
import secrets
import uuid

from presence_dash.providers.spec import (
    DemoContext,
    DemoPart,
    SimulateArgs,
    SimulateUsageError,
    SimulatorRun,
)
from presence_dash.providers.teams import simulator as graph_sim
from presence_dash.simulators.serve import SimulatorServer

TENANT = "8f2c5d4e-1b3a-4c6d-9e7f-0a1b2c3d4e5f"
CLIENT_ID = "535fb089-9ff3-47b6-9bfb-4f1264799865"
SECRET_ENV = "DEMO_TEAMS_SECRET"


def demo_id(person_id: str) -> str:
    """A stable Entra object id per demo person, so bookmarks and history survive restarts."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"presence-dash-demo:{person_id}"))


def simulate(args: SimulateArgs) -> SimulatorRun:
    tenant = args.options.get("tenant_id") or TENANT
    app_id = args.options.get("app_id") or CLIENT_ID
    for flag, value in (("--tenant-id", tenant), ("--app-id", app_id)):
        if not graph_sim.GUID.match(value):
            raise SimulateUsageError(f"simulate teams: {flag} must be a GUID, not {value!r}")
    sim = graph_sim.GraphSim(tenant_id=tenant, client_id=app_id, client_secret=args.password)
    if args.demo_people:
        sim.add_demo_users([demo_id(pid) for pid in args.demo_people])
    server = SimulatorServer(graph_sim.create_app(sim), args.host, args.port)
    return SimulatorRun(
        server.serve_forever,
        server.shutdown,
        (
            f"teams simulator on {server.url}",
            f"teams: base_url = {server.url}/v1.0, login_url = {server.url}, "
            f"tenant_id = {sim.tenant_id}, client_id = {sim.client_id}",
        ),
    )


def start_demo(ctx: DemoContext) -> DemoPart:
    secret = secrets.token_urlsafe(16)
    sim = graph_sim.GraphSim(
        tenant_id=TENANT, client_id=CLIENT_ID, client_secret=secret, rng=random.Random(15)
    )
    sim.add_demo_users([p["teams_id"] for p in ctx.people if p["id"] not in ctx.off_shift])
    for person in ctx.people:
        if person["id"] in ctx.off_shift:
            sim.set_user(person["teams_id"], "Offline", "OffWork")
    server = SimulatorServer(graph_sim.create_app(sim)).start(ctx.spawn)
    section = {
        "base_url": server.url + "/v1.0",
        "login_url": server.url,
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "client_secret_env": SECRET_ENV,
        "poll_seconds": 2,
    }
    return DemoPart(section, {SECRET_ENV: secret}, (server,))
