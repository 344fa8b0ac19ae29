"""How `presence-dash simulate glance` and the demo run `simulators/glance.py` (moves to
providers/glance/simulated.py with the rest of Glance)."""

from __future__ import annotations

import logging
import random
import secrets

from presence_dash.providers.spec import DemoContext, DemoPart, SimulateArgs, SimulatorRun
from presence_dash.simulators import glance as glance_sim

log = logging.getLogger(__name__)

SIMULATE_GROUP = 72431
# Two web sites, each a Glance group, for the visitors panel and the wall's counts.
DEMO_GROUPS = {72431: "Support site", 72432: "Store"}


def simulate(args: SimulateArgs) -> SimulatorRun:
    """Glance is several servers: the load balancer (with the Authorization API) on --port
    and two presence servers on free ports, named by findvisitor."""
    sim = glance_sim.GlanceSim(
        groups={SIMULATE_GROUP}, api_key=args.password, partner_user_ids={args.username}
    )
    servers = glance_sim.serve(sim, host=args.host, port=args.port, start=lambda s: None)
    for presence in servers.presence:
        presence.start()
    if args.demo_people:
        sim.start_demo([SIMULATE_GROUP], interval_s=1.0)
    allowlist = ", ".join(f'"{name}"' for name in sim.servers)
    lines = (
        f"glance simulator on {servers.url} (auth_url {servers.auth_url})",
        f"  group_ids = [{SIMULATE_GROUP}], partner_user_id = {args.username!r}",
        f"  presence servers: {', '.join(sim.servers)}",
        f'  direct_allowlist = [{allowlist}], direct_scheme = "http"',
    )
    return SimulatorRun(servers.balancer.serve_forever, servers.shutdown, lines)


def start_demo(ctx: DemoContext) -> DemoPart:
    key = secrets.token_urlsafe(24)
    sim = glance_sim.GlanceSim(
        groups=set(DEMO_GROUPS),
        api_key=key,
        partner_user_ids={"presence-dash"},
        rng=random.Random(17),
    )
    servers = glance_sim.serve(sim, presence_servers=2, start=lambda s: s.start(ctx.spawn))
    sim.start_demo(list(DEMO_GROUPS), interval_s=1.0)  # visitors come and go
    # So a demo user can see what a visitor received after a click on Co-browse.
    log.info(
        "demo: Glance simulator on %s; signals visitors received: %s/_sim/signals",
        servers.url,
        servers.url,
    )
    section = {
        "base_url": servers.url,
        "auth_url": servers.auth_url,
        "group_ids": list(DEMO_GROUPS),
        "group_labels": DEMO_GROUPS,
        "partner_user_id": "presence-dash",
        "api_key_env": "DEMO_GLANCE_API_KEY",
        "direct_scheme": "http",  # the simulator's presence servers are on loopback
        # ... and only they may be called there, each on its own port.
        "direct_allowlist": list(servers.sim.servers),
        "poll_seconds": 2,
    }
    parts = (servers.balancer, *servers.presence)
    return DemoPart(section, {"DEMO_GLANCE_API_KEY": key}, parts)
