"""Sign-in, CSRF, cross-site refusal, lockout, kiosk revocation, audit rows and secret
hygiene against the real dashboard process over real sockets (requests + python-socketio).
Sign-out, lockouts, `next` and anonymous noise have their own file (test_sign_in_server.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from auth_helpers import (
    PASSWORDS,
    PEOPLE,
    audit,
    auth_toml,
    cookie_header,
    csrf,
    session_from,
    sign_in,
)
from helpers import (
    SN_PASSWORD,
    SN_PASSWORD_ENV,
    DashServer,
    EventRecorder,
    SnSimHandle,
    sys_id,
    wait_for,
)


@pytest.fixture
def dash(
    tmp_path: Path, sn_sim: SnSimHandle, make_config: Callable[..., Path], dash_server: Any
) -> DashServer:
    config = make_config(tmp_path, PEOPLE, sn_sim.url)
    config.write_text(config.read_text() + auth_toml())
    return dash_server(config)


def test_pages_need_sign_in_and_the_sign_in_form_works(dash: DashServer) -> None:
    anonymous = requests.get(dash.url + "/", allow_redirects=False, timeout=5)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login?next=/")
    assert requests.get(dash.url + "/api/presence", timeout=5).status_code == 401

    session = requests.Session()
    token = csrf(session, dash.url + "/login")
    wrong = session.post(
        dash.url + "/login",
        data={"username": "abe", "password": "nope", "csrf_token": token},
        timeout=5,
    )
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text

    agent = sign_in(dash, "abe")
    page = agent.get(dash.url + "/", timeout=5)
    assert page.status_code == 200 and 'data-role="agent"' in page.text
    cookie = next(c for c in agent.cookies if c.name == "presence_dash_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert agent.get(dash.url + "/api/me", timeout=5).json()["identity"] == {
        "name": "abe",
        "role": "agent",
        "via": "local",
    }
    # A tab of this sign-in listens on a socket.
    client = socketio.Client(reconnection=False)
    events = EventRecorder(client)
    gone: list[bool] = []
    client.on("disconnect", lambda *args: gone.append(True))
    cookie = cookie_header(agent)
    client.connect(dash.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=5)
    events.wait("snapshot", timeout=5)
    # Sign-out ends the session for good, and that tab's socket with it.
    token = csrf(agent, dash.url + "/")
    agent.post(dash.url + "/logout", data={"csrf_token": token}, timeout=5)
    assert agent.get(dash.url + "/api/presence", timeout=5).status_code == 401
    wait_for(lambda: gone, 5, what="the signed-out tab's socket to close")
    client.disconnect()


def test_state_changing_calls_need_the_csrf_token_and_refuse_other_sites(
    dash: DashServer,
) -> None:
    admin = sign_in(dash, "ada-admin")
    url = dash.url + "/api/kiosk-tokens"
    no_token = admin.post(url, json={"name": "lobby"}, timeout=5)
    assert no_token.status_code == 403
    assert no_token.json()["error"]["code"] == "csrf_failed"
    token = csrf(admin, dash.url + "/")
    cross_site = admin.post(
        url,
        json={"name": "lobby"},
        headers={"X-CSRFToken": token, "Origin": "https://evil.example"},
        timeout=5,
    )
    assert cross_site.status_code == 403
    assert cross_site.json()["error"]["code"] == "cross_site_request"
    ok = admin.post(url, json={"name": "lobby"}, headers={"X-CSRFToken": token}, timeout=5)
    assert ok.status_code == 201, ok.text
    # Sign-in itself is CSRF-protected (no logging people into an attacker's account).
    forged = requests.post(
        dash.url + "/login", data={"username": "abe", "password": PASSWORDS["abe"]}, timeout=5
    )
    assert forged.status_code == 403


def test_a_viewer_cannot_act_and_the_refusal_is_audited(dash: DashServer) -> None:
    viewer = sign_in(dash, "vera")
    token = csrf(viewer, dash.url + "/")
    refused = viewer.post(
        dash.url + "/api/kiosk-tokens",
        json={"name": "x"},
        headers={"X-CSRFToken": token},
        timeout=5,
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert viewer.get(dash.url + "/admin", timeout=5).status_code == 403
    entries = audit(dash, actor="vera")
    assert entries[0]["action"] == "auth.create_kiosk_token"
    assert (entries[0]["result"], entries[0]["status"], entries[0]["role"]) == (
        "refused",
        403,
        "viewer",
    )


def test_repeated_wrong_passwords_lock_the_user_out_and_are_audited(dash: DashServer) -> None:
    session = requests.Session()
    token = csrf(session, dash.url + "/login")
    for _ in range(3):
        answer = session.post(
            dash.url + "/login",
            data={"username": "abe", "password": "guess", "csrf_token": token},
            timeout=5,
        )
        assert answer.status_code == 401
    # Locked: even the right password is refused now, with a time to come back.
    locked = session.post(
        dash.url + "/login",
        data={"username": "abe", "password": PASSWORDS["abe"], "csrf_token": token},
        timeout=5,
    )
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    # Other users are not locked out by abe's attacker, and nor is abe at his own desk.
    sign_in(dash, "vera")
    sign_in(dash, "abe", session=session_from("127.0.0.2"))
    logins = audit(dash, action="login", actor="abe")
    assert [e["result"] for e in logins[:5]] == ["ok", "refused", "failed", "failed", "failed"]
    assert logins[1]["params"] == {"refused": "lockout"}
    assert all(e["params"] in ({}, {"refused": "lockout"}) for e in logins)  # no password


def test_a_revoked_kiosk_link_disconnects_the_wall_within_seconds(dash: DashServer) -> None:
    admin = sign_in(dash, "ada-admin")
    token = csrf(admin, dash.url + "/")
    created = admin.post(
        dash.url + "/api/kiosk-tokens",
        json={"name": "3rd floor TV"},
        headers={"X-CSRFToken": token},
        timeout=5,
    ).json()
    wall = requests.Session()
    page = wall.get(created["wall_url"], timeout=5)
    assert page.status_code == 200 and 'data-view="wall"' in page.text
    # The wall link watches only: no agent view, no actions, no admin.
    assert wall.get(dash.url + "/", allow_redirects=False, timeout=5).status_code in (302, 403)
    cookie = cookie_header(wall)
    client = socketio.Client(reconnection=False)
    events = EventRecorder(client)
    disconnected: list[str] = []
    client.on("disconnect", lambda *args: disconnected.append("yes"))
    client.connect(dash.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=5)
    try:
        events.wait("snapshot", timeout=5)
        revoked = admin.delete(
            dash.url + f"/api/kiosk-tokens/{created['id']}",
            headers={"X-CSRFToken": token},
            timeout=5,
        )
        assert revoked.status_code == 200 and revoked.json()["active"] is False
        wait_for(lambda: disconnected, 5, what="the wall's socket to be disconnected")
        assert wall.get(dash.url + "/wall", allow_redirects=False, timeout=5).status_code != 200
        again = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            again.connect(
                dash.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=5
            )
    finally:
        client.disconnect()
    actions = [e["action"] for e in audit(dash, actor="ada-admin")]
    assert "auth.revoke_kiosk_token" in actions and "auth.create_kiosk_token" in actions


def test_sockets_need_a_signed_in_user(dash: DashServer) -> None:
    anonymous = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        anonymous.connect(dash.url, transports=["websocket"], wait_timeout=5)
    viewer = sign_in(dash, "vera")
    cookie = cookie_header(viewer)
    client = socketio.Client(reconnection=False)
    events = EventRecorder(client)
    client.connect(dash.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=5)
    try:
        snapshot = events.wait("snapshot", timeout=5)
        assert {p["id"] for p in snapshot["people"]} == {"ada", "grace"}
    finally:
        client.disconnect()
    # Another site's page cannot open a socket with the user's cookie.
    foreign = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        foreign.connect(
            dash.url,
            headers={"Cookie": cookie, "Origin": "https://evil.example"},
            transports=["websocket"],
            wait_timeout=5,
        )


def test_actions_are_rate_limited_per_user(dash: DashServer) -> None:
    admin = sign_in(dash, "ada-admin")
    token = csrf(admin, dash.url + "/")
    codes = [
        admin.post(
            dash.url + "/api/kiosk-tokens",
            json={"name": f"tv{i}"},
            headers={"X-CSRFToken": token},
            timeout=5,
        ).status_code
        for i in range(6)
    ]
    assert codes == [201] * 5 + [429]


def test_no_secret_reaches_the_log_or_an_error_body(
    tmp_path: Path, sn_sim: SnSimHandle, make_config: Callable[..., Path], dash_server: Any
) -> None:
    sn_sim.set_password("rotated-on-the-vendor-side")  # our SN password is now wrong: 401s
    config = make_config(tmp_path, PEOPLE, sn_sim.url)
    config.write_text(config.read_text() + auth_toml())
    dash = dash_server(config)
    admin = sign_in(dash, "ada-admin")

    def readyz(session: requests.Session) -> dict[str, Any]:
        return session.get(dash.url + "/readyz", timeout=5).json()

    wait_for(
        lambda: "401" in str(readyz(admin)["problems"].get("servicenow", "")),
        10,
        what="the provider's 401 to show in /readyz",
    )
    # The vendor's error text is an admin's detail; others (and load balancers) get states.
    assert readyz(requests.Session())["problems"]["servicenow"] == "down"
    assert readyz(requests.Session())["providers"]["servicenow"]["error"] is None
    viewer = sign_in(dash, "vera")
    assert (
        viewer.get(dash.url + "/api/presence", timeout=5).json()["providers"]["servicenow"]["error"]
        is None
    )
    assert (
        "401"
        in admin.get(dash.url + "/api/presence", timeout=5).json()["providers"]["servicenow"][
            "error"
        ]
    )
    session = requests.Session()
    token = csrf(session, dash.url + "/login")
    session.post(
        dash.url + "/login",
        data={"username": "abe", "password": "hunter2-typed-in-the-wrong-box", "csrf_token": token},
        timeout=5,
    )
    bodies = [
        dash.get("/readyz").text,
        dash.get("/metrics").text,
        requests.get(dash.url + "/api/presence", timeout=5).text,
    ]
    dash.stop()
    everything = dash.output() + "".join(bodies)
    for secret in (SN_PASSWORD, "hunter2-typed-in-the-wrong-box", PASSWORDS["abe"]):
        assert secret not in everything
    assert sys_id("ada")  # the people are configured: the server really polled


def test_header_mode_believes_only_the_configured_proxy(
    tmp_path: Path, sn_sim: SnSimHandle, make_config: Callable[..., Path], dash_server: Any
) -> None:
    def start(proxies: str) -> DashServer:
        config = make_config(tmp_path, PEOPLE, sn_sim.url)
        config.write_text(
            config.read_text()
            + f'\n[auth]\nmode = "header"\ntrusted_proxies = [{proxies}]\n'
            + '[auth.group_roles]\n"support-admins" = "admin"\n'
        )
        return dash_server(config)

    claim = {"X-Remote-User": "mallory", "X-Remote-Groups": "support-admins"}
    # We connect from 127.0.0.1, which is not the proxy: the claim is refused, not believed.
    elsewhere = start('"10.20.30.40"')
    spoofed = requests.get(elsewhere.url + "/api/audit", headers=claim, timeout=5)
    assert spoofed.status_code == 403
    assert spoofed.json()["error"]["code"] == "untrusted_proxy"
    assert requests.get(elsewhere.url + "/api/presence", timeout=5).status_code == 401
    elsewhere.stop()
    assert elsewhere.output().count("not a trusted proxy") == 1  # logged once, not per request

    trusted = start('"127.0.0.1/32"')
    believed = requests.get(trusted.url + "/api/me", headers=claim, timeout=5).json()
    assert believed["identity"] == {"name": "mallory", "role": "admin", "via": "header"}


def test_no_sign_in_refuses_to_listen_beyond_this_machine(
    tmp_path: Path, sn_sim: SnSimHandle, make_config: Callable[..., Path]
) -> None:
    import subprocess
    import sys

    from helpers import APP_PY

    config = make_config(tmp_path, PEOPLE, sn_sim.url)
    done = subprocess.run(
        [sys.executable, str(APP_PY), "--config", str(config), "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", SN_PASSWORD_ENV: "x", "PYTHONPATH": str(APP_PY.parent)},
    )
    assert done.returncode == 2
    assert "auth.mode: 'none' (no sign-in) is only allowed on a loopback host" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_admin_page_makes_and_revokes_wall_links_and_both_are_audited(
    dash: DashServer,
) -> None:
    admin = sign_in(dash, "ada-admin")
    token = csrf(admin, dash.url + "/")
    made = admin.post(
        dash.url + "/admin/kiosk-tokens", data={"name": "Lobby TV", "csrf_token": token}, timeout=5
    )
    assert made.status_code == 200  # followed the redirect back to /admin
    link = re.search(r'<code class="secret-link">([^<]+)</code>', made.text)
    assert link and "/wall?kiosk=" in link.group(1)
    again = admin.get(dash.url + "/admin", timeout=5).text
    assert link.group(1) not in again  # shown once
    token_id = int(re.search(r'data-token-id="(\d+)"', again).group(1))  # type: ignore[union-attr]
    assert requests.get(link.group(1), timeout=5).status_code == 200

    revoked = admin.post(
        dash.url + f"/admin/kiosk-tokens/{token_id}/revoke",
        data={"csrf_token": token},
        timeout=5,
    )
    assert revoked.status_code == 200 and "revoked" in revoked.text
    assert requests.get(link.group(1), timeout=5).status_code == 403
    unknown = admin.post(
        dash.url + "/admin/kiosk-tokens/999/revoke", data={"csrf_token": token}, timeout=5
    )
    assert unknown.status_code == 404

    rows = {e["action"]: e for e in audit(dash, actor="ada-admin")}
    created = rows["auth.admin_create_kiosk_token"]
    assert (created["result"], created["params"]["body"]) == (
        "ok",
        {"name": "Lobby TV", "csrf_token": "[redacted]"},
    )
    revoke_rows = [
        (e["target"], e["status"]) for e in audit(dash, action="auth.admin_revoke_kiosk_token")
    ]
    assert revoke_rows == [
        ("/admin/kiosk-tokens/999/revoke", 404),
        (f"/admin/kiosk-tokens/{token_id}/revoke", 302),
    ]
