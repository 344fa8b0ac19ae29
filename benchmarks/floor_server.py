"""A big floor for the wall: presence-dash with N people in 10 teams, a realistic mix of
states (busy with activities, away for a while, offline), thresholds on some teams, and a
synthetic provider that changes R people per second once `POST /_bench/go` is called.

    python benchmarks/floor_server.py PEOPLE RATE PORT

Used by benchmarks/bench_browser.py (timings in headless Chromium) and
scripts/screenshot_wall.py --floor (the 5,000-person screenshots). Changes go through the
real path (provider -> ProviderRunner -> PresenceBoard -> PushHub -> Socket.IO).
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    from presence_dash.launch import patch_runtime

    patch_runtime("eventlet")

import logging
import os
import random
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta

import requests

from presence_dash.auth.gate import allow_route
from presence_dash.auth.policy import PUBLIC
from presence_dash.config import settings_from_dict
from presence_dash.core.clock import Clock
from presence_dash.core.model import Observation, Person, Status
from presence_dash.core.timefmt import utc_now
from presence_dash.factory import create_app
from presence_dash.providers.base import PollingProvider

TEAMS = (
    "Service Desk",
    "Field Engineering",
    "Network Operations",
    "Billing",
    "Sales",
    "Onboarding",
    "Escalations",
    "Identity & Access",
    "Hardware",
    "Facilities",
)
FIRST = (
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Barbara",
    "Dennis",
    "Ken",
    "Frances",
    "Edsger",
    "Hedy",
    "Katherine",
    "Radia",
    "Sophie",
    "Tim",
    "Vint",
    "Jean",
    "Donald",
)
LAST = (
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Hamilton",
    "Liskov",
    "Ritchie",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Lamarr",
    "Johnson",
    "Perlman",
    "Wilson",
    "Berners-Lee",
    "Cerf",
    "Bartik",
    "Knuth",
)
# (status, activity, weight): what a floor looks like mid-morning.
MIX = (
    (Status.ONLINE, None, 50),
    (Status.BUSY, "On the phone", 18),
    (Status.BUSY, "In a meeting", 6),
    (Status.AWAY, None, 14),
    (Status.OFFLINE, None, 12),
)
POLL_SECONDS = 0.05


def floor_people(count: int) -> list[dict[str, str]]:
    return [
        {
            "id": f"p{i:05d}",
            "name": f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}",
            "team": TEAMS[i % len(TEAMS)],
        }
        for i in range(count)
    ]


def floor_teams(count: int) -> list[dict[str, object]]:
    """Thresholds: every team needs about half its people online (two teams cannot make it),
    and away or busy for longer than 30 / 35 minutes is flagged (a few percent of them)."""
    per_team = count // len(TEAMS)
    teams = []
    for i, name in enumerate(TEAMS):
        minimum = max(1, per_team // 2) if i not in (1, 4) else per_team  # 2 teams short
        teams.append(
            {"name": name, "min_online": minimum, "max_away_minutes": 30, "max_busy_minutes": 35}
        )
    return teams


class FloorProvider(PollingProvider):
    """First poll: everyone in a state from MIX, begun 0-90 minutes ago (vendor stamps).
    After `go()`: `rate` people per second move to a new state from MIX."""

    name = "servicenow"

    def __init__(self, people: Sequence[Person], clock: Clock, rate: float) -> None:
        super().__init__(people, requests.Session(), clock)
        self.ids = [p.id for p in people]
        self.rate = rate
        self.rng = random.Random(12)
        self.flips = 0
        self._first = True
        self._running = False
        self._last = 0.0
        self._debt = 0.0

    @property
    def poll_seconds(self) -> float:
        return POLL_SECONDS

    def go(self) -> None:
        if not self._running:
            self._last = time.monotonic()
            self._running = True

    def _pick(self) -> tuple[Status, str | None]:
        status, activity, _ = self.rng.choices(MIX, weights=[m[2] for m in MIX])[0]
        return status, activity

    def poll(self) -> list[Observation]:
        now = self.clock()
        if self._first:
            self._first = False
            out = []
            for pid in self.ids:
                status, activity = self._pick()
                began = now - timedelta(minutes=self.rng.uniform(0, 40))
                out.append(
                    Observation(pid, self.name, status, now, activity=activity, state_since=began)
                )
            return out
        if not self._running:
            return []
        mono = time.monotonic()
        self._debt += (mono - self._last) * self.rate
        self._last = mono
        count = min(int(self._debt), len(self.ids))
        self._debt -= count
        out = []
        for pid in self.rng.sample(self.ids, count):
            status, activity = self._pick()
            out.append(Observation(pid, self.name, status, now, activity=activity, state_since=now))
        self.flips += count
        return out


def main(argv: list[str]) -> int:
    people, rate, port = int(argv[0]), float(argv[1]), int(argv[2])
    logging.basicConfig(level=logging.WARNING)
    database = f"sqlite:///{tempfile.mkdtemp()}/history.db"
    settings = settings_from_dict(
        {
            "server": {"host": "127.0.0.1", "port": port, "database": database},
            "teams": floor_teams(people),
            "people": floor_people(people),
        },
        os.environ,
    )
    provider = FloorProvider(settings.people(), utc_now, rate)
    app = create_app(settings, providers=[provider])
    runtime = app.extensions["presence_dash"]
    runtime.board._stale_after[provider.name] = timedelta(seconds=30)

    def go():
        provider.go()
        return {"ok": True}

    def stats():
        return {"flips": provider.flips, "seq": runtime.board.seq}

    app.add_url_rule("/_bench/go", "bench_go", go, methods=["POST"])
    app.add_url_rule("/_bench/stats", "bench_stats", stats)
    for endpoint in ("bench_go", "bench_stats"):  # loopback-only control routes
        allow_route(app, endpoint, PUBLIC)
    runtime.start()
    print(f"floor server pid {os.getpid()} on 127.0.0.1:{port}", flush=True)
    try:
        runtime.socketio.run(
            app, host="127.0.0.1", port=port, log_output=False, allow_unsafe_werkzeug=True
        )
    finally:
        runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
