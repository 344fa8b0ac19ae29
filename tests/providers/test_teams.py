"""The Teams adapter against the Graph simulator over real HTTP: mapping on the wire, batches
of 650, the token cache and its renewal, a token that lapses mid-run, throttling with
Retry-After, 5xx and malformed answers, refused credentials, people named by user principal
name (looked up 20 to a $batch and cached); and the same adapter against an independent fake
written from the docs' examples alone (not from the simulator)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import parse_qs

import pytest
import requests
from helpers import wait_for
from teams_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT,
    TeamsSimHandle,
    object_id,
    running_teams_sim,
    teams_config,
    upn,
)

from presence_dash.core.board import PresenceBoard
from presence_dash.core.model import Person, ProviderState, Status
from presence_dash.core.timefmt import utc_now
from presence_dash.providers.base import AuthFailed, ProviderContext, UpdateFailed
from presence_dash.providers.runner import ProviderRunner, stale_after
from presence_dash.providers.teams import TeamsProvider

ADA, BOB, CY = object_id("ada"), object_id("bob"), object_id("cy")
PEOPLE = [
    Person("ada", "Ada", "Service Desk", {"teams": ADA}),
    Person("ada-wall", "Ada", "Wall", {"teams": ADA.upper()}),  # one user, two entries
    Person("bob", "Bob", "Service Desk", {"teams": BOB}),
    Person("cy", "Cy", "Field", {"teams": CY}),
    Person("dee", "Dee", "Field", {"servicenow": "0" * 32}),  # not a Teams user here
]


class Clock:
    """A monotonic clock the test moves (token lifetimes), starting at the real one."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sim() -> Iterator[TeamsSimHandle]:
    with running_teams_sim() as handle:
        yield handle


def provider(
    url: str,
    people: list[Person] = PEOPLE,
    secret: str = CLIENT_SECRET,
    monotonic: Any = time.monotonic,
    **options: Any,
) -> TeamsProvider:
    return TeamsProvider(
        teams_config(url, **options), secret, people, requests.Session(), utc_now, monotonic
    )


def by_person(p: TeamsProvider) -> dict[str, tuple[Status, str | None, str | None]]:
    return {o.person_id: (o.status, o.activity, o.detail) for o in p.poll()}


# -- mapping on the wire ---------------------------------------------------------------------


def test_a_poll_maps_each_user_for_each_of_their_entries(sim: TeamsSimHandle) -> None:
    sim.set(ADA, "Busy", "InACall", out_of_office=True)
    sim.set(BOB, "Away", "Away")
    sim.set(CY, "Offline", "OffWork")
    p = provider(sim.url)
    assert by_person(p) == {
        "ada": (Status.BUSY, "In a call, out of office", "Busy/InACall"),
        "ada-wall": (Status.BUSY, "In a call, out of office", "Busy/InACall"),
        "bob": (Status.AWAY, "Away", "Away/Away"),
        "cy": (Status.OFFLINE, "Off work", "Offline/OffWork"),
    }
    assert [r["ids"] for r in sim.requests()] == [3]  # Ada once, Dee not at all
    assert p.requests_last_poll == 1


def test_ids_that_are_no_teams_user_are_unknown_whether_listed_or_left_out(
    sim: TeamsSimHandle,
) -> None:
    sim.set(ADA, "Available", "Available")
    p = provider(sim.url, people=PEOPLE[:3])
    assert by_person(p)["bob"] == (Status.UNKNOWN, None, "PresenceUnknown/PresenceUnknown")
    sim.settings(unknown_ids="omit")
    assert by_person(p)["bob"] == (Status.UNKNOWN, None, "missing")
    assert by_person(p)["ada"] == (Status.ONLINE, None, "Available/Available")


def test_when_graph_knows_nobody_the_health_strip_says_so(sim: TeamsSimHandle) -> None:
    p = provider(sim.url, people=PEOPLE[:3])
    p.poll()
    assert p.health_warning == (
        "Teams knows none of the 2 configured users "
        "(object ids from another tenant, or no Teams licence?)"
    )
    sim.set(BOB, "Offline", "Offline")  # one known user is enough: a quiet office
    p.poll()
    assert p.health_warning is None


def test_1300_people_take_two_requests_of_650(sim: TeamsSimHandle) -> None:
    ids = [object_id(f"p{n}") for n in range(1300)]
    sim.set_many({i: {"availability": "Busy", "activity": "InAMeeting"} for i in ids})
    people = [Person(f"p{n}", f"P {n}", "T", {"teams": i}) for n, i in enumerate(ids)]
    observations = provider(sim.url, people=people).poll()
    assert [r["ids"] for r in sim.requests()] == [650, 650]
    assert len(observations) == 1300
    assert {o.status for o in observations} == {Status.BUSY}


def test_651_people_take_650_and_1_and_batch_size_is_honoured(sim: TeamsSimHandle) -> None:
    ids = [object_id(f"q{n}") for n in range(651)]
    people = [Person(f"q{n}", "Q", "T", {"teams": i}) for n, i in enumerate(ids)]
    provider(sim.url, people=people).poll()
    assert [r["ids"] for r in sim.requests()] == [650, 1]
    provider(sim.url, people=people, batch_size=300).poll()
    assert [r["ids"] for r in sim.requests()][2:] == [300, 300, 51]


# -- the token -------------------------------------------------------------------------------


def test_the_token_is_cached_across_polls(sim: TeamsSimHandle) -> None:
    p = provider(sim.url)
    for _ in range(3):
        p.poll()
    assert len(sim.requests("token")) == 1
    assert len(sim.requests()) == 3


def test_the_token_is_renewed_before_it_lapses(sim: TeamsSimHandle) -> None:
    sim.settings(token_ttl_s=600)  # renewed 300 s early (token_renew_seconds)
    clock = Clock()
    p = provider(sim.url, monotonic=clock)
    p.poll()
    clock.now += 299
    p.poll()
    assert len(sim.requests("token")) == 1
    clock.now += 2
    p.poll()
    assert len(sim.requests("token")) == 2
    assert p.requests_last_poll == 1  # renewed up front: no request went out with the old one


def test_a_short_lived_token_is_renewed_halfway(sim: TeamsSimHandle) -> None:
    sim.settings(token_ttl_s=60)  # shorter than token_renew_seconds: renewed at 30 s
    clock = Clock()
    p = provider(sim.url, monotonic=clock)
    p.poll()
    clock.now += 29
    p.poll()
    clock.now += 2
    p.poll()
    assert len(sim.requests("token")) == 2


def test_a_token_that_lapses_mid_run_is_renewed_once_and_the_poll_succeeds(
    sim: TeamsSimHandle,
) -> None:
    sim.set(ADA, "DoNotDisturb", "Presenting")
    p = provider(sim.url)
    p.poll()
    sim.expire_tokens()  # revoked or lapsed early: Graph answers 401
    assert by_person(p)["ada"][:2] == (Status.BUSY, "Presenting")
    assert p.requests_last_poll == 2
    assert len(sim.requests("token")) == 2


def test_a_fresh_token_refused_too_needs_a_human(sim: TeamsSimHandle) -> None:
    p = provider(sim.url)
    sim.fault("401", count=2)
    with pytest.raises(AuthFailed, match="Graph refused a fresh token: Access token validation"):
        p.poll()


def test_a_wrong_secret_is_auth_failed_without_trace_ids(sim: TeamsSimHandle) -> None:
    with pytest.raises(AuthFailed) as err:
        provider(sim.url, secret="wrong").poll()
    assert str(err.value).startswith(
        "Entra ID refused the token request: invalid_client: AADSTS7000215: Invalid client secret"
    )
    assert "Trace ID" not in str(err.value) and "wrong" not in str(err.value)


def test_without_presence_read_all_it_says_which_permission(sim: TeamsSimHandle) -> None:
    sim.settings(permission_granted=False)
    with pytest.raises(AuthFailed, match=r"Presence\.Read\.All"):
        provider(sim.url).poll()


# -- throttling and transient failures -------------------------------------------------------


def test_429_carries_retry_after_and_the_runner_waits_that_long(sim: TeamsSimHandle) -> None:
    p = provider(sim.url, poll_seconds=0.1)
    sim.fault("429", retry_after=7)
    with pytest.raises(UpdateFailed) as err:
        p.poll()
    assert err.value.retry_after == 7
    assert str(err.value).startswith("HTTP 429: Too many requests")
    board = PresenceBoard(p.people, {"teams": stale_after(p)}, utc_now())
    runner = ProviderRunner(p, board, utc_now, time.sleep)
    sim.fault("429", retry_after=7)
    assert runner.poll_once() >= 7
    assert runner.poll_once() == pytest.approx(0.1)  # the next one works


def test_the_rate_limit_itself_is_a_429_with_retry_after(sim: TeamsSimHandle) -> None:
    sim.settings(rate_limit=2, rate_window_s=30)
    p = provider(sim.url)
    p.poll()
    p.poll()
    with pytest.raises(UpdateFailed) as err:
        p.poll()
    assert err.value.retry_after is not None and 1 <= err.value.retry_after <= 30


@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_errors_are_transient_with_graphs_message(sim: TeamsSimHandle, kind: str) -> None:
    sim.fault(kind)
    with pytest.raises(UpdateFailed, match=f"^HTTP {kind}: The service is temporarily"):
        provider(sim.url).poll()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("malformed", "malformed response: no 'value' list of presences"),
        ("not_json", "malformed response: body is not JSON"),
    ],
)
def test_malformed_answers_are_update_failed(sim: TeamsSimHandle, kind: str, message: str) -> None:
    sim.fault(kind)
    with pytest.raises(UpdateFailed) as err:
        provider(sim.url).poll()
    assert str(err.value) == message


def test_a_failing_token_endpoint_is_transient(sim: TeamsSimHandle) -> None:
    sim.fault("token_500")
    with pytest.raises(UpdateFailed, match="token request failed: HTTP 500"):
        provider(sim.url).poll()


def test_a_slow_answer_times_out(sim: TeamsSimHandle) -> None:
    p = provider(sim.url, timeout_seconds=0.2)
    p.poll()
    sim.fault("slow", delay_s=1.0)
    with pytest.raises(UpdateFailed, match=r"no answer within 0\.2 s"):
        p.poll()


def test_no_server_is_cannot_connect() -> None:
    with pytest.raises(UpdateFailed, match="cannot connect"):
        provider("http://127.0.0.1:9").poll()


# -- in the runner ---------------------------------------------------------------------------


def test_the_runner_shows_changes_and_recovers_from_a_lapsed_token(sim: TeamsSimHandle) -> None:
    sim.set(ADA, "Available", "Available")
    p = provider(sim.url, people=PEOPLE[:1], poll_seconds=0.1)
    board = PresenceBoard(p.people, {"teams": stale_after(p)}, utc_now())
    runner = ProviderRunner(p, board, utc_now, time.sleep, wake_event=threading.Event())
    thread = threading.Thread(target=runner.run_forever, daemon=True)
    thread.start()
    try:
        wait_for(lambda: board.person("ada").status == Status.ONLINE, what="online")
        sim.expire_tokens()
        sim.set(ADA, "Busy", "InAConferenceCall")
        wait_for(lambda: board.person("ada").status == Status.BUSY, what="busy")
        assert board.person("ada").activity == "In a conference call"
        assert board.health()["teams"].state == ProviderState.OK
    finally:
        runner.stop()
        thread.join(5)


def test_from_context_reads_the_section_and_its_secret(sim: TeamsSimHandle) -> None:
    config = teams_config(sim.url)
    settings = SimpleNamespace(
        providers=SimpleNamespace(teams=config),
        secret=lambda env: CLIENT_SECRET if env == config.client_secret_env else None,
    )
    ctx = ProviderContext(cast(Any, settings), PEOPLE, requests.Session(), utc_now, cast(Any, None))
    sim.set(ADA, "Busy", "Busy")
    assert {o.person_id: o.status for o in TeamsProvider.from_context(ctx).poll()}["ada"] == (
        Status.BUSY
    )


# -- people named by user principal name -------------------------------------------------------


def test_a_upn_person_gets_their_presence_whatever_the_case(sim: TeamsSimHandle) -> None:
    sim.directory({upn("Ada"): ADA})
    sim.set(ADA, "Busy", "InAMeeting")
    people = [Person("ada", "Ada", "T", {"teams": upn("ada").upper()})]
    assert by_person(provider(sim.url, people=people)) == {
        "ada": (Status.BUSY, "In a meeting", "Busy/InAMeeting")
    }
    assert [r["requests"] for r in sim.requests("batch")] == [1]


def test_guid_and_upn_people_mix_and_one_user_named_both_ways_is_asked_once(
    sim: TeamsSimHandle,
) -> None:
    sim.directory({upn("ada"): ADA, upn("bob"): BOB})
    sim.set(ADA, "Away", "Away")
    sim.set(BOB, "Busy", "InACall")
    sim.set(CY, "Available", "Available")
    people = [
        Person("ada", "Ada", "T", {"teams": upn("ada")}),
        Person("ada-wall", "Ada", "Wall", {"teams": ADA}),
        Person("bob", "Bob", "T", {"teams": upn("bob")}),
        Person("cy", "Cy", "T", {"teams": CY}),
    ]
    p = provider(sim.url, people=people)
    assert {k: v[0] for k, v in by_person(p).items()} == {
        "ada": Status.AWAY,
        "ada-wall": Status.AWAY,
        "bob": Status.BUSY,
        "cy": Status.ONLINE,
    }
    assert [r["ids"] for r in sim.requests()] == [3]
    assert p.requests_last_poll == 2  # one $batch, one presence request
    assert p.health_warning is None


def test_an_unknown_upn_is_unknown_and_named_in_the_health_strip(sim: TeamsSimHandle) -> None:
    sim.directory({upn("ada"): ADA})
    sim.set(ADA, "Available", "Available")
    people = [
        Person("ada", "Ada", "T", {"teams": upn("ada")}),
        Person("ghost", "Ghost", "T", {"teams": "ghost@contoso.com"}),
    ]
    p = provider(sim.url, people=people)
    assert by_person(p) == {
        "ada": (Status.ONLINE, None, "Available/Available"),
        "ghost": (Status.UNKNOWN, None, "no such user"),
    }
    assert p.health_warning == (
        "Graph has no user ghost@contoso.com (check the user principal name, or use the object id)"
    )


def test_when_nobody_is_known_both_warnings_show_and_long_lists_are_counted(
    sim: TeamsSimHandle,
) -> None:
    people = [Person(f"g{n}", "G", "T", {"teams": f"g{n}@contoso.com"}) for n in range(5)]
    p = provider(sim.url, people=people)
    assert {o.status for o in p.poll()} == {Status.UNKNOWN}
    assert p.health_warning == (
        "Teams knows none of the 5 configured users (object ids from another tenant, or no "
        "Teams licence?); Graph has no user g0@contoso.com, g1@contoso.com, g2@contoso.com "
        "and 2 more (check the user principal name, or use the object id)"
    )
    assert sim.requests() == []  # nobody resolved: no presence request at all


def test_without_user_read_all_the_error_names_the_permission(sim: TeamsSimHandle) -> None:
    sim.directory({upn("ada"): ADA})
    sim.settings(user_read_granted=False)
    people = [Person("ada", "Ada", "T", {"teams": upn("ada")})]
    with pytest.raises(AuthFailed) as err:
        provider(sim.url, people=people).poll()
    assert str(err.value) == (
        f"forbidden looking up {upn('ada')} (the app needs the application permission "
        "User.Read.All with admin consent)"
    )
    # Object ids alone need no lookup and so no User.Read.All.
    sim.set(BOB, "Busy", "Busy")
    guid_only = [Person("bob", "Bob", "T", {"teams": BOB})]
    assert by_person(provider(sim.url, people=guid_only))["bob"][0] == Status.BUSY


def test_lookups_go_20_to_a_batch_are_cached_and_refreshed_daily(sim: TeamsSimHandle) -> None:
    ids = {upn(f"u{n}"): object_id(f"u{n}") for n in range(45)}
    sim.directory(ids)
    sim.set_many({i: {"availability": "Busy", "activity": "Busy"} for i in ids.values()})
    people = [Person(f"u{n}", "U", "T", {"teams": name}) for n, name in enumerate(ids)]
    clock = Clock()
    p = provider(sim.url, people=people, monotonic=clock)
    assert {o.status for o in p.poll()} == {Status.BUSY}
    assert [r["requests"] for r in sim.requests("batch")] == [20, 20, 5]
    assert p.requests_last_poll == 4
    clock.now += 86_399
    p.poll()
    assert len(sim.requests("batch")) == 3  # still the cached object ids
    assert p.requests_last_poll == 1
    renamed = object_id("u0-recreated")
    sim.directory({upn("u0"): renamed})
    sim.set(renamed, "Away", "Away")
    clock.now += 2
    assert by_person(p)["u0"][0] == Status.AWAY  # a day on: looked up again
    assert [r["requests"] for r in sim.requests("batch")][3:] == [20, 20, 5]


def test_a_token_that_lapses_before_a_lookup_is_renewed_once(sim: TeamsSimHandle) -> None:
    sim.directory({upn("ada"): ADA})
    sim.set(ADA, "Busy", "Busy")
    people = [Person("ada", "Ada", "T", {"teams": upn("ada")})]
    clock = Clock()
    p = provider(sim.url, people=people, monotonic=clock, upn_refresh_seconds=60)
    p.poll()
    sim.expire_tokens()
    clock.now += 61  # the lookups are due; the token still looks fresh to the adapter
    assert by_person(p)["ada"][0] == Status.BUSY
    assert p.graph.tokens_fetched == 2
    assert len(sim.requests("batch")) == 2


# -- an independent fake, from the docs' examples only -----------------------------------------

# cloudcommunications-getpresencesbyuserid.md, "Examples": the request's ids and the response.
DOC_IDS = ["fa8bf3dc-eca7-46b7-bad1-db199b62afc3", "66825e03-7ef5-42da-9069-724602c31f6b"]
DOC_RESPONSE = {
    "value": [
        {"id": DOC_IDS[0], "availability": "Busy", "activity": "InAMeeting"},
        {"id": DOC_IDS[1], "availability": "Away", "activity": "Away"},
    ]
}
# v2-oauth2-client-creds-grant-flow.md, "Successful response".
DOC_TOKEN = {"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ0eXAiOiJKV1Qi.doc"}
# user-get.md, "Example 1": the response (shortened to what the adapter reads).
DOC_USER = {"userPrincipalName": "AdeleV@contoso.com", "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd"}
# json-batching.md: "responses", each with the request's id, a status and a body.
DOC_NOT_FOUND = {"error": {"code": "Request_ResourceNotFound", "message": "Resource not found."}}
# throttling.md: 429 with a Retry-After header (seconds).
DOC_THROTTLED = {"error": {"code": "TooManyRequests", "message": "Please retry again later."}}


class DocFake(BaseHTTPRequestHandler):
    """Checks each request against the docs and answers with the docs' own examples."""

    calls: list[tuple[str, Any]]
    throttle_next: list[int]
    value_override: list[Any]  # answer with this `value` instead of the docs' example

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == f"/{TENANT}/oauth2/v2.0/token":
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            self.calls.append(("token", form))
            ok = self.headers.get(
                "Content-Type"
            ) == "application/x-www-form-urlencoded" and form == {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "scope": "https://graph.microsoft.com/.default",
                "grant_type": "client_credentials",
            }
            self._answer(200 if ok else 400, DOC_TOKEN if ok else {"error": "invalid_request"})
        elif self.path == "/v1.0/communications/getPresencesByUserId":
            body = json.loads(raw)
            self.calls.append(("presences", body))
            authorized = self.headers.get("Authorization") == "Bearer " + DOC_TOKEN["access_token"]
            if not authorized:
                self._answer(401, {"error": {"code": "InvalidAuthenticationToken", "message": "x"}})
            elif self.throttle_next:
                self._answer(429, DOC_THROTTLED, {"Retry-After": str(self.throttle_next.pop())})
            elif self.headers.get("Content-Type") != "application/json" or list(body) != ["ids"]:
                self._answer(400, {"error": {"code": "BadRequest", "message": "bad body"}})
            elif self.value_override:
                self._answer(200, {"value": self.value_override})
            else:
                self._answer(200, DOC_RESPONSE)
        elif self.path == "/v1.0/$batch":
            body = json.loads(raw)
            self.calls.append(("batch", body))
            requests_ = body.get("requests") or []
            ok = 0 < len(requests_) <= 20 and all(r.get("method") == "GET" for r in requests_)
            known = f"/users/{DOC_USER['userPrincipalName']}?$select=id,userPrincipalName"
            answers = [
                {"id": r["id"], "status": 200, "body": DOC_USER}
                if r.get("url", "").lower() == known.lower()
                else {"id": r["id"], "status": 404, "body": DOC_NOT_FOUND}
                for r in requests_
            ]
            self._answer(200 if ok else 400, {"responses": answers[::-1]})
        else:
            self._answer(404, {"error": {"code": "NotFound", "message": self.path}})

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def doc_fake() -> Iterator[tuple[str, type[DocFake]]]:
    handler = type("Handler", (DocFake,), {"calls": [], "throttle_next": [], "value_override": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_the_adapter_passes_the_fake_written_from_the_docs(
    doc_fake: tuple[str, type[DocFake]],
) -> None:
    url, handler = doc_fake
    people = [
        Person("a", "A", "T", {"teams": DOC_IDS[0]}),
        Person("b", "B", "T", {"teams": DOC_IDS[1]}),
    ]
    p = provider(url, people=people)
    assert by_person(p) == {
        "a": (Status.BUSY, "In a meeting", "Busy/InAMeeting"),
        "b": (Status.AWAY, "Away", "Away/Away"),
    }
    assert [kind for kind, _ in handler.calls] == ["token", "presences"]
    assert handler.calls[1][1] == {"ids": DOC_IDS}
    handler.throttle_next.append(3)
    with pytest.raises(UpdateFailed) as err:
        p.poll()
    assert err.value.retry_after == 3
    assert str(err.value) == "HTTP 429: Please retry again later."
    p.poll()
    assert [kind for kind, _ in handler.calls].count("token") == 1  # still the cached token


def test_unusable_items_and_strangers_are_skipped(doc_fake: tuple[str, type[DocFake]]) -> None:
    url, handler = doc_fake
    a, b = DOC_IDS
    handler.value_override.extend(
        [
            {"availability": "Busy", "activity": "Busy"},  # no id
            {"id": 5, "availability": "Busy"},
            {"id": a, "availability": 3, "activity": "Busy"},  # not text: skipped
            {"id": object_id("stranger"), "availability": "Busy", "activity": "Busy"},
            {"id": b.upper(), "availability": "Busy", "activity": "InACall"},  # case differs
        ]
    )
    people = [Person("a", "A", "T", {"teams": a}), Person("b", "B", "T", {"teams": b})]
    assert by_person(provider(url, people=people)) == {
        "a": (Status.UNKNOWN, None, "missing"),
        "b": (Status.BUSY, "In a call", "Busy/InACall"),
    }


def test_upns_resolve_against_the_docs_batch_and_user_examples(
    doc_fake: tuple[str, type[DocFake]],
) -> None:
    url, handler = doc_fake
    handler.value_override.append(
        {"id": DOC_USER["id"], "availability": "Away", "activity": "Away"}
    )
    people = [
        Person("adele", "Adele", "T", {"teams": "adelev@contoso.com"}),
        Person("nobody", "Nobody", "T", {"teams": "nobody@contoso.com"}),
    ]
    assert by_person(provider(url, people=people)) == {
        "adele": (Status.AWAY, "Away", "Away/Away"),
        "nobody": (Status.UNKNOWN, None, "no such user"),
    }
    assert [kind for kind, _ in handler.calls] == ["token", "batch", "presences"]
    assert handler.calls[1][1] == {
        "requests": [
            {
                "id": "0",
                "method": "GET",
                "url": "/users/adelev@contoso.com?$select=id,userPrincipalName",
            },
            {
                "id": "1",
                "method": "GET",
                "url": "/users/nobody@contoso.com?$select=id,userPrincipalName",
            },
        ]
    }
    assert handler.calls[2][1] == {"ids": [DOC_USER["id"]]}
