"""Sign-in against the real dashboard process: sign-out ends the sign-in on the server (a
copied cookie stops working, over HTTP and Socket.IO), lockouts that cannot be turned
against the real user, `next` only as a path on this site, and anonymous noise counted
instead of audited row by row."""

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
    try_sign_in,
)
from helpers import DashServer, EventRecorder, SnSimHandle, wait_for


@pytest.fixture
def dash(
    tmp_path: Path, sn_sim: SnSimHandle, make_config: Callable[..., Path], dash_server: Any
) -> DashServer:
    config = make_config(tmp_path, PEOPLE, sn_sim.url)
    config.write_text(config.read_text() + auth_toml())
    return dash_server(config)


class Tab:
    """A browser tab's socket: what it received, and whether the server closed it."""

    def __init__(self, dash: DashServer, cookie: str) -> None:
        self.client = socketio.Client(reconnection=False)
        self.events = EventRecorder(self.client)
        self.gone: list[bool] = []
        self.client.on("disconnect", lambda *args: self.gone.append(True))
        self.client.connect(
            dash.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=5
        )


# -- sign-out ------------------------------------------------------------------------------


def test_a_cookie_copied_before_sign_out_is_refused_afterwards(dash: DashServer) -> None:
    browser = sign_in(dash, "abe")
    copy = requests.Session()
    copy.cookies.update(browser.cookies)
    assert copy.get(dash.url + "/api/me", timeout=5).json()["identity"]["name"] == "abe"
    stolen_tab = Tab(dash, cookie_header(copy))
    stolen_tab.events.wait("snapshot", timeout=5)

    token = csrf(browser, dash.url + "/")
    signed_out = browser.post(
        dash.url + "/logout", data={"csrf_token": token}, allow_redirects=False, timeout=5
    )
    assert signed_out.status_code == 302

    # The copy still carries a validly signed cookie naming abe; the server says no.
    assert copy.get(dash.url + "/api/presence", timeout=5).status_code == 401
    page = copy.get(dash.url + "/", allow_redirects=False, timeout=5)
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert copy.get(dash.url + "/api/me", timeout=5).json()["signed_in"] is False
    wait_for(lambda: stolen_tab.gone, 5, what="the copied cookie's socket to be disconnected")
    with pytest.raises(socketio.exceptions.ConnectionError):
        Tab(dash, cookie_header(copy))
    # Signing in again is a new sign-in; the old cookie stays dead.
    again = sign_in(dash, "abe")
    assert again.get(dash.url + "/api/presence", timeout=5).status_code == 200
    assert copy.get(dash.url + "/api/presence", timeout=5).status_code == 401


def test_a_sign_out_on_one_node_ends_the_sign_in_on_the_others(
    tmp_path: Path, sn_sim: SnSimHandle, make_config: Callable[..., Path], dash_server: Any
) -> None:
    config = make_config(tmp_path, PEOPLE, sn_sim.url, secret_key_env="TEST_SECRET_KEY")
    config.write_text(config.read_text() + auth_toml())
    env = {"TEST_SECRET_KEY": "a-fixed-key-for-this-test"}
    node_a = dash_server(config, **env)
    vera, abe = sign_in(node_a, "vera"), sign_in(node_a, "abe")
    node_b = dash_server(config, **env)  # started later: same database, same key
    assert vera.get(node_b.url + "/api/presence", timeout=5).status_code == 200
    assert abe.get(node_b.url + "/api/presence", timeout=5).status_code == 200
    tab_on_b = Tab(node_b, cookie_header(abe))
    tab_on_b.events.wait("snapshot", timeout=5)

    copy = requests.Session()
    copy.cookies.update(abe.cookies)  # sign-out replaces the browser's own cookie
    abe.post(node_a.url + "/logout", data={"csrf_token": csrf(abe, node_a.url + "/")}, timeout=5)
    wait_for(lambda: tab_on_b.gone, 10, what="node B to disconnect the signed-out tab")
    assert copy.get(node_b.url + "/api/presence", timeout=5).status_code == 401
    with pytest.raises(socketio.exceptions.ConnectionError):
        Tab(node_b, cookie_header(copy))
    assert vera.get(node_b.url + "/api/presence", timeout=5).status_code == 200


# -- lockouts ------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["ABE", " abe ", "Abe"])
def test_wrong_guesses_from_elsewhere_do_not_lock_the_real_user_out(
    dash: DashServer, spelling: str
) -> None:
    attacker = session_from("127.0.0.2")
    codes = [try_sign_in(dash, spelling, "guess", attacker).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]  # failed_logins_before_lockout = 3
    # Every spelling is the same account: the attacker cannot dodge their lockout...
    for other in ("abe", "ABE", " abe\t"):
        assert try_sign_in(dash, other, PASSWORDS["abe"], attacker).status_code == 429
    # ...and abe at his own desk signs in at once.
    desk = sign_in(dash, "abe")
    assert desk.get(dash.url + "/api/me", timeout=5).json()["identity"]["name"] == "abe"
    rows = audit(dash, action="login", actor="abe")
    assert {r["client_addr"] for r in rows if r["result"] != "ok"} == {"127.0.0.2"}


def test_an_office_behind_one_address_signs_in_all_day(dash: DashServer) -> None:
    # login_rate_limit is 10 per minute: it counts failures, not sign-ins.
    codes = [try_sign_in(dash, "vera", PASSWORDS["vera"]).status_code for _ in range(20)]
    assert codes == [302] * 20


def test_many_wrong_guesses_from_one_address_are_refused_for_any_user(dash: DashServer) -> None:
    guesser = session_from("127.0.0.3")
    names = [f"user{i}" for i in range(10)]  # 10 per minute from one address, any name
    assert [try_sign_in(dash, n, "x", guesser).status_code for n in names] == [401] * 10
    refused = try_sign_in(dash, "vera", PASSWORDS["vera"], guesser)
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 61
    sign_in(dash, "vera")  # from another address: fine


# -- next ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "evil",
    [
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "/\n/evil.example",
        "/wall\r\nSet-Cookie: x=1",
        "javascript:alert(1)",
        "https://evil.example/",
    ],
)
def test_next_is_followed_only_to_a_path_on_this_site(dash: DashServer, evil: str) -> None:
    signed_in = try_sign_in(dash, "vera", PASSWORDS["vera"], next=evil)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/"
    form = requests.get(dash.url + "/login", params={"next": evil}, timeout=5)
    assert form.status_code == 200
    assert re.findall(r'name="next" value="([^"]*)"', form.text) == ["/"]


def test_a_newline_in_next_is_no_server_error(dash: DashServer) -> None:
    raw = requests.get(dash.url + "/login?next=/%0a/evil.example", timeout=5)
    assert raw.status_code == 200
    assert re.findall(r'name="next" value="([^"]*)"', raw.text) == ["/"]
    page = requests.get(dash.url + "/wall%0a", allow_redirects=False, timeout=5)
    assert page.status_code in (302, 404)


def test_a_good_next_is_followed(dash: DashServer) -> None:
    signed_in = try_sign_in(dash, "vera", PASSWORDS["vera"], next="/wall?team=A")
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/wall?team=A"
    bounced = requests.get(dash.url + "/wall?team=A", allow_redirects=False, timeout=5)
    assert bounced.headers["Location"] == "/login?next=/wall?team%3DA"


# -- anonymous noise -----------------------------------------------------------------------


def test_anonymous_noise_is_limited_and_audited_as_counts(dash: DashServer) -> None:
    scanner = session_from("127.0.0.4")
    body = {"password": "x", "payload": "A" * 2000}
    codes = [
        scanner.post(dash.url + "/wp-login.php", json=body, timeout=5).status_code
        for _ in range(300)
    ]
    assert codes[:60] == [404] * 60 and set(codes[60:]) == {429}
    refused = scanner.post(dash.url + "/api/kiosk-tokens", json={"name": "x"}, timeout=5)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    # Sign-in and the health checks from that address still work: they are not noise.
    assert scanner.get(dash.url + "/healthz", timeout=5).status_code == 200
    sign_in(dash, "vera", session=scanner)

    rows = [r for r in audit(dash) if r["client_addr"] == "127.0.0.4"]
    assert len(rows) <= 3, rows
    noise = [r for r in rows if r["action"] == "anonymous_noise"]
    assert noise and all("payload" not in str(r["params"]) for r in noise)
    assert noise[-1]["target"] == "/wp-login.php"
    metrics = requests.get(dash.url + "/metrics", timeout=5).text
    assert 'auth_anonymous_noise_total{status="404"} 60.0' in metrics
    assert 'auth_anonymous_noise_total{status="429"} 241.0' in metrics


def test_a_signed_in_users_unknown_path_is_still_audited_with_who(dash: DashServer) -> None:
    agent = sign_in(dash, "abe")
    token = csrf(agent, dash.url + "/")
    missing = agent.post(dash.url + "/api/nope", json={}, headers={"X-CSRFToken": token}, timeout=5)
    assert missing.status_code == 404
    row = audit(dash, actor="abe")[0]
    assert (row["target"], row["status"]) == ("/api/nope", 404)
