"""Signal bodies and idempotency keys (pure): what we refuse to send a visitor's browser, and
what a key is checked against (the keys themselves: test_visitor_store.py)."""

from __future__ import annotations

from typing import Any

import pytest

from presence_dash.storage.idempotency import fingerprint as action_fingerprint
from presence_dash.visitors.actions import (
    COBROWSE_FUNC,
    InvalidAction,
    check_idempotency_key,
    cobrowse_message,
    parse_group_id,
    parse_signal,
)


def test_cobrowse_is_the_documented_invoke() -> None:
    message = cobrowse_message()
    assert (message.mtype, message.data) == ("invoke", {"func": COBROWSE_FUNC})
    assert COBROWSE_FUNC == "GLANCE.Cobrowse.Visitor.startSession"


def test_valid_signal_and_invoke_bodies_pass_unchanged() -> None:
    chat = {"command": "startchat", "chatid": "56789"}
    assert parse_signal({"mtype": "signal", "data": chat}).data == chat
    invoke = {"func": "GLANCE.Cobrowse.Visitor.startSession", "args": []}
    assert parse_signal({"mtype": "invoke", "data": invoke}).mtype == "invoke"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (None, "bad_body"),
        ([], "bad_body"),
        ({"mtype": "signal", "data": {}, "extra": 1}, "bad_body"),
        ({"mtype": "eval", "data": {}}, "bad_mtype"),
        ({"data": {}}, "bad_mtype"),
        ({"mtype": "signal", "data": "startchat"}, "bad_data"),
        ({"mtype": "signal"}, "bad_data"),
        ({"mtype": "invoke", "data": {}}, "bad_func"),
        ({"mtype": "invoke", "data": {"func": "window.location.assign"}}, "bad_func"),
        ({"mtype": "invoke", "data": {"func": "GLANCE.x;alert(1)"}}, "bad_func"),
        ({"mtype": "invoke", "data": {"func": "GLANCE"}}, "bad_func"),
        ({"mtype": "invoke", "data": {"func": "GLANCE.a.b", "code": "x"}}, "bad_data"),
        ({"mtype": "invoke", "data": {"func": "GLANCE.a.b", "args": "x"}}, "bad_data"),
        ({"mtype": "signal", "data": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}, "bad_data"),
    ],
)
def test_bad_bodies_are_refused_with_a_code(body: Any, code: str) -> None:
    with pytest.raises(InvalidAction) as info:
        parse_signal(body)
    assert info.value.code == code
    assert info.value.status == 400


def test_data_over_the_size_limit_is_413() -> None:
    with pytest.raises(InvalidAction) as info:
        parse_signal({"mtype": "signal", "data": {"text": "x" * 5000}})
    assert (info.value.code, info.value.status) == ("data_too_large", 413)


def test_group_id_must_be_a_configured_group() -> None:
    assert parse_group_id(None, [1, 2]) is None
    assert parse_group_id("2", [1, 2]) == 2
    for bad, code in (("x", "bad_group_id"), (3, "unknown_group"), (True, "unknown_group")):
        with pytest.raises(InvalidAction) as info:
            parse_group_id(bad, [1, 2])
        assert info.value.code == code


def test_the_fingerprint_tells_requests_apart() -> None:
    first = action_fingerprint("cobrowse", "v-1", 72431, "invoke", {"func": COBROWSE_FUNC})
    assert first == action_fingerprint("cobrowse", "v-1", 72431, "invoke", {"func": COBROWSE_FUNC})
    assert first != action_fingerprint("cobrowse", "v-2", 72431, "invoke", {"func": COBROWSE_FUNC})


@pytest.mark.parametrize("key", ["short", "has space 123", "x" * 200, "semi;colon123"])
def test_malformed_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidAction):
        check_idempotency_key(key)
