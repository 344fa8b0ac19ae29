"""The one idempotency policy (storage/idempotency.py), pure, and the Runtime's one
start/stop protocol (core/background.py) on a real app."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from presence_dash.config import settings_from_dict
from presence_dash.factory import create_app
from presence_dash.storage.idempotency import (
    BadKey,
    Claim,
    ClaimState,
    fingerprint,
    in_progress,
    parse_key,
    settled_answer,
)


def test_absent_or_blank_is_no_key_and_a_good_key_is_kept() -> None:
    assert parse_key(None) is None
    assert parse_key("  ") is None
    hex_key = "0123456789abcdef0123456789abcdef"  # what the pages send (http.js)
    assert parse_key(hex_key) == hex_key
    assert (
        parse_key("d3b07384-d9a0-4c9b-8f1e-1c2b3a4d5e6f") == "d3b07384-d9a0-4c9b-8f1e-1c2b3a4d5e6f"
    )


@pytest.mark.parametrize(
    "key", ["short", "has space 123", "x" * 129, "semi;colon123", "nul\x00key12"]
)
def test_one_rule_refuses_malformed_keys(key: str) -> None:
    with pytest.raises(BadKey):
        parse_key(key)


def test_the_fingerprint_is_the_one_keys_were_stored_with() -> None:
    """Keys kept before the policy was shared (24 hours) must still match their request."""
    body = {"type": "screenshare", "label": "Ada"}
    before = json.dumps(
        ["POST", "/api/screenmeet/sessions", body], sort_keys=True, separators=(",", ":")
    )
    assert (
        fingerprint("POST", "/api/screenmeet/sessions", body)
        == hashlib.sha256(before.encode()).hexdigest()
    )
    assert fingerprint("POST", "/a", body) != fingerprint("POST", "/b", body)


def test_what_a_looked_up_key_answers() -> None:
    assert settled_answer(Claim(ClaimState.ABSENT)) is None
    assert settled_answer(Claim(ClaimState.PENDING)) is None  # the feature's in-flight rule
    done = settled_answer(Claim(ClaimState.DONE, 201, {"id": "s1"}))
    assert done is not None and (done.status, done.body, done.replayed) == (201, {"id": "s1"}, True)
    reused = settled_answer(Claim(ClaimState.MISMATCH))
    assert reused is not None and reused.status == 422
    assert reused.body["error"]["code"] == "idempotency_key_reused"
    busy = in_progress()
    assert (busy.status, busy.body["error"]["code"]) == (409, "request_in_progress")


class _Recorder:
    def __init__(self, log: list[str], name: str, fail: bool = False) -> None:
        self.log, self.name, self.fail = log, name, fail

    def start(self) -> None:
        self.log.append(f"start {self.name}")

    def stop(self) -> None:
        self.log.append(f"stop {self.name}")
        if self.fail:
            raise RuntimeError("stop failed")


def test_the_runtime_stops_every_service_in_reverse_even_when_one_fails(tmp_path: Path) -> None:
    settings = settings_from_dict({"server": {"database": f"sqlite:///{tmp_path / 'd.db'}"}}, {})
    runtime = create_app(settings).extensions["presence_dash"]
    log: list[str] = []
    runtime.services.extend(
        [_Recorder(log, "a"), _Recorder(log, "b", fail=True), _Recorder(log, "c")]
    )
    runtime.start()
    runtime.stop()
    assert log == ["start a", "start b", "start c", "stop c", "stop b", "stop a"]
    assert runtime.background()[:3] == [runtime.history, runtime.board_state, runtime.hub]
