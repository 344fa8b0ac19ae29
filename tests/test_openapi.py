"""The OpenAPI document describes every route and method the app has (and no other), is valid
OpenAPI 3.1, and its response schemas accept what the real server answers and refuse what
the CONTRACT rules out. The schemathesis run (test_schemathesis.py) fuzzes the rest."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from api_helpers import PEOPLE, signed_in, start_full_dash
from flask import Flask
from glance_helpers import GlanceSimHandle
from helpers import DashServer, SnSimHandle, sys_id, wait_for
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR
from screenmeet_helpers import ScreenMeetSimHandle

from presence_dash.config import settings_from_dict
from presence_dash.factory import create_app
from presence_dash.web.openapi import OPERATIONS, document, missing_operations

CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    settings = settings_from_dict({"server": {"database": f"sqlite:///{tmp_path / 'd.db'}"}}, {})
    yield create_app(settings)


def _routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (CONVERTER.sub(r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def test_every_route_and_method_is_in_the_document_and_nothing_else(app: Flask) -> None:
    assert missing_operations(app) == [], "add these to OPERATIONS in web/openapi.py"
    documented = {
        (path, method) for path, item in document(app)["paths"].items() for method in item
    }
    assert documented == _routes(app)
    endpoints = {(rule.endpoint, m) for rule in app.url_map.iter_rules() for m in rule.methods}
    stale = sorted(f"{m} {e}" for e, m in set(OPERATIONS) - endpoints)
    assert not stale, f"OPERATIONS entries for routes that no longer exist: {stale}"


def test_a_route_without_an_entry_is_reported(app: Flask) -> None:
    app.add_url_rule("/api/new-thing", "api.new_thing", lambda: "", methods=["GET", "POST"])
    assert missing_operations(app) == [
        "GET /api/new-thing (api.new_thing)",
        "POST /api/new-thing (api.new_thing)",
    ]


def test_the_document_is_valid_openapi_3_1(app: Flask) -> None:
    doc = document(app)
    assert doc["openapi"].startswith("3.1")
    OPENAPI_31_VALIDATOR.validate(doc)
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def _validator(doc: dict[str, Any], component: str) -> jsonschema_rs.Validator:
    schema = {"$ref": f"#/components/schemas/{component}", "components": doc["components"]}
    return jsonschema_rs.Draft202012Validator(schema)


def test_the_person_schema_is_the_contracts(app: Flask) -> None:
    doc = document(app)
    person = doc["components"]["schemas"]["Person"]
    assert set(person["required"]) >= {"activity", "activity_source", "since_exact", "sources"}
    assert person["additionalProperties"] is False
    status = doc["components"]["schemas"]["Source"]["properties"]["status"]["enum"]
    assert status == ["online", "busy", "away", "offline", "unknown"]
    assert "activity" in doc["components"]["schemas"]["Source"]["required"]
    error = _validator(doc, "Error")
    assert error.is_valid({"error": {"code": "bad_body", "message": "m"}})
    assert not error.is_valid({"error": {"code": "Bad Body", "message": "m"}})
    assert not error.is_valid({"error": "bad_body"})


@pytest.fixture
def dash(
    tmp_path: Path,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
    sn_sim: SnSimHandle,
    glance_sim: GlanceSimHandle,
    screenmeet_sim: ScreenMeetSimHandle,
) -> DashServer:
    sn_sim.set_user(sys_id("ada"), seconds_ago=0)
    sn_sim.set_user(sys_id("bob"), seconds_ago=45)
    glance_sim.arrive("v-1001", title="Pricing")
    return start_full_dash(tmp_path, make_config, dash_server, sn_sim, glance_sim, screenmeet_sim)


def test_real_answers_match_the_documented_schemas(dash: DashServer) -> None:
    session, token = signed_in(dash.url)
    doc = session.get(dash.url + "/api/openapi.json", timeout=5).json()

    def presence() -> dict[str, Any] | None:
        body = session.get(dash.url + "/api/presence", timeout=5).json()
        statuses = {p["id"]: p["status"] for p in body["people"]}
        return body if statuses == {"ada": "online", "bob": "away"} else None

    snapshot = wait_for(presence, 10, what="ada online and bob away from ServiceNow")
    assert len(snapshot["people"]) == len(PEOPLE)
    _validator(doc, "Presence").validate(snapshot)

    wait_for(lambda: session.get(dash.url + "/api/visitors", timeout=5).json()["visitors"], 10)
    created = session.post(
        dash.url + "/api/screenmeet/sessions",
        json={"type": "live", "parent_object_table": "incident", "parent_object_display_name": "x"},
        headers={"X-CSRFToken": token},
        timeout=5,
    )
    assert created.status_code == 201, created.text
    _validator(doc, "CreatedSession").validate(created.json())
    for path, component in [
        ("/api/visitors", "Visitors"),
        ("/api/screenmeet/sessions", "Sessions"),
        ("/api/me", "Me"),
        ("/api/audit", "AuditPage"),
        ("/api/people/ada/history", "History"),
        ("/api/kiosk-tokens", "KioskTokens"),
        ("/readyz", "Ready"),
        ("/healthz", "Health"),
        ("/api/people/nobody/history", "Error"),
    ]:
        _validator(doc, component).validate(session.get(dash.url + path, timeout=5).json())

    # And a schema that says too little is caught: a PERSON without a v1.1 field.
    broken = {
        **snapshot,
        "people": [{k: v for k, v in snapshot["people"][0].items() if k != "activity"}],
    }
    assert not _validator(doc, "Presence").is_valid(broken)
