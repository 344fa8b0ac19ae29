"""The two pages: `/` (agent view) and `/wall` (kiosk)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from .runtime import runtime, sees_details

bp = Blueprint("pages", __name__)


def _render(template: str, title: str) -> str:
    rt = runtime()
    snapshot = rt.hub.snapshot_payload(sees_details())
    teams = sorted({p["team"] for p in snapshot["people"]}, key=str.casefold)
    team = request.args.get("team") or None
    return render_template(
        template,
        snapshot=snapshot,
        teams=teams,
        team_filter=team,
        demo=rt.settings.demo,
        title=title,
    )


@bp.get("/")
def agent_view() -> str:
    return _render("agent.html", "Presence")


@bp.get("/wall")
def wall_view() -> str:
    return _render("wall.html", "Presence wall")
