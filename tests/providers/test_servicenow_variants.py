"""The ServiceNow adapter's variants over real HTTP: the Table API fallback and the wire
quirks that public sources leave possible (docs/providers/servicenow.md)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from helpers import SN_PASSWORD, SN_USERNAME, SnSimHandle, sys_id

from presence_dash.core.model import Person, Status
from presence_dash.core.timefmt import utc_now
from presence_dash.providers.base import UpdateFailed
from presence_dash.providers.servicenow.config import ServiceNowConfig
from presence_dash.providers.servicenow.provider import ServiceNowProvider

PEOPLE = {name: sys_id(name) for name in ("ada", "bob", "cy")}


def _provider(url: str, people: dict[str, str] = PEOPLE, **options: Any) -> ServiceNowProvider:
    config = ServiceNowConfig(
        base_url=url,
        username=SN_USERNAME,
        password_env="SN_PASSWORD",
        timeout_seconds=3,
        **options,
    )
    persons = [Person(pid, pid, "T", {"servicenow": sid}) for pid, sid in people.items()]
    return ServiceNowProvider(config, SN_PASSWORD, persons, requests.Session(), utc_now)


def _statuses(provider: ServiceNowProvider) -> dict[str, Status]:
    return {o.person_id: o.status for o in provider.poll()}


def _seed(sn_sim: SnSimHandle) -> None:
    sn_sim.set_user(PEOPLE["ada"], seconds_ago=5)
    sn_sim.set_user(PEOPLE["bob"], seconds_ago=45)


def _quirks(sn_sim: SnSimHandle, **quirks: Any) -> None:
    response = requests.post(sn_sim.url + "/_sim/quirks", json=quirks, timeout=5)
    assert response.status_code == 200, response.text


def test_table_mode_reads_sys_user_presence(sn_sim: SnSimHandle) -> None:
    _seed(sn_sim)
    statuses = _statuses(_provider(sn_sim.url, mode="table"))
    assert statuses == {"ada": Status.ONLINE, "bob": Status.AWAY, "cy": Status.OFFLINE}
    assert [r.get("path") for r in sn_sim.request_log()["requests"]] == ["table"]


def test_table_mode_measures_age_on_the_instance_clock(sn_sim: SnSimHandle) -> None:
    # The instance clock runs 10 minutes ahead of ours: ages come from its Date header.
    sn_sim.clock(10 * 60 * 1000)
    _seed(sn_sim)
    statuses = _statuses(_provider(sn_sim.url, mode="table"))
    assert statuses["ada"] is Status.ONLINE
    assert statuses["bob"] is Status.AWAY


def test_table_mode_follows_short_pages_to_the_total(sn_sim: SnSimHandle) -> None:
    people = {f"p{i:02}": sys_id(f"p{i:02}") for i in range(23)}
    for sid in people.values():
        sn_sim.set_user(sid, seconds_ago=2)
    _quirks(sn_sim, table_page_cap=7)  # the instance caps rows per page below our limit
    # Without an order the simulator shuffles rows on every call, as a database may: only
    # the adapter's ORDERBY keeps the four pages from overlapping and missing people.
    statuses = _statuses(_provider(sn_sim.url, people, mode="table"))
    assert statuses == dict.fromkeys(people, Status.ONLINE)
    assert len(sn_sim.request_log()["requests"]) == 4  # 7 + 7 + 7 + 2


def test_table_mode_orders_its_query_by_sys_id(sn_sim: SnSimHandle) -> None:
    provider = _provider(sn_sim.url, mode="table")
    sent: list[str] = []
    provider.http.hooks["response"].append(lambda r, *a, **k: sent.append(r.request.url))
    provider.poll()
    (query,) = parse_qs(urlsplit(sent[0]).query)["sysparm_query"]
    assert query == "userIN" + ",".join(PEOPLE.values()) + "^ORDERBYsys_id"


def test_table_mode_splits_long_id_lists_into_several_queries(sn_sim: SnSimHandle) -> None:
    people = {f"p{i:03}": sys_id(f"p{i:03}") for i in range(150)}
    _statuses(_provider(sn_sim.url, people, mode="table"))
    assert len(sn_sim.request_log()["requests"]) == 2  # at most 100 ids per URL


@pytest.mark.parametrize("time_key", ["serverTimeMillis", "serverTimeMilis"])
def test_both_spellings_of_the_server_time_key_are_read(sn_sim: SnSimHandle, time_key: str) -> None:
    _quirks(sn_sim, time_key=time_key)
    sn_sim.clock(-10 * 60 * 1000)  # our clock would say everyone is offline
    _seed(sn_sim)
    assert _statuses(_provider(sn_sim.url))["ada"] is Status.ONLINE


def test_server_answering_for_everyone_is_filtered_to_our_people(sn_sim: SnSimHandle) -> None:
    _seed(sn_sim)
    stranger = sys_id("stranger")
    sn_sim.set_user(stranger, seconds_ago=1)  # the instance answers for everyone it tracks
    statuses = _statuses(_provider(sn_sim.url))
    assert statuses == {"ada": Status.ONLINE, "bob": Status.AWAY, "cy": Status.OFFLINE}


def test_last_on_as_numeric_string_is_accepted(sn_sim: SnSimHandle) -> None:
    _seed(sn_sim)
    _quirks(sn_sim, last_on_as_string=True)
    assert _statuses(_provider(sn_sim.url))["bob"] is Status.AWAY


# Parsing of a shape our simulator does not serve (one public client reads `result` as the
# bare array): unit tests with `responses`, as the server time then comes from `Date`.


@responses.activate
def test_bare_array_result_takes_server_time_from_the_date_header() -> None:
    responses.post(
        "https://sn.example.com/api/now/ui/presence",
        json={"result": [{"user": PEOPLE["ada"], "last_on": 1_700_000_000_000 - 40_000}]},
        headers={"Date": "Tue, 14 Nov 2023 22:13:20 GMT"},  # 1_700_000_000 s
    )
    statuses = _statuses(_provider("https://sn.example.com"))
    assert statuses["ada"] is Status.AWAY


@responses.activate
def test_no_server_time_anywhere_is_a_malformed_response() -> None:
    responses.post(
        "https://sn.example.com/api/now/ui/presence",
        json={"result": {"presenceArray": []}},
    )
    with pytest.raises(UpdateFailed, match="no server time"):
        _provider("https://sn.example.com").poll()


def test_someone_in_two_teams_is_asked_about_once_and_shown_in_both(
    sn_sim: SnSimHandle,
) -> None:
    shared = sys_id("ada")
    sn_sim.set_user(shared, seconds_ago=1)
    config = ServiceNowConfig(
        base_url=sn_sim.url, username=SN_USERNAME, password_env="SN_PASSWORD", timeout_seconds=3
    )
    people = [
        Person("ada-desk", "Ada", "Service Desk", {"servicenow": shared}),
        Person("ada-field", "Ada", "Field Engineering", {"servicenow": shared}),
    ]
    seen: list[bytes] = []
    session = requests.Session()
    session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request.body or b""))
    provider = ServiceNowProvider(config, SN_PASSWORD, people, session, utc_now)
    assert {o.person_id: o.status for o in provider.poll()} == {
        "ada-desk": Status.ONLINE,
        "ada-field": Status.ONLINE,
    }
    assert seen[0].count(shared.encode()) == 1
