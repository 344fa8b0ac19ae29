"""The gate every HTTP request and Socket.IO connection passes: who is asking, may they,
is it really from our page (CSRF, cross-site), not too often, and the audit record of
every action.

Rules come from `policy.py` by endpoint name, so they live in one table; a route without
a rule is refused (and a test lists it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, Response, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from prometheus_client import CollectorRegistry

from presence_dash.auth.audit import AuditLog
from presence_dash.auth.header_auth import HeaderAuth, NoRole, SpoofedHeader
from presence_dash.auth.identity import NO_SIGN_IN, Identity
from presence_dash.auth.kiosk import KioskTokens
from presence_dash.auth.local_users import LocalUsers
from presence_dash.auth.login_guard import LoginGuard, LoginPolicy
from presence_dash.auth.next_path import local_path
from presence_dash.auth.noise_log import NoiseLog
from presence_dash.auth.policy import SOCKET_EVENTS, Rule, allows, rule_for_route
from presence_dash.auth.rate_limits import RateLimits
from presence_dash.auth.roles import Role
from presence_dash.auth.sign_ins import SignIns
from presence_dash.config import AuthConfig, Settings, is_loopback
from presence_dash.core.warn_once import WarnOnce
from presence_dash.web.errors import error_response
from presence_dash.web.request_limits import audit_body

log = logging.getLogger(__name__)

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KIOSK_SESSION_KEY = "kiosk"
LOGIN_SESSION_KEY = "login_id"  # a random id per sign-in (sign_ins.py), shared by its sockets
# Vendor callbacks authenticate themselves (signatures, subscription ids); browsers never
# post there, so CSRF and cross-site checks do not apply.
UNCHECKED_BLUEPRINTS = frozenset({"hooks"})
# Routes that write their own audit row: sign-in knows the user name tried (and must never
# record the password field), sign-out writes its row while the session still says who.
SELF_AUDITED = frozenset({"auth.login", "auth.logout"})


class LoginUser(UserMixin):
    """Flask-Login's view of a local user; the id is the user name."""

    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    def get_id(self) -> str:
        return self.identity.name


@dataclass(frozen=True)
class ConnectedSocket:
    identity: Identity
    login: str | None  # LOGIN_SESSION_KEY of the sign-in, None for kiosks and proxies


@dataclass
class AuthRuntime:
    config: AuthConfig
    local: LocalUsers
    header: HeaderAuth | None
    kiosks: KioskTokens
    audit: AuditLog
    limits: RateLimits
    sign_ins: SignIns
    guard: LoginGuard
    noise: NoiseLog
    demo: bool
    # Routes an embedding program adds to this app (e.g. the benchmark's control routes).
    extra_routes: dict[str, Rule] = field(default_factory=dict)
    # Socket.IO sid -> who connected and from which sign-in (kiosk screens are disconnected
    # when revoked, a sign-in's tabs when it signs out).
    sockets: dict[str, ConnectedSocket] = field(default_factory=dict)
    _warn: WarnOnce = field(default_factory=lambda: WarnOnce(log, "auth: "))

    @property
    def mode(self) -> str:
        return self.config.mode

    # -- who is asking -----------------------------------------------------------------------

    def identify(self) -> Identity | None:
        """The identity of the current request (HTTP or Socket.IO handshake). Raises
        SpoofedHeader / NoRole in header mode."""
        kiosk = self._kiosk_identity()
        if kiosk is not None:
            return kiosk
        if self.mode == "none":
            return NO_SIGN_IN
        if self.mode == "header":
            assert self.header is not None
            found = self.header.identify(request.remote_addr, request.headers)
        else:
            found = current_user.identity if current_user.is_authenticated else None
        if found is None and self.config.anonymous_role:
            return Identity("anonymous", Role.VIEWER, "anonymous")
        return found

    def _kiosk_identity(self) -> Identity | None:
        offered = request.args.get("kiosk")
        if offered is not None:
            session[KIOSK_SESSION_KEY] = offered
            session.permanent = True
        secret = session.get(KIOSK_SESSION_KEY)
        if not isinstance(secret, str):
            return None
        token = self.kiosks.verify(secret)
        if token is None:
            session.pop(KIOSK_SESSION_KEY, None)
            if offered is not None:
                raise KioskRefused()
            return None
        return Identity(f"kiosk:{token.name}", Role.VIEWER, "kiosk", kiosk_id=token.id)

    # -- Socket.IO ---------------------------------------------------------------------------

    def socket_connect(self, sid: str) -> bool:
        """Called in the handshake's request context: may this client listen?"""
        try:
            identity = self.identify()
        except (SpoofedHeader, NoRole, KioskRefused) as exc:
            self.warn_once(
                f"socket:{request.remote_addr}:{type(exc).__name__}", f"socket refused: {exc}"
            )
            return False
        rule = SOCKET_EVENTS["connect"]
        if identity is None or not allows(rule, identity.role, kiosk=identity.is_kiosk):
            return False
        login = session.get(LOGIN_SESSION_KEY) if identity.via == "local" else None
        self.sockets[sid] = ConnectedSocket(identity, login if isinstance(login, str) else None)
        return True

    def sees_details(self, sid: str) -> bool:
        client = self.sockets.get(sid)
        return client is not None and client.identity.sees_provider_details

    def socket_allowed(self, sid: str, event: str) -> bool:
        client = self.sockets.get(sid)
        rule = SOCKET_EVENTS.get(event)
        if client is None or rule is None:
            return False
        if client.login is not None and not self.sign_ins.active(client.login):
            return False  # signed out (perhaps on another node) since it connected
        return allows(rule, client.identity.role, kiosk=client.identity.is_kiosk)

    def socket_gone(self, sid: str) -> None:
        self.sockets.pop(sid, None)

    def sockets_of_login(self, login: str) -> list[str]:
        return [sid for sid, client in list(self.sockets.items()) if client.login == login]

    def ended_sign_in_sockets(self) -> list[str]:
        """Sids whose sign-in has ended since they connected: signed out on another node
        (this node's sign-outs disconnect at once) or expired."""
        logins = {c.login for c in list(self.sockets.values()) if c.login}
        active = self.sign_ins.active_among(logins)
        return [s for s, c in list(self.sockets.items()) if c.login and c.login not in active]

    def revoked_kiosk_sockets(self, revoked_id: int | None = None) -> list[str]:
        """Sids of wall screens whose token is revoked: `revoked_id` right after a revocation
        here; otherwise asks the database (a revocation on another node)."""
        kiosk_sids = {
            sid: c.identity.kiosk_id for sid, c in list(self.sockets.items()) if c.identity.kiosk_id
        }
        if revoked_id is not None:
            return [sid for sid, kid in kiosk_sids.items() if kid == revoked_id]
        active = self.kiosks.active_ids({kid for kid in kiosk_sids.values() if kid})
        return [sid for sid, kid in kiosk_sids.items() if kid not in active]

    def warn_once(self, key: str, message: str) -> None:
        self._warn(message, key=key)

    # -- actions -----------------------------------------------------------------------------

    def record(
        self, identity: Identity | None, action: str, target: str, params: Any, status: int
    ) -> None:
        result = "ok" if status < 400 else "refused" if status in (401, 403, 429) else "failed"
        self.audit.record(
            actor=identity.name if identity else "unknown",
            role=identity.role.label if identity else "-",
            action=action,
            target=target,
            params=params,
            result=result,
            status=status,
            client_addr=request.remote_addr,
        )


class KioskRefused(Exception):
    """A `?kiosk=` token that is unknown or revoked."""


def install_auth(
    app: Flask,
    settings: Settings,
    engine: sa.Engine,
    clock: Callable[[], datetime],
    monotonic: Callable[[], float] = time.monotonic,
    registry: CollectorRegistry | None = None,
) -> AuthRuntime:
    config = settings.config.auth
    queue = settings.server.message_queue
    limits = RateLimits(queue if queue.startswith("redis") else "memory://")
    audit = AuditLog(engine, clock)
    auth = AuthRuntime(
        config=config,
        local=LocalUsers(config.users),
        header=HeaderAuth.from_config(config) if config.mode == "header" else None,
        kiosks=KioskTokens(engine, clock, monotonic),
        audit=audit,
        limits=limits,
        sign_ins=SignIns(engine, clock, monotonic, timedelta(minutes=config.session_minutes)),
        guard=LoginGuard(limits, LoginPolicy.from_config(config)),
        noise=NoiseLog(audit, limits, monotonic, registry),
        demo=settings.demo,
    )
    secure = config.secure_cookies
    if secure is None:
        secure = not is_loopback(settings.server.host)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_NAME="presence_dash_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=config.session_minutes),
        # The gate calls protect() itself: not in mode "none", never on vendor hooks.
        WTF_CSRF_CHECK_DEFAULT=False,
        # A page left open all shift must still be able to act: the token lives as long as
        # the session.
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf = CSRFProtect(app)
    login_manager = LoginManager(app)

    @login_manager.user_loader
    def _load_user(user_id: str) -> LoginUser | None:
        # The cookie alone is not enough: its sign-in must still be on record (a copy of a
        # signed-out or expired cookie is nobody).
        if config.mode != "local" or not auth.sign_ins.active(session.get(LOGIN_SESSION_KEY)):
            return None
        identity = auth.local.identity(user_id)
        return LoginUser(identity) if identity else None

    @app.before_request
    def _gate() -> ResponseReturnValue | None:
        if request.endpoint is None:
            return _unknown_path(auth)  # no such route: a 404 follows, or a 429
        try:
            identity = auth.identify()
        except SpoofedHeader as exc:
            auth.warn_once(f"spoof:{request.remote_addr}", str(exc))
            return _audited(
                auth,
                None,
                _refuse(
                    403,
                    "untrusted_proxy",
                    "identity headers are accepted only from the configured proxy",
                ),
            )
        except NoRole as exc:
            auth.warn_once(f"norole:{exc}", str(exc))
            return _audited(
                auth,
                None,
                _refuse(403, "no_role", "your groups give you no access to this dashboard"),
            )
        except KioskRefused:
            return _audited(
                auth,
                None,
                _refuse(
                    403,
                    "kiosk_token_invalid",
                    "this wall link is wrong or was revoked; ask an admin for a new one",
                ),
            )
        g.identity = identity
        rule = auth.extra_routes.get(request.endpoint) or rule_for_route(request.endpoint)
        if rule is None:
            log.error("auth: route %s has no access rule; refused", request.endpoint)
            return _refuse(403, "no_access_rule", "this route has no access rule")
        checked = request.method in STATE_CHANGING and request.blueprint not in UNCHECKED_BLUEPRINTS
        if checked and _cross_site():
            auth.warn_once(
                f"xsite:{request.headers.get('Origin')}",
                f"refused a cross-site {request.method} {request.path} "
                f"from {request.headers.get('Origin')!r}",
            )
            return _audited(
                auth,
                identity,
                _refuse(403, "cross_site_request", "requests from other sites are refused"),
            )
        if checked and auth.mode != "none":
            csrf.protect()  # raises CSRFError -> the handler below
        if not allows(
            rule, identity.role if identity else None, kiosk=bool(identity and identity.is_kiosk)
        ):
            if identity is None:
                if request.path.startswith("/api/") or request.method != "GET":
                    return _audited(
                        auth, identity, _refuse(401, "sign_in_required", "sign in first")
                    )
                return redirect(url_for("auth.login_form", next=local_path(request.full_path)))
            return _audited(
                auth,
                identity,
                _refuse(403, "forbidden", f"the {identity.role.label} role cannot do this"),
            )
        if checked and request.path.startswith("/api/") and identity is not None:
            verdict = auth.limits.hit(config.action_rate_limit, "action", identity.name)
            if not verdict.allowed:
                response = _refuse(429, "rate_limited", "too many actions; slow down")
                response.headers["Retry-After"] = str(verdict.retry_after_s)
                return _audited(auth, identity, response)
        return None

    @app.after_request
    def _audit_actions(response: Response) -> Response:
        _record_action(auth, g.get("identity"), response.status_code)
        return response

    @app.errorhandler(CSRFError)
    def _csrf_failed(exc: CSRFError) -> ResponseReturnValue:
        response = _refuse(
            403, "csrf_failed", f"missing or wrong CSRF token ({exc.description}); reload the page"
        )
        return _audited(auth, g.get("identity"), response)

    @app.context_processor
    def _identity_for_templates() -> dict[str, Any]:
        identity = g.get("identity")
        return {"identity": identity, "auth_mode": auth.mode}

    app.extensions["presence_dash_auth"] = auth
    return auth


def _audited(auth: AuthRuntime, identity: Identity | None, response: Response) -> Response:
    """Refused actions are recorded too (who tried what). Refusing someone who has not
    signed in is anonymous noise instead: counted, and limited per address."""
    if identity is None or identity.is_anonymous:
        response = _anonymous_noise(auth) or response
    _record_action(auth, identity, response.status_code)
    return response


def _unknown_path(auth: AuthRuntime) -> Response | None:
    """A path with no route: signed-in users get their 404 (and their audit row); from
    anyone else it is noise."""
    try:
        identity = auth.identify()
    except (SpoofedHeader, NoRole, KioskRefused):
        identity = None
    if identity is not None and not identity.is_anonymous:
        g.identity = identity
        return None
    return _anonymous_noise(auth)


def _anonymous_noise(auth: AuthRuntime) -> Response | None:
    """Mark this request as anonymous noise (counted, not audited one row each); a 429
    once its address has sent NOISE_LIMIT of them."""
    g.anonymous_noise = True
    verdict = auth.noise.limit(request.remote_addr or "-")
    if verdict.allowed:
        return None
    response = _refuse(429, "rate_limited", "too many refused requests from your address")
    response.headers["Retry-After"] = str(verdict.retry_after_s)
    return response


def _record_action(auth: AuthRuntime, identity: Identity | None, status: int) -> None:
    """One audit row per state-changing API request, whatever its outcome."""
    if g.get("anonymous_noise"):
        if not g.get("noise_noted"):
            g.noise_noted = True
            auth.noise.note(request.remote_addr or "-", request.method, request.path, status)
        return
    if request.method not in STATE_CHANGING or request.blueprint in UNCHECKED_BLUEPRINTS:
        return
    if request.endpoint in SELF_AUDITED:
        return
    if g.get("audited"):
        return
    g.audited = True
    # JSON calls and plain forms (the admin page) alike; secrets are redacted by key. Never
    # request.get_json here: a body refused for its size or depth would raise again (a 500,
    # and no row); audit_body reuses the checked parse or says why there is none.
    body = audit_body()
    params = {"args": request.view_args or {}, "body": body}
    auth.record(identity, request.endpoint or request.path, request.path, params, status)


def _refuse(status: int, code: str, message: str) -> Response:
    if request.path.startswith(("/api/", "/hooks/")) or request.method != "GET":
        body, status = error_response(status, code, message)  # type: ignore[misc]
        body.status_code = status
        return body
    return Response(
        render_template("refused.html", title="Not allowed", message=message, status=status),
        status=status,
    )


def _cross_site() -> bool:
    """A browser says where a request comes from (Sec-Fetch-Site, Origin); scripts such as
    curl send neither and are judged by the CSRF token alone."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin == "null"
    parts = urlsplit(origin)
    return parts.netloc != request.host


def current_auth(app: Flask) -> AuthRuntime:
    return app.extensions["presence_dash_auth"]


def allow_route(app: Flask, endpoint: str, rule: Rule) -> None:
    """Give a route added outside the package (benchmarks, embedding programs) its access
    rule; without one the gate refuses it like any unlisted route."""
    current_auth(app).extra_routes[endpoint] = rule
