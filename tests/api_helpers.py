"""A dashboard that every API call can reach the bottom of: sign-in on (an admin, so every
route is open to it), ServiceNow, Glance and ScreenMeet simulators behind it, and a
signed-in HTTP session with its CSRF token. For the request-limit and schemathesis tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from glance_helpers import API_KEY, API_KEY_ENV, GlanceSimHandle, glance_section
from helpers import DashServer, SnSimHandle, person
from screenmeet_helpers import SM_PASSWORD, SM_PASSWORD_ENV, ScreenMeetSimHandle, screenmeet_section

from presence_dash.auth.passwords import hash_password

ADMIN = "root"
ADMIN_PASSWORD = "admin-pass-1"
PEOPLE = [person("ada"), person("bob", team="Field")]
CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')


def start_full_dash(
    tmp_path: Path,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
    sn: SnSimHandle,
    glance: GlanceSimHandle,
    screenmeet: ScreenMeetSimHandle,
    auth: dict[str, Any] | None = None,
    **server: Any,
) -> DashServer:
    """`python app.py` with the three simulators, local sign-in with one admin, and
    `auth` keys added to `[auth]` (e.g. a higher action_rate_limit)."""
    config = make_config(
        tmp_path,
        PEOPLE,
        sn.url,
        providers={"glance": glance_section(glance), "screenmeet": screenmeet_section(screenmeet)},
        **server,
    )
    lines = ["", "[auth]", 'mode = "local"']
    lines += [f"{key} = {value!r}".replace("'", '"') for key, value in (auth or {}).items()]
    lines += [
        "",
        "[[auth.users]]",
        f'username = "{ADMIN}"',
        f'password_hash = "{hash_password(ADMIN_PASSWORD)}"',
        'role = "admin"',
    ]
    config.write_text(config.read_text() + "\n".join(lines) + "\n")
    return dash_server(config, **{API_KEY_ENV: API_KEY, SM_PASSWORD_ENV: SM_PASSWORD})


def signed_in(url: str) -> tuple[requests.Session, str]:
    """A session signed in as the admin, and the CSRF token its pages carry."""
    session = requests.Session()
    token = _csrf(session.get(url + "/login", timeout=5).text)
    answer = session.post(
        url + "/login",
        data={"username": ADMIN, "password": ADMIN_PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302, answer.text
    return session, _csrf(session.get(url + "/", timeout=5).text)


def _csrf(page: str) -> str:
    found = CSRF_META.search(page)
    assert found, "no CSRF token in the page"
    return found.group(1)
