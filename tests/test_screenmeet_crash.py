"""kill -9 during concurrent ScreenMeet creates, on SQLite and PostgreSQL: the real dashboard
process against the simulator over HTTP. The vendor is slow, so at the kill some creates are
answered, some are in flight at the vendor (which finishes them after we died) and some never
left the browser. After a restart and its reconcile pass, every request retried with its own
Idempotency-Key: vendor sessions == dashboard rows == audit rows, no external id twice, one
session per request."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import sqlalchemy as sa
from helpers import DashServer, free_port, wait_for
from screenmeet_helpers import SM_PASSWORD, SM_PASSWORD_ENV, ScreenMeetSimHandle, screenmeet_section

from presence_dash.storage.db import engine_for

API = "/api/screenmeet/sessions"
REQUESTS = 48
THREADS = 16
VENDOR_DELAY_S = 1.5


def _body(i: int) -> dict[str, object]:
    return {
        "type": "support",
        "parent_object_table": "incident",
        "parent_object_display_name": f"INC{i:07d}",
        "label": f"crash test {i}",
    }


def _post(server: DashServer, i: int, key: str) -> requests.Response | None:
    """None when the dashboard died under the request (or was already dead)."""
    try:
        return requests.post(
            server.url + API, json=_body(i), headers={"Idempotency-Key": key}, timeout=15
        )
    except requests.ConnectionError:
        return None


def _failures(answers: list[requests.Response | None]) -> list[str]:
    return [
        "no answer" if r is None else f"{r.status_code} {r.text[:200]}"
        for r in answers
        if r is None or r.status_code != 201
    ]


def _audit_rows(engine: sa.Engine) -> list[sa.Row]:
    query = sa.text(
        "SELECT result, status, params FROM audit_log WHERE action = 'screenmeet.create_session'"
    )
    with engine.connect() as conn:
        return list(conn.execute(query))


def _pending_intents(engine: sa.Engine) -> int:
    query = sa.text("SELECT count(*) FROM screenmeet_intents WHERE state = 'pending'")
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_kill_9_during_concurrent_creates_leaves_no_orphan_and_no_duplicate(
    tmp_path: Path,
    screenmeet_sim: ScreenMeetSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
    database_url: str,
) -> None:
    sim = screenmeet_sim
    config = make_config(
        tmp_path, [], None, providers={"screenmeet": screenmeet_section(sim)}, database=database_url
    )
    # The test sends ~2 x REQUESTS actions from one (unsigned) user within seconds.
    config.write_text(config.read_text() + '\n[auth]\naction_rate_limit = "10000 per minute"\n')
    env = {SM_PASSWORD_ENV: SM_PASSWORD}
    first = dash_server(config, port=free_port(), **env)
    keys = [str(uuid.uuid4()) for _ in range(REQUESTS)]

    sim.fault("slow", count=REQUESTS, delay_s=VENDOR_DELAY_S)
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(_post, first, i, key) for i, key in enumerate(keys)]
        # Kill once the first wave is answered and the second is sleeping at the vendor.
        wait_for(lambda: len(sim.request_log()) >= THREADS + 4, 20, what="a second wave")
        first.proc.kill()
        first.proc.wait(timeout=5)
        before = [f.result() for f in futures]
    sim.sim.faults.clear()  # the restart's lookups need not wait
    answered = {keys[i]: r.json()["id"] for i, r in enumerate(before) if r is not None}
    assert all(r is None or r.status_code == 201 for r in before), _failures(before)
    # The crash hit work in progress: some answered, some not.
    assert 0 < len(answered) < REQUESTS

    second = dash_server(config, port=free_port(), **env)
    engine = engine_for(database_url)
    try:
        wait_for(lambda: _pending_intents(engine) == 0, 20, what="the reconcile pass")
        # What the reconcile pass found (or sent again) for intents the kill left pending.
        recovered = [r for r in _audit_rows(engine) if r.result in ("ok, recovered", "ok, resent")]
        assert recovered, "the kill left no intent for the reconcile pass"

        with ThreadPoolExecutor(THREADS) as pool:
            after = list(pool.map(lambda ik: _post(second, *ik), enumerate(keys)))
        assert all(r is not None and r.status_code == 201 for r in after), _failures(after)
        ids = {key: r.json()["id"] for key, r in zip(keys, after, strict=True) if r}
        assert all(ids[key] == sid for key, sid in answered.items())  # replays, not new ones
        assert len(set(ids.values())) == REQUESTS  # one session per request

        vendor = sim.sessions()
        listed = {s["id"] for s in second.get(API).json()["sessions"]}
        rows = [r for r in _audit_rows(engine) if "intent" in json.loads(r.params)]
        intents = [json.loads(r.params)["intent"] for r in rows]
        external_ids = [s["external_id"] for s in vendor.values()]
        print(
            f"\n{database_url.split(':')[0]}: {REQUESTS} requests, {len(answered)} answered "
            f"before kill -9, {len(recovered)} finished by the reconcile pass "
            f"({sum(r.result == 'ok, resent' for r in recovered)} sent again); after the "
            f"retries: {len(vendor)} vendor sessions, {len(listed)} dashboard rows, "
            f"{len(rows)} audit rows"
        )
        assert len(vendor) == len(listed) == len(rows) == REQUESTS
        assert set(vendor) == listed == set(ids.values())
        assert len(set(external_ids)) == len(external_ids) == REQUESTS
        assert sorted(intents) == sorted(external_ids)
        assert {r.result for r in rows} <= {"ok", "ok, recovered", "ok, resent"}
        assert {r.status for r in rows} == {201}
    finally:
        engine.dispose()
