"""Sign-in and sign-out, who am I, and the admin's tools: the audit log and kiosk tokens.

The admin page is plain HTML forms (no script needed to revoke a wall in a hurry); the same
operations are JSON under /api for scripts.
"""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user

from presence_dash.auth.gate import LOGIN_SESSION_KEY, AuthRuntime, LoginUser, current_auth
from presence_dash.auth.identity import Identity
from presence_dash.auth.kiosk import KioskToken
from presence_dash.auth.local_users import normalise_username
from presence_dash.auth.login_guard import Refusal
from presence_dash.auth.next_path import local_path
from presence_dash.core.timefmt import iso_z
from presence_dash.web.errors import error_response
from presence_dash.web.runtime import runtime

bp = Blueprint("auth", __name__)

MAX_NAME_CHARS = 100
DEMO_PASSWORD = "demo"  # the demo's accounts, shown on its sign-in page (demo only)


def _auth() -> AuthRuntime:
    return current_auth(current_app)


def _identity() -> Identity | None:
    return g.get("identity")


# -- sign-in ----------------------------------------------------------------------------------


@bp.get("/login")
def login_form() -> ResponseReturnValue:
    return _login_page()


def _login_page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    auth = _auth()
    demo_users = [u for u in auth.config.users] if auth.demo else []
    return (
        render_template(
            "login.html",
            title="Sign in",
            error=error,
            next_path=local_path(request.values.get("next")),
            auth_mode=auth.mode,
            demo_users=demo_users,
            demo_password=DEMO_PASSWORD,
        ),
        status,
    )


@bp.post("/login")
def login() -> ResponseReturnValue:
    auth = _auth()
    if auth.mode != "local":
        return _login_page("Sign-in is handled by your company's proxy here.", 400)
    username = normalise_username(request.form.get("username") or "")
    password = request.form.get("password") or ""
    addr = request.remote_addr or "-"
    refusal = auth.guard.check(username, addr)
    if refusal is not None:
        _record_login(auth, username, "refused", 429, refusal.reason)
        return _too_many(refusal)
    identity = auth.local.check(username, password) if username else None
    if identity is None:
        auth.guard.failed(username, addr)
        _record_login(auth, username, "failed", 401)
        return _login_page("Wrong user name or password.", 401)
    auth.guard.succeeded(username, addr)
    session.clear()  # no session fixation; also drops a kiosk token this browser held
    login_user(LoginUser(identity))
    session.permanent = True
    session[LOGIN_SESSION_KEY] = auth.sign_ins.start(identity.name)
    g.identity = identity
    _record_login(auth, identity.name, "ok", 200)
    return redirect(local_path(request.form.get("next")))


def _too_many(refusal: Refusal) -> ResponseReturnValue:
    wait = refusal.retry_after_s
    page = _login_page(f"Too many sign-in attempts. Try again in {_minutes(wait)}.", 429)
    response = current_app.make_response(page)
    response.headers["Retry-After"] = str(wait)
    return response


def _minutes(seconds: int) -> str:
    return f"{seconds} seconds" if seconds < 90 else f"{round(seconds / 60)} minutes"


def _record_login(
    auth: AuthRuntime, username: str, result: str, status: int, reason: str | None = None
) -> None:
    identity = auth.local.identity(username) if username else None
    auth.audit.record(
        actor=identity.name if identity else username or "-",
        role=identity.role.label if identity else "-",
        action="login",
        target="session",
        params={"refused": reason} if reason else {},  # never the password
        result=result,
        status=status,
        client_addr=request.remote_addr,
    )


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    auth = _auth()
    identity = _identity()
    if identity is not None and identity.via == "local":
        auth.record(identity, "logout", "session", {}, 200)
    login = session.get(LOGIN_SESSION_KEY)
    logout_user()
    session.clear()
    if isinstance(login, str):
        # Copies of this session's cookie are refused from now, and the user's other tabs
        # stop receiving at once.
        auth.sign_ins.end(login)
        socketio = runtime().socketio
        for sid in auth.sockets_of_login(login):
            socketio.server.disconnect(sid, namespace="/")
            auth.socket_gone(sid)
    return redirect("/login" if auth.mode == "local" else "/")


@bp.get("/api/me")
def me() -> ResponseReturnValue:
    identity = _identity()
    return jsonify(
        {"signed_in": identity is not None, "identity": identity.as_json() if identity else None}
    )


# -- admin: audit log -------------------------------------------------------------------------


@bp.get("/api/audit")
def audit_log() -> ResponseReturnValue:
    query = _audit_query()
    if isinstance(query, tuple):
        return query
    entries = _auth().audit.page(**query)
    return jsonify(
        {
            "entries": [e.as_json() for e in entries],
            "next_before_id": entries[-1].id if len(entries) == query["limit"] else None,
        }
    )


def _audit_query() -> dict | tuple:  # type: ignore[type-arg]
    args = request.args
    try:
        limit = int(args.get("limit", "50"))
        before_id = int(args["before_id"]) if args.get("before_id") else None
        since = _parse_time(args["since"]) if args.get("since") else None
    except ValueError:
        return error_response(400, "bad_query", "limit/before_id must be integers, since ISO 8601")
    if not 1 <= limit <= 200:
        return error_response(400, "bad_query", "limit must be between 1 and 200")
    return {
        "limit": limit,
        "before_id": before_id,
        "actor": args.get("actor") or None,
        "action": args.get("action") or None,
        "since": since,
    }


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("time zone required")
    return value


@bp.get("/admin")
def admin_page() -> ResponseReturnValue:
    auth = _auth()
    query = _audit_query()
    if isinstance(query, tuple):
        query = {"limit": 50, "before_id": None, "actor": None, "action": None, "since": None}
    entries = auth.audit.page(**query)
    return render_template(
        "admin.html",
        title="Admin",
        entries=entries,
        query=query,
        next_before_id=entries[-1].id if len(entries) == query["limit"] else None,
        tokens=auth.kiosks.all(),
        new_token=session.pop("new_kiosk_link", None),
        iso_z=iso_z,
    )


# -- admin: kiosk tokens ----------------------------------------------------------------------


def _token_json(token: KioskToken) -> dict[str, object]:
    return {
        "id": token.id,
        "name": token.name,
        "created_by": token.created_by,
        "created_at": iso_z(token.created_at),
        "revoked_by": token.revoked_by,
        "revoked_at": iso_z(token.revoked_at) if token.revoked_at else None,
        "active": token.active,
    }


@bp.get("/api/kiosk-tokens")
def list_kiosk_tokens() -> ResponseReturnValue:
    return jsonify({"tokens": [_token_json(t) for t in _auth().kiosks.all()]})


@bp.post("/api/kiosk-tokens")
def create_kiosk_token() -> ResponseReturnValue:
    body = request.get_json(silent=True)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME_CHARS:
        return error_response(400, "bad_name", f"name: 1 to {MAX_NAME_CHARS} characters")
    token, secret = _auth().kiosks.create(name.strip(), _identity().name)  # type: ignore[union-attr]
    return jsonify({**_token_json(token), "wall_url": _wall_url(secret)}), 201


@bp.post("/admin/kiosk-tokens")
def admin_create_kiosk_token() -> ResponseReturnValue:
    name = (request.form.get("name") or "").strip()
    auth = _auth()
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        abort(400, f"name: 1 to {MAX_NAME_CHARS} characters")
    _token, secret = auth.kiosks.create(name, _identity().name)  # type: ignore[union-attr]
    session["new_kiosk_link"] = {"name": name, "url": _wall_url(secret)}
    return redirect("/admin")


def _wall_url(secret: str) -> str:
    return f"{request.host_url}wall?kiosk={secret}"


@bp.delete("/api/kiosk-tokens/<int:token_id>")
def revoke_kiosk_token(token_id: int) -> ResponseReturnValue:
    token = _revoke(token_id)
    if token is None:
        return error_response(404, "unknown_token", f"no kiosk token {token_id}")
    return jsonify(_token_json(token))


@bp.post("/admin/kiosk-tokens/<int:token_id>/revoke")
def admin_revoke_kiosk_token(token_id: int) -> ResponseReturnValue:
    if _revoke(token_id) is None:
        abort(404, f"no kiosk token {token_id}")
    return redirect("/admin")


def _revoke(token_id: int) -> KioskToken | None:
    auth = _auth()
    token = auth.kiosks.revoke(token_id, _identity().name)  # type: ignore[union-attr]
    if token is not None:
        socketio = runtime().socketio
        for sid in auth.revoked_kiosk_sockets(token_id):
            socketio.server.disconnect(sid, namespace="/")
            auth.socket_gone(sid)
    return token
