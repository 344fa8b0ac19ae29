"""What each HTTP route and Socket.IO event needs. One table, checked before every request:
a route that is not in it is refused (and a test fails), so a new route cannot ship open
by accident."""

from __future__ import annotations

from dataclasses import dataclass

from presence_dash.auth.roles import Role


@dataclass(frozen=True)
class Rule:
    """`role=None`: public (no sign-in). `kiosk`: a wall token may use it."""

    role: Role | None
    kiosk: bool = False


PUBLIC = Rule(None)
VIEW = Rule(Role.VIEWER, kiosk=True)

# Flask endpoint names -> rule.
ROUTES: dict[str, Rule] = {
    "static": PUBLIC,
    "health.healthz": PUBLIC,
    "health.readyz": PUBLIC,  # load balancers; error details only for admins
    "health.metrics": PUBLIC,  # Prometheus scrapes without a session; counts only
    "hooks.vendor_hook": PUBLIC,  # vendors authenticate by signature / subscription id
    "auth.login_form": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    "auth.me": PUBLIC,
    "pages.wall_view": VIEW,
    "pages.agent_view": Rule(Role.VIEWER),
    "api.presence": VIEW,
    "alerts_api.list_alerts": VIEW,
    "api.person_history": Rule(Role.VIEWER),
    "api.openapi_document": Rule(Role.VIEWER),
    "visitors.list_visitors": VIEW,
    "visitors.cobrowse": Rule(Role.AGENT),
    "visitors.signal": Rule(Role.AGENT),
    "screenmeet.list_sessions": Rule(Role.AGENT),
    "screenmeet.create_session": Rule(Role.AGENT),
    "screenmeet.reschedule_session": Rule(Role.AGENT),
    "screenmeet.close_session": Rule(Role.AGENT),
    "auth.admin_page": Rule(Role.ADMIN),
    "auth.audit_log": Rule(Role.ADMIN),
    "auth.list_kiosk_tokens": Rule(Role.ADMIN),
    "auth.create_kiosk_token": Rule(Role.ADMIN),
    "auth.revoke_kiosk_token": Rule(Role.ADMIN),
    "auth.admin_create_kiosk_token": Rule(Role.ADMIN),
    "auth.admin_revoke_kiosk_token": Rule(Role.ADMIN),
}

# Socket.IO events from clients -> rule ("connect" decides who may listen at all).
SOCKET_EVENTS: dict[str, Rule] = {
    "connect": VIEW,
    "resync": VIEW,
}


def rule_for_route(endpoint: str | None) -> Rule | None:
    """None: no rule, so the request is refused."""
    return ROUTES.get(endpoint or "")


def allows(rule: Rule, role: Role | None, *, kiosk: bool) -> bool:
    if rule.role is None:
        return True
    if role is None:
        return False
    if kiosk and not rule.kiosk:
        return False
    return role >= rule.role
