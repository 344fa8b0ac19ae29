"""Every action on a customer is recorded: an agent's co-browse and signal, a viewer's
refused attempt, each with who, role, target, parameters (secrets redacted) and result;
against the real dashboard and the Glance simulator over HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from glance_helpers import API_KEY, API_KEY_ENV, GlanceSimHandle, glance_section, running_glance_sim
from helpers import DashServer, wait_for

from presence_dash.auth.passwords import hash_password

USERS = {
    "abe": ("agent", "agent-pass-1"),
    "vera": ("viewer", "viewer-pass-1"),
    "root": ("admin", "admin-pass-1"),
}


@pytest.fixture
def glance() -> Iterator[GlanceSimHandle]:
    with running_glance_sim() as handle:
        yield handle


@pytest.fixture
def dash(
    tmp_path: Path,
    glance: GlanceSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
) -> DashServer:
    config = make_config(tmp_path, [], None, providers={"glance": glance_section(glance)})
    users = "".join(
        f'\n[[auth.users]]\nusername = "{name}"\npassword_hash = "{hash_password(pw)}"\n'
        f'role = "{role}"\n'
        for name, (role, pw) in USERS.items()
    )
    config.write_text(config.read_text() + '\n[auth]\nmode = "local"\n' + users)
    return dash_server(config, **{API_KEY_ENV: API_KEY})


def _signed_in(dash: DashServer, name: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(dash.url + "/login", timeout=5).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = session.post(
        dash.url + "/login",
        data={"username": name, "password": USERS[name][1], "csrf_token": token},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302
    page = session.get(dash.url + "/", timeout=5).text
    return session, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_agent_actions_and_refused_attempts_are_in_the_audit_log(
    dash: DashServer, glance: GlanceSimHandle
) -> None:
    glance.arrive("v-1001", title="Pricing")
    agent, token = _signed_in(dash, "abe")
    wait_for(
        lambda: agent.get(dash.url + "/api/visitors", timeout=5).json()["visitors"],
        10,
        what="the visitor to be listed",
    )
    cobrowse = agent.post(
        dash.url + "/api/visitors/v-1001/cobrowse", headers={"X-CSRFToken": token}, timeout=5
    )
    assert cobrowse.status_code == 200, cobrowse.text
    signal = agent.post(
        dash.url + "/api/visitors/v-1001/signal",
        json={"mtype": "signal", "data": {"chat": "hello", "token": "s3cret-value"}},
        headers={"X-CSRFToken": token},
        timeout=5,
    )
    assert signal.status_code == 200, signal.text
    gone = agent.post(
        dash.url + "/api/visitors/v-404/cobrowse", headers={"X-CSRFToken": token}, timeout=5
    )
    assert gone.status_code in (404, 409)

    viewer, viewer_token = _signed_in(dash, "vera")
    refused = viewer.post(
        dash.url + "/api/visitors/v-1001/cobrowse", headers={"X-CSRFToken": viewer_token}, timeout=5
    )
    assert refused.status_code == 403
    # The visitor got exactly the agent's two signals, nothing from the viewer.
    assert [s["mtype"] for s in glance.signals()] == ["invoke", "signal"]

    admin, _ = _signed_in(dash, "root")
    entries = admin.get(dash.url + "/api/audit", timeout=5).json()["entries"]
    actions = [
        (e["actor"], e["role"], e["action"], e["target"], e["result"])
        for e in entries
        if e["action"].startswith("visitors.")
    ]
    assert actions == [
        ("vera", "viewer", "visitors.cobrowse", "/api/visitors/v-1001/cobrowse", "refused"),
        ("abe", "agent", "visitors.cobrowse", "/api/visitors/v-404/cobrowse", "failed"),
        ("abe", "agent", "visitors.signal", "/api/visitors/v-1001/signal", "ok"),
        ("abe", "agent", "visitors.cobrowse", "/api/visitors/v-1001/cobrowse", "ok"),
    ]
    signal_row = next(e for e in entries if e["action"] == "visitors.signal")
    assert signal_row["params"]["body"] == {
        "mtype": "signal",
        "data": {"chat": "hello", "token": "[redacted]"},
    }
    assert signal_row["client_addr"] == "127.0.0.1"
    assert all(e["at"].endswith("Z") for e in entries)
    assert "s3cret-value" not in str(entries)
