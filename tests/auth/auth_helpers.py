"""What the sign-in server tests share: the accounts, the [auth] section, signing in with
the CSRF token the page carries, reading the audit log as an admin, and HTTP sessions that
come from another loopback address (a second office, an attacker elsewhere)."""

from __future__ import annotations

import re
from typing import Any

import requests
from helpers import DashServer, person
from requests.adapters import HTTPAdapter

from presence_dash.auth.passwords import hash_password

PEOPLE = [person("ada"), person("grace")]
PASSWORDS = {"vera": "viewer-pass-1", "abe": "agent-pass-1", "ada-admin": "admin-pass-1"}
ROLES = {"vera": "viewer", "abe": "agent", "ada-admin": "admin"}


def auth_toml(extra: str = "") -> str:
    users = "".join(
        f'\n[[auth.users]]\nusername = "{name}"\npassword_hash = "{hash_password(pw)}"\n'
        f'role = "{ROLES[name]}"\n'
        for name, pw in PASSWORDS.items()
    )
    return (
        '\n[auth]\nmode = "local"\nfailed_logins_before_lockout = 3\n'
        f'action_rate_limit = "5 per minute"\n{extra}{users}'
    )


class _FromAddress(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(address: str) -> requests.Session:
    """A session whose connections leave from `address` (any of 127.0.0.0/8 on Linux), so
    the server sees a different client address."""
    session = requests.Session()
    session.mount("http://", _FromAddress(address))
    return session


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=5)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def try_sign_in(
    dash: DashServer,
    name: str,
    password: str,
    session: requests.Session | None = None,
    **form: str,
) -> requests.Response:
    session = session if session is not None else requests.Session()
    token = csrf(session, dash.url + "/login")
    return session.post(
        dash.url + "/login",
        data={"username": name, "password": password, "csrf_token": token, **form},
        allow_redirects=False,
        timeout=5,
    )


def sign_in(
    dash: DashServer,
    name: str,
    password: str | None = None,
    session: requests.Session | None = None,
) -> requests.Session:
    session = session if session is not None else requests.Session()
    answer = try_sign_in(dash, name, password or PASSWORDS[name], session)
    assert answer.status_code == 302, (
        answer.status_code,
        re.findall(r"form-error[^<]*<", answer.text),
    )
    return session


def audit(dash: DashServer, **query: str) -> list[dict[str, Any]]:
    admin = sign_in(dash, "ada-admin")
    answer = admin.get(dash.url + "/api/audit", params=query, timeout=5)
    assert answer.status_code == 200
    return answer.json()["entries"]
