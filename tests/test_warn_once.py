"""WarnOnce: each distinct problem logged once, memory bounded."""

from __future__ import annotations

import logging

import pytest

from presence_dash.core.warn_once import WarnOnce


def test_warn_once_logs_each_problem_once_and_stays_bounded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    warn = WarnOnce(logging.getLogger("test.warn_once"), "vendor: ", limit=3)
    with caplog.at_level(logging.WARNING, logger="test.warn_once"):
        for _ in range(5):
            warn("bad record")
        warn("from 10.0.0.1", key="spoof")
        warn("from 10.0.0.2", key="spoof")  # same key: same problem
        for n in range(10):
            warn(f"problem {n}")
    messages = [r.getMessage() for r in caplog.records]
    assert messages[:2] == ["vendor: bad record", "vendor: from 10.0.0.1"]
    assert len(messages) == 12
    assert len(warn._seen) <= 3  # an attacker varying the problem cannot grow memory
