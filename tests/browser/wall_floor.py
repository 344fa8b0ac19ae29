"""Fake floors for the wall's browser tests: many people over a few teams, in every status."""

from __future__ import annotations

from typing import Any

import fake_pages
from fake_pages import person

TEAMS = ("Billing", "Field", "Network", "Sales", "Service Desk")
STATUSES = ("online", "online", "busy", "away", "offline", "online", "unknown")


def floor(count: int, teams: tuple[str, ...] = TEAMS) -> list[dict[str, Any]]:
    """`count` people round-robin over `teams`; `since` spread over the last hour."""
    people = []
    for i in range(count):
        p = person(f"person-{i:04d}", teams[i % len(teams)], STATUSES[i % len(STATUSES)])
        p["since"] = f"2026-11-23T09:{i % 60:02d}:00.000Z"
        people.append(p)
    return people


def alerts_body(alerts: list[dict[str, Any]], teams: dict[str, dict[str, Any]]) -> dict:
    """A GET /api/alerts body (docs/api.md "Alerts")."""
    full = {
        team: {
            "min_online": None,
            "max_away_minutes": None,
            "max_busy_minutes": None,
            "people": 0,
            "online": 0,
            "short": False,
        }
        | limits
        for team, limits in teams.items()
    }
    return {"server_time": fake_pages.SERVER_TIME, "alerts": alerts, "teams": full}
