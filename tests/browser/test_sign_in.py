"""Signing in and out in headless Chromium against the real server (local mode), and the
demo's visible accounts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import DashServer, SnSimHandle, person

from presence_dash.auth.passwords import hash_password

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")


def test_sign_in_shows_the_dashboard_with_the_role_and_sign_out_ends_it(
    page: Any,
    sn_sim: SnSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path, [person("ada")], sn_sim.url)
    config.write_text(
        config.read_text()
        + '\n[auth]\nmode = "local"\n\n[[auth.users]]\nusername = "abe"\n'
        + f'password_hash = "{hash_password("agent-pass-1")}"\nrole = "agent"\n'
    )
    server = dash_server(config)
    expect = sync_api.expect

    page.goto(server.url + "/")
    expect(page).to_have_url(server.url + "/login?next=/")
    page.fill('input[name="username"]', "abe")
    page.fill('input[name="password"]', "wrong-password")
    page.click('button[type="submit"]')
    expect(page.locator(".form-error")).to_have_text("Wrong user name or password.")

    page.fill('input[name="username"]', "abe")
    page.fill('input[name="password"]', "agent-pass-1")
    page.click('button[type="submit"]')
    expect(page).to_have_url(server.url + "/")
    expect(page.locator(".account-name")).to_have_text("abe · agent")
    expect(page.locator("body")).to_have_attribute("data-role", "agent")
    # Signed in, the socket connects and the page goes live.
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "live")
    expect(page.locator('[data-person-id="ada"]')).to_be_visible()

    page.click("text=Sign out")
    expect(page).to_have_url(server.url + "/login")
    page.goto(server.url + "/")
    expect(page).to_have_url(server.url + "/login?next=/")


def test_the_demo_shows_its_accounts_and_signs_in_with_one_click(
    page: Any, demo: DashServer
) -> None:
    expect = sync_api.expect
    page.goto(demo.url + "/wall")  # the wall needs no sign-in in the demo
    expect(page.locator("body")).to_have_attribute("data-view", "wall")
    # Not signed in, the demo watches: people and visitors, but no action buttons.
    page.goto(demo.url + "/")
    expect(page.locator(".visitor").first).to_be_visible(timeout=15_000)
    expect(page.locator(".visitor-actions").first).to_be_hidden()
    expect(page.locator(".sm-start").first).to_be_hidden()
    page.goto(demo.url + "/login")
    accounts = page.locator(".demo-accounts")
    expect(accounts).to_contain_text("the password is demo")
    accounts.locator("button", has_text="admin").click()
    expect(page).to_have_url(demo.url + "/")
    expect(page.locator(".account-name")).to_have_text("admin · admin")
    expect(page.locator(".visitor-actions").first).to_be_visible(timeout=15_000)
    expect(page.locator(".sm-start").first).to_be_visible()
