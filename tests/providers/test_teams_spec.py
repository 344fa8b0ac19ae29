"""The Teams package's spec: the person id check, the simulator entry point and the demo part
produce what the adapter needs (the registry line is the lead's: not tested through it)."""

from __future__ import annotations

import threading

import pytest
import requests

from presence_dash.config import ConfigError, settings_from_dict
from presence_dash.core.model import Person, Status
from presence_dash.core.timefmt import utc_now
from presence_dash.providers.spec import DemoContext, SimulateArgs, SimulateUsageError, load
from presence_dash.providers.teams import SPEC, TeamsConfig, TeamsProvider


def test_the_person_id_is_an_object_id_or_a_upn_under_teams_id() -> None:
    field = SPEC.person_field
    assert field is not None and field.key == "teams_id" and field.validate is not None
    assert field.validate(" FA8BF3DC-ECA7-46B7-BAD1-DB199B62AFC3 ") == (
        "FA8BF3DC-ECA7-46B7-BAD1-DB199B62AFC3"
    )
    for good in (
        "ada@contoso.com",
        " Ada.Lovelace@Contoso.onmicrosoft.com ",
        "adele_adatum.com#EXT#@contoso.onmicrosoft.com",
        "$ops@contoso.com",
    ):
        assert field.validate(good) == good.strip()
    for bad in (
        "fa8bf3dc-eca7-46b7-bad1",
        "not-a-guid",
        "ada",
        "ada@contoso",
        "ada@@contoso.com",
        "a da@contoso.com",
        "ada/x@contoso.com",
        "ada@-contoso.com",
        "x" * 102 + "@contoso.com",  # 114 characters: Entra allows 113
    ):
        with pytest.raises(ValueError, match=r"object id .* or a user principal name"):
            field.validate(bad)


def test_a_bad_teams_id_names_the_person_and_the_key() -> None:
    people = [{"id": f"p{n}", "name": "P", "teams_id": f"p{n}@contoso.com"} for n in range(4)]
    people[3]["teams_id"] = "p3@contoso"
    with pytest.raises(ConfigError) as err:
        settings_from_dict({"people": people}, {})
    assert str(err.value).startswith("people[3].teams_id: ")
    assert "'p3@contoso'" in str(err.value) and "user principal name" in str(err.value)


def test_the_demo_part_is_a_working_teams_section() -> None:
    assert SPEC.demo is not None and SPEC.demo.person_id is not None
    demo_id = load(SPEC.demo.person_id)
    assert demo_id("ada") == demo_id("ada") != demo_id("bob")
    people = [{"id": pid, "name": pid, "team": "T", "teams_id": demo_id(pid)} for pid in "abc"]
    part = load(SPEC.demo.start)(DemoContext(people, frozenset({"b"}), 0, None))
    try:
        config = TeamsConfig.model_validate(part.section)
        secret = part.secrets[config.client_secret_env]
        persons = [Person(p["id"], p["name"], "T", {"teams": p["teams_id"]}) for p in people]
        provider = TeamsProvider(config, secret, persons, requests.Session(), utc_now)
        observed = {o.person_id: o for o in provider.poll()}
        assert observed["b"].status == Status.OFFLINE and observed["b"].activity == "Off work"
        assert {observed["a"].status, observed["c"].status} <= set(Status)
        assert observed["a"].detail != "missing"
    finally:
        for server in part.servers:
            server.shutdown()


def test_simulate_serves_on_the_port_it_prints() -> None:
    assert SPEC.simulator is not None
    args = SimulateArgs("127.0.0.1", 0, "presence.dash", "pw", ("ada",), {"app_id": None})
    run = load(SPEC.simulator.start)(args)
    url = run.lines[0].removeprefix("teams simulator on ")
    threading.Thread(target=run.serve_forever, daemon=True).start()
    try:
        token = requests.post(
            url + "/8f2c5d4e-1b3a-4c6d-9e7f-0a1b2c3d4e5f/oauth2/v2.0/token",
            data={
                "client_id": "535fb089-9ff3-47b6-9bfb-4f1264799865",
                "client_secret": "pw",
                "scope": "https://graph.microsoft.com/.default",
                "grant_type": "client_credentials",
            },
            timeout=5,
        )
        assert token.status_code == 200, token.text
    finally:
        run.shutdown()


@pytest.mark.parametrize("option", ["tenant_id", "app_id"])
def test_simulate_refuses_an_id_that_is_no_guid(option: str) -> None:
    assert SPEC.simulator is not None
    args = SimulateArgs("127.0.0.1", 0, "presence.dash", "pw", (), {option: "3MVG9sim"})
    with pytest.raises(SimulateUsageError, match="must be a GUID"):
        load(SPEC.simulator.start)(args)
