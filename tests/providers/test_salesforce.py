"""The Salesforce adapter against the simulator over real HTTP, both ways: the adapter calls
the simulated org, and the org's login/logout callouts reach a real HTTP server that hands
them to the provider and wakes its runner, as the dashboard's `/hooks/salesforce` does.
Each rule of issue 4 has a test that fails if the rule is removed."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from flask import Flask, Response, request
from helpers import (
    SF_API_USER,
    SF_CLIENT_ID,
    SF_CLIENT_SECRET,
    SF_WEBHOOK_SECRET,
    SfSimHandle,
    rsa_key_pair,
    start_salesforce_sim,
    wait_for,
)
from pydantic import ValidationError

from presence_dash.core.board import PresenceBoard
from presence_dash.core.model import Observation, Person, ProviderState, Status
from presence_dash.core.timefmt import iso_z, utc_now
from presence_dash.providers.base import AuthFailed, HookRequest, UpdateFailed
from presence_dash.providers.runner import ProviderRunner, stale_after
from presence_dash.providers.salesforce.config import SalesforceConfig
from presence_dash.providers.salesforce.provider import SalesforceProvider
from presence_dash.simulators.salesforce import SalesforceSim, make_id
from presence_dash.simulators.serve import SimulatorServer

ADA, BOB = make_id("005", 123456789), make_id("005", 987654321)  # mixed case
PEOPLE = [
    Person("ada", "Ada", "Service Desk", {"salesforce": ADA}),
    Person("ada-field", "Ada", "Field Engineering", {"salesforce": ADA[:15]}),  # 15-char form
    Person("ada-desk", "Ada", "Wall", {"salesforce": ADA.lower()[:15] + ADA[15:]}),  # case lost
    Person("bob", "Bob", "Service Desk", {"salesforce": BOB}),
]
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class Rig:
    """The simulated org (calling back into `hook_url`) and the providers made in a test."""

    sim: SfSimHandle
    hook_server: SimulatorServer
    holder: dict[str, Any] = field(default_factory=dict)

    @property
    def hook_url(self) -> str:
        return self.hook_server.url + "/hooks/salesforce"

    def provider(
        self,
        people: list[Person] = PEOPLE,
        secret: str = SF_CLIENT_SECRET,
        webhook_secret: str | None = SF_WEBHOOK_SECRET,
        **options: Any,
    ) -> SalesforceProvider:
        if options.get("auth") == "jwt_bearer":
            options = {"username": SF_API_USER, "private_key_env": "SF_KEY", **options}
        else:
            options = {"client_secret_env": "SF_SECRET", **options}
        config = SalesforceConfig(
            base_url=self.sim.url,
            client_id=SF_CLIENT_ID,
            timeout_seconds=3,
            webhook_secret_env="SF_HOOK",
            **options,
        )
        provider = SalesforceProvider(
            config, secret, webhook_secret, people, requests.Session(), utc_now
        )
        self.holder["provider"] = provider
        return provider

    def runner(self, provider: SalesforceProvider) -> tuple[PresenceBoard, ProviderRunner]:
        board = PresenceBoard(provider.people, {"salesforce": stale_after(provider)}, utc_now())
        runner = ProviderRunner(provider, board, utc_now, time.sleep, wake_event=threading.Event())
        self.holder["runner"] = runner
        return board, runner

    def run(self, provider: SalesforceProvider) -> PresenceBoard:
        board, runner = self.runner(provider)
        threading.Thread(target=runner.run_forever, daemon=True).start()
        return board

    def hook(self, body: bytes, signature: str | None = "sign") -> requests.Response:
        """POST to our webhook like the org would; `sign` signs with the shared secret."""
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            signature = (
                "sha256=" + hmac.new(SF_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
            )
        if signature is not None:
            headers["X-Presence-Signature"] = signature
        return requests.post(self.hook_url, data=body, headers=headers, timeout=5)


def _hook_app(holder: dict[str, Any]) -> Flask:
    app = Flask(__name__)

    @app.route("/hooks/salesforce", methods=["GET", "POST"], defaults={"path": ""})
    @app.route("/hooks/salesforce/<path:path>", methods=["GET", "POST"])
    def hook(path: str) -> Response:
        hook = HookRequest(
            request.method,
            path,
            request.args.to_dict(),
            dict(request.headers),
            request.get_data(),
            request.remote_addr,
        )
        # Through the runner when the test made one, as the dashboard's hooks route does.
        runner = holder.get("runner")
        answer = runner.handle_hook(hook) if runner else holder["provider"].handle_hook(hook)
        if answer is None:
            return Response("no", 404)
        return Response(answer.body, answer.status, content_type=answer.content_type)

    return app


@pytest.fixture
def rig() -> Iterator[Rig]:
    holder: dict[str, Any] = {}
    server = SimulatorServer(_hook_app(holder))
    # serve_forever's default 0.5 s shutdown poll would add half a second to every teardown
    threading.Thread(target=server.server.serve_forever, args=(0.02,), daemon=True).start()
    sim = SalesforceSim(
        client_id=SF_CLIENT_ID,
        client_secret=SF_CLIENT_SECRET,
        api_user=SF_API_USER,
        jwt_public_key=rsa_key_pair()[1],
        webhook_url=server.url + "/hooks/salesforce",
        webhook_secret=SF_WEBHOOK_SECRET,
    )
    handle = start_salesforce_sim(sim)
    yield Rig(handle, server, holder)
    if "runner" in holder:
        holder["runner"].stop()
    if "provider" in holder:
        holder["provider"].close()
    handle.close()
    server.shutdown()


def statuses(provider: SalesforceProvider) -> dict[str, tuple[Status, str | None]]:
    return {o.person_id: (o.status, o.detail) for o in provider.poll()}


def on_board(board: PresenceBoard, pid: str) -> tuple[Status, str | None]:
    view = board.person(pid)
    source = view.sources.get("salesforce") if view else None
    return (source.status, source.detail) if source else (Status.UNKNOWN, None)


def event(user: str, kind: str, at: datetime | None = None) -> bytes:
    return json.dumps(
        {"user_id": user, "event": kind, "event_time": iso_z(at or utc_now())}
    ).encode()


def observations(provider: SalesforceProvider) -> dict[str, Observation]:
    return {o.person_id: o for o in provider.poll()}


def close_to(moment: datetime | None, expected: datetime, seconds: float = 2.0) -> bool:
    """Our clock from Salesforce's is estimated from a `Date` header with 1 s resolution."""
    return moment is not None and abs((moment - expected).total_seconds()) <= seconds


def hook_observations(provider: SalesforceProvider, body: bytes) -> tuple[Observation, ...]:
    """The observations a webhook call shows at once (what the runner pushes to the board)."""
    mac = hmac.new(SF_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-Presence-Signature": "sha256=" + mac}
    answer = provider.handle_hook(HookRequest("POST", "", {}, headers, body, "127.0.0.1"))
    assert answer is not None and answer.status == 200, answer
    return answer.observations


def sf_iso(seconds_from_org_now: float, offset_s: float = 0.0) -> str:
    """An ISO time on the org's clock (ours + `offset_s`), relative to its now."""
    return iso_z(utc_now() + timedelta(seconds=offset_s + seconds_from_org_now)) or ""


ONLINE, OFFLINE = (Status.ONLINE, None), (Status.OFFLINE, None)
LOGGED_OUT = (Status.OFFLINE, "logout")
DEFAULT_LOGIN_TYPES = (
    "LoginType IN ('Application', 'SAML Idp Initiated SSO', 'SAML Sfdc Initiated SSO')"
)


# -- auth ------------------------------------------------------------------------------------


def test_client_credentials_logged_in_user_is_online_and_others_offline(rig: Rig) -> None:
    rig.sim.login(ADA, notify=False)
    provider = rig.provider(webhook_secret=None)
    assert statuses(provider) == {
        "ada": ONLINE,
        "ada-field": ONLINE,
        "ada-desk": ONLINE,
        "bob": OFFLINE,
    }
    assert [r["grant"] for r in rig.sim.requests("/oauth2/token")] == ["client_credentials"]


def test_jwt_bearer_flow_signs_an_assertion_the_org_accepts(rig: Rig) -> None:
    rig.sim.login(BOB, notify=False)
    provider = rig.provider(auth="jwt_bearer", secret=rsa_key_pair()[0])
    assert statuses(provider)["bob"] == ONLINE
    assert [r["grant"] for r in rig.sim.requests("/oauth2/token")] == [JWT_GRANT]


def test_jwt_bearer_with_a_key_that_is_no_pem_is_auth_failed(rig: Rig) -> None:
    provider = rig.provider(auth="jwt_bearer", secret="not a key")
    with pytest.raises(AuthFailed, match="private_key_env"):
        provider.poll()


def test_refused_credentials_are_auth_failed_with_salesforce_words(rig: Rig) -> None:
    provider = rig.provider(secret="wrong")
    with pytest.raises(AuthFailed, match="invalid_client: invalid client credentials"):
        provider.poll()


def test_the_token_is_cached_across_polls(rig: Rig) -> None:
    provider = rig.provider()
    for _ in range(3):
        provider.poll()
    assert len(rig.sim.requests("/oauth2/token")) == 1
    assert len(rig.sim.requests("/query")) == 3


def test_an_expired_token_is_replaced_once_and_the_query_retried(rig: Rig) -> None:
    rig.sim.login(ADA, notify=False)
    provider = rig.provider()
    provider.poll()
    rig.sim.expire_tokens()
    assert statuses(provider)["ada"] == ONLINE
    assert len(rig.sim.requests("/oauth2/token")) == 2
    assert [r["status"] for r in rig.sim.requests("/query")] == [200, 401, 200]


def test_a_second_401_after_a_fresh_token_is_auth_failed_not_a_loop(rig: Rig) -> None:
    provider = rig.provider()
    provider.poll()
    rig.sim.fault("401", count=5)
    with pytest.raises(AuthFailed, match="INVALID_SESSION_ID"):
        provider.poll()
    assert len(rig.sim.requests("/oauth2/token")) == 2  # one refresh, no more
    assert len(rig.sim.requests("/query")) == 3
    assert rig.sim.state()["pending_faults"] == 3


def test_a_refresh_that_is_refused_is_auth_failed_after_one_token_request(rig: Rig) -> None:
    provider = rig.provider()
    provider.poll()
    rig.sim.expire_tokens()
    rig.sim.settings(client_secret="rotated")  # someone rotated the connected app's secret
    with pytest.raises(AuthFailed, match="invalid_client"):
        provider.poll()
    assert len(rig.sim.requests("/oauth2/token")) == 2
    assert [r["status"] for r in rig.sim.requests("/query")] == [200, 401]


# -- the query -------------------------------------------------------------------------------


def test_results_are_followed_across_pages(rig: Rig) -> None:
    rig.sim.settings(page_size=2)
    users = [make_id("005", n) for n in range(10, 17)]
    people = [Person(f"p{n}", "P", "T", {"salesforce": u}) for n, u in enumerate(users)]
    for u in users:
        rig.sim.login(u, notify=False)
    result = statuses(rig.provider(people))
    assert set(result.values()) == {ONLINE}, result
    paths = [r["path"] for r in rig.sim.requests("/query")]
    assert len(paths) == 4 and all(re.search(r"/query/01g\w+-\d+$", p) for p in paths[1:])


def test_many_users_are_asked_about_in_chunks(rig: Rig) -> None:
    users = [make_id("005", n) for n in range(100, 125)]
    people = [Person(f"p{n}", "P", "T", {"salesforce": u}) for n, u in enumerate(users)]
    for u in users[::2]:
        rig.sim.sim.login(u, notify=False)
    result = statuses(rig.provider(people, ids_per_query=10))
    assert [result[f"p{n}"][0] for n in range(25)] == [Status.ONLINE, Status.OFFLINE] * 12 + [
        Status.ONLINE
    ]
    asked = [re.findall(r"'(005\w+)'", r["soql"]) for r in rig.sim.requests("/query")]
    assert [len(a) for a in asked] == [10, 10, 5]
    assert sorted(i for chunk in asked for i in chunk) == sorted(u[:15] for u in users)


def test_default_chunks_keep_a_large_org_under_the_url_limit(rig: Rig) -> None:
    users = [make_id("005", n) for n in range(1000, 1700)]
    people = [Person(f"p{n}", "P", "T", {"salesforce": u}) for n, u in enumerate(users)]
    for u in users[::7]:
        rig.sim.sim.login(u, notify=False)
    result = statuses(rig.provider(people))
    assert sum(1 for s, _ in result.values() if s is Status.ONLINE) == len(users[::7])
    assert [r["status"] for r in rig.sim.requests("/query")] == [200] * 4


def test_the_largest_chunk_allowed_still_fits_the_url_limit(rig: Rig) -> None:
    users = [make_id("005", n) for n in range(2000, 2500)]
    people = [Person(f"p{n}", "P", "T", {"salesforce": u}) for n, u in enumerate(users)]
    rig.sim.sim.login(users[-1], notify=False)
    result = statuses(rig.provider(people, ids_per_query=500))  # config's maximum
    assert result[f"p{len(users) - 1}"][0] is Status.ONLINE
    [request] = rig.sim.requests("/query")
    assert request["status"] == 200  # the simulator answers 414 above 16 KB, as Salesforce


def test_someone_in_several_teams_is_queried_once_and_shown_in_each(rig: Rig) -> None:
    rig.sim.login(ADA, notify=False)
    result = statuses(rig.provider())
    assert result["ada"] == result["ada-field"] == result["ada-desk"] == ONLINE
    [soql] = [r["soql"] for r in rig.sim.requests("/query")]
    assert soql.count(ADA[:15]) == 1
    assert "SessionType = 'UI'" in soql and DEFAULT_LOGIN_TYPES in soql


# -- which sessions count: UI logins, with a password or through SSO --------------------------


def test_sso_logins_of_both_saml_types_are_online_by_default(rig: Rig) -> None:
    rig.sim.login(ADA, notify=False, login_type="SAML Idp Initiated SSO")
    rig.sim.login(BOB, notify=False, login_type="SAML Sfdc Initiated SSO")
    result = statuses(rig.provider())
    assert (result["ada"], result["bob"]) == (ONLINE, ONLINE)


def test_api_sessions_and_other_login_types_are_not_online(rig: Rig) -> None:
    # Spring '25 orgs list an API session of login type Unknown next to each UI login
    rig.sim.login(ADA, notify=False, session_type="API", login_type="Unknown")
    rig.sim.login(BOB, notify=False, login_type="Remote Access 2.0")  # OAuth, not a UI login
    rig.sim.login(BOB, notify=False, session_type="API", login_type="Application")
    result = statuses(rig.provider())
    assert (result["ada"], result["bob"]) == (OFFLINE, OFFLINE)


def test_an_api_session_older_than_the_ui_login_does_not_date_it(rig: Rig) -> None:
    rig.sim.login(
        ADA, notify=False, session_type="API", login_type="Unknown", created=sf_iso(-3600)
    )
    rig.sim.login(ADA, notify=False, login_type="SAML Idp Initiated SSO", created=sf_iso(-600))
    ada = observations(rig.provider())["ada"]
    assert ada.status is Status.ONLINE
    assert close_to(ada.state_since, utc_now() - timedelta(seconds=600))


def test_the_v1_login_type_alone_still_works(rig: Rig) -> None:
    rig.sim.login(ADA, notify=False, login_type="SAML Idp Initiated SSO")
    rig.sim.login(BOB, notify=False)  # Application: not the one type this config names
    result = statuses(rig.provider(login_type="SAML Idp Initiated SSO"))
    assert (result["ada"], result["bob"]) == (ONLINE, OFFLINE)
    [soql] = [r["soql"] for r in rig.sim.requests("/query")]
    assert "LoginType IN ('SAML Idp Initiated SSO')" in soql


def test_login_and_session_types_are_configurable(rig: Rig) -> None:
    rig.sim.login(ADA, notify=False, login_type="Lightning Login")
    rig.sim.login(BOB, notify=False, session_type="ChatterNetworks")
    assert statuses(rig.provider())["ada"] == statuses(rig.provider())["bob"] == OFFLINE
    provider = rig.provider(login_types=["Application", "Lightning Login"])
    assert statuses(provider)["ada"] == ONLINE
    provider = rig.provider(session_type="ChatterNetworks")
    assert statuses(provider)["bob"] == ONLINE


def test_setting_both_login_types_and_login_type_is_refused(rig: Rig) -> None:
    with pytest.raises(ValidationError, match="set login_types or login_type, not both"):
        rig.provider(login_type="Application", login_types=["Application"])


# -- time in state: Salesforce's own time stamps, on our clock --------------------------------


def test_online_since_is_the_oldest_valid_sessions_created_date_on_our_clock(rig: Rig) -> None:
    org = 3600.0  # the org's clock is an hour ahead of ours
    rig.sim.clock(offset_s=org)
    # expired an hour ago: no longer a reason to be online, so it does not date it either
    rig.sim.login(
        ADA,
        notify=False,
        created=sf_iso(-5 * 3600, org),
        last_modified=sf_iso(-2 * 3600, org),
        seconds_valid=3600,
    )
    # signed in 30 minutes ago, kept alive since; a second tab's session is newer
    rig.sim.login(ADA, notify=False, created=sf_iso(-1800, org), last_modified=sf_iso(-60, org))
    rig.sim.login(ADA, notify=False, created=sf_iso(-300, org), last_modified=sf_iso(-300, org))
    ada = observations(rig.provider())["ada"]
    assert (ada.status, ada.detail, ada.activity) == (Status.ONLINE, None, None)
    assert close_to(ada.state_since, utc_now() - timedelta(seconds=1800))


def test_a_newer_session_taking_over_keeps_online_since(rig: Rig) -> None:
    rig.sim.clock(at="2026-01-01T10:00:00Z")
    rig.sim.login(ADA, notify=False, seconds_valid=600)  # 10:00-10:10
    provider = rig.provider()
    first = observations(provider)["ada"].state_since
    rig.sim.clock(at="2026-01-01T10:05:00Z")
    rig.sim.login(ADA, notify=False, seconds_valid=600)  # a new tab before the first ran out
    observations(provider)
    rig.sim.clock(at="2026-01-01T10:12:00Z")  # the first has run out, the second carries on
    ada = observations(provider)["ada"]
    assert ada.status is Status.ONLINE and first is not None
    assert close_to(ada.state_since, first)


def test_online_since_is_never_in_the_future(rig: Rig) -> None:
    later = sf_iso(3600)  # a session stamped an hour ahead of the org's own Date
    rig.sim.login(ADA, notify=False, created=later, last_modified=later)
    ada = observations(rig.provider())["ada"]
    assert ada.status is Status.ONLINE
    assert ada.state_since is not None and ada.state_since <= ada.observed_at


def test_offline_after_a_logout_event_is_dated_by_the_event_on_our_clock(rig: Rig) -> None:
    org = -900.0  # the org's clock is 15 minutes behind ours
    rig.sim.clock(offset_s=org)
    rig.sim.login(ADA, notify=False, last_modified=sf_iso(-60, org))
    provider = rig.provider()
    assert statuses(provider)["ada"] == ONLINE  # learns the org's clock from its Date
    body = event(ADA, "logout", utc_now() + timedelta(seconds=org - 20))
    shown = {o.person_id: o for o in hook_observations(provider, body)}
    assert set(shown) == {"ada", "ada-field", "ada-desk"}
    expected = utc_now() - timedelta(seconds=20)
    for ada in (shown["ada"], observations(provider)["ada"]):  # at once, then by polling
        assert (ada.status, ada.detail, ada.activity) == (Status.OFFLINE, "logout", "Logged out")
        assert close_to(ada.state_since, expected)


def test_a_login_event_is_dated_by_its_time_until_the_session_shows(rig: Rig) -> None:
    provider = rig.provider()
    assert statuses(provider)["bob"] == OFFLINE
    [bob] = hook_observations(provider, event(BOB, "login", utc_now() - timedelta(seconds=5)))
    assert (bob.status, bob.activity) == (Status.ONLINE, None)
    assert close_to(bob.state_since, utc_now() - timedelta(seconds=5))


def test_offline_after_expiry_is_dated_by_the_expiry_of_the_session_seen(rig: Rig) -> None:
    rig.sim.clock(at="2026-01-01T10:00:00Z")
    rig.sim.login(ADA, notify=False, seconds_valid=60)  # runs out at 10:01:00
    provider = rig.provider()
    assert statuses(provider)["ada"] == ONLINE
    rig.sim.clock(at="2026-01-01T10:03:00Z")  # browser closed: nobody logged out
    ada = observations(provider)["ada"]
    assert (ada.status, ada.detail, ada.activity) == (Status.OFFLINE, None, None)
    assert close_to(ada.state_since, utc_now() - timedelta(seconds=120))
    assert observations(provider)["ada"].state_since == ada.state_since  # stays put


def test_offline_is_undated_when_no_session_was_seen_or_it_ended_early(rig: Rig) -> None:
    rig.sim.login(ADA, notify=False, last_modified=sf_iso(-7200), seconds_valid=60)
    rig.sim.login(BOB, notify=False)
    provider = rig.provider()
    result = observations(provider)
    assert result["ada"].status is Status.OFFLINE and result["ada"].state_since is None
    rig.sim.logout(BOB, notify=False)  # the rows go before they expire; no event came
    bob = observations(provider)["bob"]
    assert bob.status is Status.OFFLINE and bob.state_since is None


# -- expiry on Salesforce's clock ------------------------------------------------------------


@pytest.mark.parametrize(
    ("org_now", "expected"),
    [
        ("2020-01-01T00:09:59Z", ONLINE),  # one second before LastModifiedDate + 600
        ("2020-01-01T00:10:00Z", OFFLINE),  # exactly at it: no longer valid (strict >)
    ],
)
def test_expiry_boundary_is_measured_on_the_servers_date(
    rig: Rig, org_now: str, expected: tuple[Status, None]
) -> None:
    rig.sim.clock(at=org_now)
    rig.sim.login(ADA, notify=False, last_modified="2020-01-01T00:00:00Z", seconds_valid=600)
    assert statuses(rig.provider())["ada"] == expected


def test_a_server_clock_ahead_of_ours_expires_sessions_by_its_time(rig: Rig) -> None:
    # Valid by our clock (modified now, 2 h), expired on the org's clock (3 h ahead).
    rig.sim.clock(offset_s=3 * 3600)
    rig.sim.login(ADA, notify=False, last_modified=iso_z(utc_now()), seconds_valid=7200)
    assert statuses(rig.provider())["ada"] == OFFLINE


def test_a_server_clock_behind_ours_keeps_sessions_valid_by_its_time(rig: Rig) -> None:
    # Modified at the org's now (3 h behind ours), 2 h valid: expired by our clock only.
    rig.sim.clock(offset_s=-3 * 3600)
    rig.sim.login(ADA, notify=False, seconds_valid=7200)
    assert statuses(rig.provider())["ada"] == ONLINE


def test_a_session_that_lapses_turns_offline_on_the_next_poll(rig: Rig) -> None:
    rig.sim.clock(at="2020-01-01T00:00:00Z")
    rig.sim.login(ADA, notify=False, seconds_valid=60)
    provider = rig.provider()
    assert statuses(provider)["ada"] == ONLINE
    rig.sim.clock(at="2020-01-01T00:01:01Z")  # browser closed: nobody logged out
    assert statuses(provider)["ada"] == OFFLINE


# -- failures keep the last state ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("limit", "API limit reached: TotalRequests Limit exceeded."),
        ("500", "HTTP 500 UNKNOWN_EXCEPTION"),
        ("503", "HTTP 503 SERVER_UNAVAILABLE"),
        ("malformed", "malformed response"),
    ],
)
def test_failures_degrade_with_a_clear_error_and_keep_the_last_state(
    rig: Rig, kind: str, message: str
) -> None:
    rig.sim.login(ADA, notify=False)
    board, runner = rig.runner(rig.provider())
    runner.poll_once()
    assert on_board(board, "ada") == ONLINE
    rig.sim.fault(kind)
    delay = runner.poll_once()
    health = board.health()["salesforce"]
    assert health.state is ProviderState.DEGRADED
    assert health.error and health.error.startswith(message), health.error
    assert on_board(board, "ada") == ONLINE
    if kind == "limit":  # the daily allowance is gone: hammering it will not help
        assert delay >= 900


def test_api_usage_near_the_daily_limit_is_a_warning(rig: Rig) -> None:
    board, runner = rig.runner(rig.provider())
    rig.sim.settings(api_limit=100, api_usage=10)
    runner.poll_once()
    assert board.health()["salesforce"].state is ProviderState.OK
    rig.sim.settings(api_usage=89)  # this poll makes it 90/100
    runner.poll_once()
    health = board.health()["salesforce"]
    assert health.state is ProviderState.DEGRADED
    assert health.error == (
        "Salesforce API usage 90/100 today: the org is close to its daily limit"
    )


def test_request_limit_exceeded_is_an_update_failure_with_a_long_retry(rig: Rig) -> None:
    provider = rig.provider()
    rig.sim.settings(api_limit=0)
    with pytest.raises(UpdateFailed) as failure:
        provider.poll()
    assert failure.value.retry_after == 900


# -- login/logout events ---------------------------------------------------------------------


def test_a_logout_reaches_the_board_at_once_through_the_webhook(rig: Rig) -> None:
    rig.sim.login(ADA, notify=False)
    board = rig.run(rig.provider(poll_seconds=600))  # no poll can explain the change
    wait_for(lambda: on_board(board, "ada") == ONLINE, 5, what="the first poll")
    rig.sim.logout(ADA)
    wait_for(
        lambda: on_board(board, "ada") == LOGGED_OUT,
        5,
        what="the logout event to reach the board",
    )
    assert [w["status"] for w in rig.sim.webhooks()] == [200]


def test_a_logout_shows_at_once_even_while_salesforce_queries_fail(rig: Rig) -> None:
    rig.sim.login(ADA, notify=False)
    board = rig.run(rig.provider(poll_seconds=600))
    wait_for(lambda: on_board(board, "ada") == ONLINE, 5, what="the first poll")
    rig.sim.fault("500", count=50)  # every query the logout's refresh makes fails
    rig.sim.logout(ADA)
    wait_for(
        lambda: on_board(board, "ada") == LOGGED_OUT,
        5,
        what="the logout event to reach the board without a successful query",
    )
    wait_for(
        lambda: board.health()["salesforce"].state is not ProviderState.OK,
        5,
        what="the failing refresh to show in the provider's health",
    )


def test_a_logout_event_wins_over_a_session_still_listed(rig: Rig) -> None:
    rig.sim.login(ADA, notify=False, last_modified=iso_z(utc_now() - timedelta(seconds=30)))
    provider = rig.provider()
    assert statuses(provider)["ada"] == ONLINE
    assert rig.hook(event(ADA, "logout")).status_code == 200
    assert statuses(provider)["ada"] == LOGGED_OUT
    # ...until a newer login's session shows up
    rig.sim.login(ADA, notify=False, last_modified=iso_z(utc_now() + timedelta(seconds=1)))
    assert statuses(provider)["ada"] == ONLINE


def test_a_login_event_counts_until_polling_can_see_the_session(rig: Rig) -> None:
    rig.sim.clock(offset_s=0)
    provider = rig.provider(poll_seconds=30)
    assert statuses(provider)["bob"] == OFFLINE
    assert rig.hook(event(BOB, "login")).status_code == 200
    assert statuses(provider)["bob"] == ONLINE
    rig.sim.clock(offset_s=61)  # two poll intervals later, still no session: offline
    assert statuses(provider)["bob"] == OFFLINE


def test_the_orgs_own_callouts_are_accepted(rig: Rig) -> None:
    rig.provider()
    rig.sim.login(ADA)
    rig.sim.logout(ADA)
    assert [w["status"] for w in rig.sim.webhooks()] == [200, 200]


def test_event_age_is_measured_on_salesforces_clock(rig: Rig) -> None:
    rig.sim.clock(offset_s=3600)  # the org's event_time is an hour ahead of us
    provider = rig.provider()
    provider.poll()  # learns the org's clock from the Date header
    rig.sim.logout(ADA)
    assert [w["status"] for w in rig.sim.webhooks()] == [200]


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=" + "0" * 64,
        "sha1=" + "0" * 40,
        "sha256=ünïcode",
    ],
)
def test_a_missing_or_bad_signature_is_401_and_changes_nothing(
    rig: Rig, signature: str | None
) -> None:
    rig.sim.login(ADA, notify=False)
    provider = rig.provider()
    response = rig.hook(event(ADA, "logout"), signature=signature)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_signature"
    assert statuses(provider)["ada"] == ONLINE


def test_a_signature_for_another_body_is_refused(rig: Rig) -> None:
    rig.provider()
    good = event(ADA, "login")
    signature = "sha256=" + hmac.new(SF_WEBHOOK_SECRET.encode(), good, hashlib.sha256).hexdigest()
    assert rig.hook(event(ADA, "logout"), signature=signature).status_code == 401


def test_the_same_call_twice_is_a_replay(rig: Rig) -> None:
    rig.provider()
    body = event(ADA, "logout")
    assert rig.hook(body).status_code == 200
    second = rig.hook(body)
    assert (second.status_code, second.json()["error"]["code"]) == (409, "replayed_event")


@pytest.mark.parametrize("seconds", [-301, 301])
def test_an_event_more_than_five_minutes_from_now_is_refused(rig: Rig, seconds: int) -> None:
    rig.sim.login(ADA, notify=False)
    provider = rig.provider()
    response = rig.hook(event(ADA, "logout", utc_now() + timedelta(seconds=seconds)))
    assert (response.status_code, response.json()["error"]["code"]) == (400, "stale_event")
    assert statuses(provider)["ada"] == ONLINE
    assert rig.hook(event(ADA, "logout", utc_now() - timedelta(seconds=290))).status_code == 200


def test_an_unknown_user_is_404(rig: Rig) -> None:
    rig.provider()
    response = rig.hook(event(make_id("005", 999), "logout"))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "unknown_user")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        json.dumps({"user_id": "x", "event": "logout"}).encode(),
        json.dumps({"user_id": "x", "event": "logout", "event_time": "later"}).encode(),
        json.dumps({"user_id": "x", "event": "sneeze", "event_time": iso_z(utc_now())}).encode(),
    ],
    ids=["not-json", "no-event-time", "bad-event-time", "unknown-event"],  # stable for xdist
)
def test_a_malformed_event_is_400(rig: Rig, body: bytes) -> None:
    rig.provider()
    response = rig.hook(body)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "bad_event")


def test_without_a_webhook_secret_there_is_no_webhook(rig: Rig) -> None:
    rig.provider(webhook_secret=None)
    assert rig.hook(event(ADA, "logout")).status_code == 404


def test_only_post_on_the_hook_itself(rig: Rig) -> None:
    rig.provider()
    assert requests.get(rig.hook_url, timeout=5).status_code == 405
    assert requests.post(rig.hook_url + "/other", data=b"{}", timeout=5).status_code == 404
