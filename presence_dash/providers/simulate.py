"""`presence-dash simulate <name>`: one vendor's simulator alone, run as its provider spec says
(`ProviderSpec.simulator`); ScreenMeet, a feature rather than a provider, has one too."""

from __future__ import annotations

import argparse
import os
import sys

from presence_dash.providers.registry import PROVIDERS
from presence_dash.providers.spec import (
    SimulateArgs,
    SimulateUsageError,
    SimulatorRun,
    SimulatorSpec,
    load,
)

FEATURE_SIMULATORS = {
    "screenmeet": SimulatorSpec(start=f"{__name__}:screenmeet_simulator"),
}


def simulators() -> dict[str, SimulatorSpec]:
    """Every simulator `simulate` can run, by name: the registry's, then the features'."""
    found = {spec.name: spec.simulator for spec in PROVIDERS if spec.simulator}
    return found | FEATURE_SIMULATORS


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    specs = simulators()
    sim = sub.add_parser("simulate", help="run one vendor simulator alone")
    sim.add_argument("provider", choices=list(specs))
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, help="default: a free port")
    sim.add_argument("--username", default="presence.dash", help="the API user it accepts")
    sim.add_argument(
        "--password-env",
        default="SIM_PASSWORD",
        help="environment variable holding the password (default SIM_PASSWORD; "
        "'secret' when unset)",
    )
    seeds = "; ".join(s.seeds for s in specs.values() if s.seeds)
    sim.add_argument(
        "--demo-users",
        type=int,
        default=0,
        help=f"seed N users that wander between states ({seeds})",
    )
    added: set[str] = set()
    for spec in specs.values():
        for option in spec.options:
            if option.flag not in added:  # two vendors may read one flag
                added.add(option.flag)
                sim.add_argument(option.flag, default=option.default, help=option.help)


def run(ns: argparse.Namespace) -> int:
    from presence_dash.demo import demo_people

    spec = simulators()[ns.provider]
    args = SimulateArgs(
        host=ns.host,
        port=spec.default_port if ns.port is None else ns.port,
        username=ns.username,
        password=os.environ.get(ns.password_env) or "secret",
        demo_people=tuple(p["id"] for p in demo_people()[: max(ns.demo_users, 0)]),
        options={o.dest: getattr(ns, o.dest) for o in spec.options},
    )
    try:
        started: SimulatorRun = load(spec.start)(args)
    except SimulateUsageError as exc:
        print(f"presence-dash: {exc}", file=sys.stderr)
        return 2
    for line in started.lines:
        print(line, flush=True)
    try:
        started.serve_forever()
    finally:
        started.shutdown()
    return 0


def screenmeet_simulator(args: SimulateArgs) -> SimulatorRun:
    from presence_dash.simulators import screenmeet
    from presence_dash.simulators.serve import SimulatorServer

    sim = screenmeet.ScreenMeetSim(username=args.username, password=args.password)
    server = SimulatorServer(screenmeet.create_app(sim), args.host, args.port)
    return SimulatorRun.single("screenmeet", server)
