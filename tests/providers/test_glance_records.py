"""Glance presence records -> visitors (pure): the container shapes `/query` may have, ids,
times, and what metadata an agent gets to see."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from presence_dash.providers.glance.records import (
    MalformedRecords,
    is_present,
    parse_query,
    parse_record,
)

RECORD = {  # /lookupvisitor's documented example, plus what a page might report
    "direct": "pr0016.glance.net:443",
    "visitorpresent": "1583953702.0",
    "timestamp": "1583953702.0",
    "visitorid": "example",
    "groupid": "12345",
    "ds": "pr0016.glance.net/0",
    "directserver": "pr0016.glance.net",
    "tlsport": 5501,
    "httpsport": 443,
    "title": "Pricing",
}


def test_a_documented_record_becomes_a_visitor_without_routing_fields() -> None:
    visitor = parse_record(12345, RECORD)
    assert visitor is not None
    assert (visitor.group_id, visitor.visitor_id) == (12345, "example")
    assert visitor.since == datetime(2020, 3, 11, 19, 8, 22, tzinfo=UTC)
    assert visitor.metadata == {"title": "Pricing"}


@pytest.mark.parametrize(
    "body",
    [
        [RECORD, {**RECORD, "visitorid": "other"}],
        {"groupid": "12345", "visitors": [RECORD, {**RECORD, "visitorid": "other"}]},
        {"example": {"title": "Pricing"}, "other": {}},
    ],
    ids=["list", "object-with-list", "keyed-by-id"],
)
def test_query_shapes_are_all_read(body: Any) -> None:
    visitors, skipped = parse_query(12345, body)
    assert [v.visitor_id for v in visitors] == ["example", "other"]
    assert skipped == 0


def test_records_without_a_usable_id_are_skipped_and_counted() -> None:
    body = [RECORD, {"title": "no id"}, {"visitorid": "has space"}, "text", {"visitorid": "x" * 63}]
    visitors, skipped = parse_query(12345, body)
    assert [v.visitor_id for v in visitors] == ["example"]
    assert skipped == 4


def test_an_answer_that_is_no_container_is_malformed() -> None:
    with pytest.raises(MalformedRecords):
        parse_query(12345, "<html>")


def test_metadata_is_short_and_flat() -> None:
    record = {"visitorid": "v", "data": {"cart": [1, 2]}, "long": "y" * 500}
    record |= {f"k{i}": i for i in range(40)}
    visitor = parse_record(1, record)
    assert visitor is not None
    assert visitor.metadata["data"] == '{"cart":[1,2]}'
    assert len(visitor.metadata["long"]) == 200
    assert len(visitor.metadata) == 20


@pytest.mark.parametrize("value", [None, "soon", "12", 99e12, "nan"])
def test_times_that_are_not_plausible_are_ignored(value: Any) -> None:
    visitor = parse_record(1, {"visitorid": "v", "visitorpresent": value})
    assert visitor is not None and visitor.since is None


@pytest.mark.parametrize(
    ("value", "present"),
    [("1583953702.0", True), (1583953702, True), (False, False), ("0", False), (None, False)],
)
def test_lookup_presence(value: Any, present: bool) -> None:
    assert is_present({"visitorpresent": value}) is present
