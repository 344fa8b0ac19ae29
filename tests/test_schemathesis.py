"""Schemathesis fuzzes the real `python app.py` from its own OpenAPI document: valid and
invalid requests to every documented operation, signed in as an admin with the CSRF token,
with ServiceNow, Glance and ScreenMeet simulators behind it. No answer may be a server error,
and every answer must be a documented status with a body matching its schema.

Bounded for `make test` (SCHEMATHESIS_EXAMPLES, default 300, a fixed seed, half on SQLite and
half on PostgreSQL, where NUL and out-of-range numbers used to fail); `make fuzz` runs it
with many more. Operations left out: sign-in and sign-out (they end the session the run
uses, and lock the account out), vendor callbacks (each provider's own tests cover them),
and static files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import schemathesis
from api_helpers import signed_in, start_full_dash
from glance_helpers import GlanceSimHandle
from helpers import DashServer, SnSimHandle, sys_id
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from screenmeet_helpers import ScreenMeetSimHandle

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "300"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
NOT_FUZZED = ["auth.login.post", "auth.logout.post", "static.get"]


@pytest.fixture
def dash(
    tmp_path: Path,
    database_url: str,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
    sn_sim: SnSimHandle,
    glance_sim: GlanceSimHandle,
    screenmeet_sim: ScreenMeetSimHandle,
) -> DashServer:
    sn_sim.set_user(sys_id("ada"), seconds_ago=0)
    glance_sim.arrive("v-1001", title="Pricing")
    return start_full_dash(
        tmp_path,
        make_config,
        dash_server,
        sn_sim,
        glance_sim,
        screenmeet_sim,
        database=database_url,
        # Every fuzzed action counts against the per-user limit; 429 is documented, but
        # a run of 429s would test nothing behind the gate.
        auth={"action_rate_limit": "100000 per minute"},
    )


@pytest.mark.timeout(60 + EXAMPLES // 5)  # about 30 ms an example, with room
def test_fuzzed_requests_get_no_server_error_and_only_documented_answers(
    dash: DashServer,
) -> None:
    session, token = signed_in(dash.url)
    raw = session.get(dash.url + "/api/openapi.json", timeout=5).json()
    schema = (
        schemathesis.openapi.from_dict(raw)
        .exclude(operation_id=NOT_FUZZED)
        .exclude(path_regex="^/hooks/")
    )
    cases = schema.as_strategy(GenerationMode.POSITIVE) | schema.as_strategy(
        GenerationMode.NEGATIVE
    )

    @settings(
        max_examples=EXAMPLES // 2,  # per database
        derandomize=True,  # the same requests every run: a failure here is reproducible
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=dash.url,
            session=session,
            headers={"X-CSRFToken": token},
            checks=CHECKS,
            timeout=10,
        )

    fuzz()
    assert "Traceback" not in dash.output()
