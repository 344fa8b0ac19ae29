"""The two pages: `/` (agent view) and `/wall` (kiosk)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.blueprints import BlueprintSetupState

from presence_dash.providers.registry import provider_labels
from presence_dash.web.agent_plan import agent_context
from presence_dash.web.runtime import runtime, sees_details
from presence_dash.web.wall_plan import WallOptions, parse_options, wall_context

bp = Blueprint("pages", __name__)


def _render(template: str, title: str, wall: WallOptions | None = None) -> str:
    """A page's first paint; each view embeds only the people it renders (its plan)."""
    rt = runtime()
    snapshot = rt.hub.snapshot_payload(sees_details())
    teams = sorted({p["team"] for p in snapshot["people"]}, key=str.casefold)
    team = request.args.get("team") or None
    context = {"snapshot": snapshot, "teams": teams, "team_filter": team}
    if wall is not None:
        context.update(wall_context(snapshot, teams, wall))
    else:
        context.update(agent_context(snapshot, teams, team))
    return render_template(template, demo=rt.settings.demo, title=title, **context)


@bp.get("/")
def agent_view() -> str:
    return _render("agent.html", "Presence")


@bp.get("/wall")
def wall_view() -> str:
    """`?team=A&team=B`, `?view=summary`, `?sort=state`, `?rotate=SECONDS`, `?sound=1`
    (docs/api.md "Wall")."""
    options = parse_options(request.args.getlist("team"), request.args)
    return _render("wall.html", "Presence wall", options)


# Features beside the providers whose names the pages show too.
FEATURE_LABELS = {"screenmeet": "ScreenMeet"}


def page_labels() -> dict[str, str]:
    """The names the pages show for sources: from the registry, so no template or script
    names a vendor."""
    return {**provider_labels(), **FEATURE_LABELS}


@bp.record_once
def _labels_for_templates(state: BlueprintSetupState) -> None:
    # A global, not a context processor: _macros.html is imported without the context.
    # base.html hands the same names to static/js/labels.js (#provider-labels).
    state.app.jinja_env.globals["provider_labels"] = page_labels()
