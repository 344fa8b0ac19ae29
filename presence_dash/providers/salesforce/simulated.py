"""How `presence-dash simulate salesforce` and the demo run `simulators/salesforce.py`."""

from __future__ import annotations

import hashlib
import os
import random
import secrets
from pathlib import Path

from presence_dash.providers.spec import (
    DemoContext,
    DemoPart,
    SimulateArgs,
    SimulateUsageError,
    SimulatorRun,
)
from presence_dash.simulators import salesforce as sf_sim
from presence_dash.simulators.serve import SimulatorServer

DEMO_CLIENT_ID = "3MVG9demo.presence.dash"
# The one person who logs out of Salesforce during the demo (the simulator's logout event
# reaches the dashboard through the webhook, as a real org's LogoutEventStream trigger does).
DEMO_LEAVER = "grace-hopper"


def demo_id(person_id: str) -> str:
    """A stable User Id per demo person (the same as the demo has always given them)."""
    digest = hashlib.md5(f"demo:{person_id}".encode(), usedforsecurity=False).hexdigest()
    return sf_sim.make_id("005", int(digest[:10], 16))


def simulate(args: SimulateArgs) -> SimulatorRun:
    public_key = None
    key_file = args.options.get("jwt_public_key")
    if key_file:
        try:
            public_key = Path(key_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise SimulateUsageError(f"--jwt-public-key: {exc.strerror or exc}") from None
    secret_env = args.options.get("webhook_secret_env")
    org = sf_sim.SalesforceSim(
        client_id=args.options.get("client_id") or "",
        client_secret=args.password,
        api_user=args.username,
        jwt_public_key=public_key,
        webhook_url=args.options.get("webhook_url"),
        webhook_secret=os.environ.get(secret_env) if secret_env else None,
    )
    if args.demo_people:
        org.session_seconds = 180  # short sessions, so lapses show within minutes
        org.add_demo_users([demo_id(pid) for pid in args.demo_people])
        org.start_demo(interval_s=1.0)
    server = SimulatorServer(sf_sim.create_app(org), args.host, args.port)
    return SimulatorRun.single("salesforce", server)


def start_demo(ctx: DemoContext) -> DemoPart:
    secret, webhook_secret = secrets.token_urlsafe(16), secrets.token_urlsafe(32)
    org = sf_sim.SalesforceSim(
        client_id=DEMO_CLIENT_ID,
        client_secret=secret,
        session_seconds=180,  # short sessions, so a closed browser shows within minutes
        # the org's Login Flow / LogoutEventStream trigger call our webhook
        webhook_url=f"http://127.0.0.1:{ctx.dashboard_port}/hooks/salesforce",
        webhook_secret=webhook_secret,
    )
    leaver = next(p["salesforce"] for p in ctx.people if p["id"] == DEMO_LEAVER)
    org.add_demo_users(
        [p["salesforce"] for p in ctx.people if p["id"] not in ctx.off_shift],
        random.Random(13),
        logout_user=leaver,  # signs out of Salesforce a minute in: "Logged out" on her card
    )
    for person in ctx.people:
        if person["id"] in ctx.off_shift:
            org.add_user(person["salesforce"], person["name"])  # never logs in today
    org.start_demo(interval_s=1.0)
    server = SimulatorServer(sf_sim.create_app(org)).start(ctx.spawn)
    section = {
        "base_url": server.url,
        "client_id": DEMO_CLIENT_ID,
        "client_secret_env": "DEMO_SF_SECRET",
        "webhook_secret_env": "DEMO_SF_WEBHOOK_SECRET",
        "poll_seconds": 5,
    }
    env = {"DEMO_SF_SECRET": secret, "DEMO_SF_WEBHOOK_SECRET": webhook_secret}
    return DemoPart(section, env, (server,))
