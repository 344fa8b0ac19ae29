"""The Cisco PWS adapter against the simulator over real HTTP, both ways: our callback is a
real HTTP server that hands notifications to the provider and wakes its runner, exactly as
the dashboard's `/hooks/cisco/pws` route does. Each quirk's recovery has a test here."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask, Response, request
from helpers import (
    CISCO_APP_PASSWORD,
    CISCO_APP_USER,
    CISCO_END_USER,
    CiscoSimHandle,
    wait_for,
)

from presence_dash.core.board import PresenceBoard
from presence_dash.core.model import Observation, Person, ProviderState, Status
from presence_dash.core.timefmt import utc_now
from presence_dash.providers.base import AuthFailed, HookRequest, UpdateFailed
from presence_dash.providers.cisco.config import CiscoConfig
from presence_dash.providers.cisco.provider import CiscoPwsProvider
from presence_dash.providers.notes import ProviderNotes
from presence_dash.providers.runner import ProviderRunner, stale_after
from presence_dash.simulators.serve import SimulatorServer
from presence_dash.storage.db import create_schema, engine_for

PEOPLE = [Person(pid, pid.title(), "T", {"cisco": f"{pid}@example.com"}) for pid in ("ada", "bob")]


@dataclass
class Rig:
    """One provider wired like the app: callback server -> handle_hook -> runner.wake."""

    sim: CiscoSimHandle
    notes: ProviderNotes
    hook_server: SimulatorServer
    holder: dict[str, Any] = field(default_factory=dict)
    clock_offset: timedelta = timedelta(0)

    @property
    def callback_url(self) -> str:
        return self.hook_server.url + "/hooks/cisco/pws"

    def clock(self) -> datetime:
        return utc_now() + self.clock_offset

    def provider(
        self,
        password: str = CISCO_APP_PASSWORD,
        people: Sequence[Person] = PEOPLE,
        **options: Any,
    ) -> CiscoPwsProvider:
        config = CiscoConfig(
            base_url=self.sim.url,
            app_user=CISCO_APP_USER,
            app_password_env="PW",
            end_user=CISCO_END_USER,
            callback_url=self.callback_url,
            timeout_seconds=3,
            **options,
        )
        provider = CiscoPwsProvider(
            config,
            password,
            people,
            requests.Session(),
            self.clock,
            self.notes,
        )
        self.holder["provider"] = provider
        return provider

    def run(self, provider: CiscoPwsProvider) -> tuple[PresenceBoard, ProviderRunner]:
        board = PresenceBoard(PEOPLE, {"cisco": stale_after(provider)}, self.clock())
        runner = ProviderRunner(
            provider, board, self.clock, time.sleep, wake_event=threading.Event()
        )
        self.holder["runner"] = runner
        threading.Thread(target=runner.run_forever, daemon=True).start()
        return board, runner


def _hook_app(holder: dict[str, Any]) -> Flask:
    app = Flask(__name__)

    @app.route("/hooks/cisco/<path:path>", methods=["GET", "POST"])
    def hook(path: str) -> Response:
        answer = holder["provider"].handle_hook(
            HookRequest(
                request.method,
                path,
                request.args.to_dict(),
                dict(request.headers),
                request.get_data(),
                request.remote_addr,
            )
        )
        if answer is None:
            return Response("no", 404)
        if answer.refresh and "runner" in holder:
            holder["runner"].wake()
        return Response(answer.body, answer.status)

    return app


@pytest.fixture
def rig(cisco_sim: CiscoSimHandle, tmp_path: Path) -> Iterator[Rig]:
    engine = engine_for(f"sqlite:///{tmp_path / 'notes.db'}")
    create_schema(engine)
    holder: dict[str, Any] = {}
    server = SimulatorServer(_hook_app(holder)).start()
    rig = Rig(cisco_sim, ProviderNotes(engine, "cisco"), server, holder)
    yield rig
    if "runner" in holder:
        holder["runner"].stop()
    if "provider" in holder:
        holder["provider"].close()
    server.shutdown()


def _status(board: PresenceBoard, pid: str) -> tuple[Status, str | None]:
    """The cisco source's status and the words shown with it."""
    view = board.person(pid)
    assert view is not None
    source = view.sources.get("cisco")
    return (source.status, source.activity) if source else (Status.UNKNOWN, None)


def _seen(observations: list[Observation]) -> dict[str, tuple[Status, str | None, str | None]]:
    """person -> (status, raw state as detail, activity)."""
    return {o.person_id: (o.status, o.detail, o.activity) for o in observations}


def _until(
    board: PresenceBoard, pid: str, expected: tuple[Status, str | None], timeout: float = 5.0
) -> None:
    wait_for(
        lambda: _status(board, pid) == expected,
        timeout,
        what=f"{pid} to become {expected}, is {_status(board, pid)}",
    )


def _sent_to(sim: CiscoSimHandle, subscription_id: int) -> list[dict[str, Any]]:
    return [n for n in sim.notifications() if n.get("subscription_id") == subscription_id]


# -- the lifecycle ---------------------------------------------------------------------------


def test_first_refresh_registers_and_fetches_without_waiting_for_a_notification(
    rig: Rig,
) -> None:
    rig.sim.set_contact("ada@example.com", "DND")
    rig.sim.set_contact("bob@example.com", "AVAILABLE")
    provider = rig.provider()
    assert _seen(provider.poll()) == {
        "ada": (Status.BUSY, "DND", "Do not disturb"),
        "bob": (Status.ONLINE, "AVAILABLE", None),
    }
    state = rig.sim.state()
    assert len(state["endpoints"]) == 1 and state["endpoints"][0]["url"] == rig.callback_url
    [subscription] = state["subscriptions"]
    assert sorted(subscription["contacts"]) == ["ada@example.com", "bob@example.com"]
    assert subscription["awaiting_fetch"] is False  # our fetch cleared the creation notice
    assert provider.next_poll_seconds == 2.0  # a second fetch soon, for a racing notify


# -- states, activities and time in state ------------------------------------------------------

ROWS = [Person(f"p{i}", f"P{i}", "T", {"cisco": f"p{i}@example.com"}) for i in range(9)]

# (sim status, sim activities) -> (status, raw state, activity): the documented table
# (docs/providers/cisco.md, "Busy and activities").
BASIC_TABLE = [
    (("AVAILABLE", []), (Status.ONLINE, "AVAILABLE", None)),
    (("AWAY", []), (Status.AWAY, "AWAY", "Away")),
    (("DND", []), (Status.BUSY, "DND", "Do not disturb")),
    (("BUSY", []), (Status.BUSY, "BUSY", "Busy")),
    (("VACATION", []), (Status.OFFLINE, "VACATION", "On vacation")),
    (("UNAVAILABLE", []), (Status.OFFLINE, "UNAVAILABLE", None)),
    (("UNKNOWN", []), (Status.UNKNOWN, "UNKNOWN", "Unknown to IM&P")),
]
RICH_TABLE = [
    (("AVAILABLE", []), (Status.ONLINE, "available", None)),
    (("AWAY", []), (Status.AWAY, "away", "Away")),
    (("DND", []), (Status.BUSY, "dnd", "Do not disturb")),
    (("BUSY", []), (Status.BUSY, "busy", "Busy")),
    (("BUSY", ["on-the-phone"]), (Status.BUSY, "on-the-phone", "On the phone")),
    (("BUSY", ["meeting"]), (Status.BUSY, "meeting", "In a meeting")),
    (("DND", ["presenting"]), (Status.BUSY, "presenting", "Presenting")),
    (("VACATION", []), (Status.OFFLINE, "vacation", "On vacation")),
    (("UNAVAILABLE", []), (Status.OFFLINE, "UNAVAILABLE", None)),  # no activity: basic closed
]


@pytest.mark.parametrize(("kind", "table"), [("basic", BASIC_TABLE), ("rich", RICH_TABLE)])
def test_every_default_state_maps_to_its_status_and_activity(
    rig: Rig, kind: str, table: list[tuple[tuple[str, list[str]], Any]]
) -> None:
    rig.sim._post("/_sim/options", {"basic_as_stored": False})  # BUSY, VACATION as set
    for person, ((status, activities), _) in zip(ROWS, table, strict=False):
        rig.sim.set_contact(person.source_ids["cisco"], status, activities)
    provider = rig.provider(people=ROWS[: len(table)], presence_type=kind)
    seen = _seen(provider.poll())
    assert [seen[p.id] for p in ROWS[: len(table)]] == [expected for _, expected in table]


def test_the_most_telling_activity_wins(rig: Rig) -> None:
    published = [
        ["on-the-phone", "presenting", "meeting"],
        ["presenting", "meeting"],
        ["meeting", "dnd"],
        ["dnd"],  # with the status's own <busy/>
        ["vacation", "away"],
    ]
    for person, activities in zip(ROWS, published, strict=False):
        rig.sim.set_contact(person.source_ids["cisco"], "BUSY", activities)
    provider = rig.provider(people=ROWS[:5], presence_type="rich")
    seen = _seen(provider.poll())
    assert [seen[p.id][1] for p in ROWS[:5]] == [
        "on-the-phone",
        "presenting",
        "meeting",
        "dnd",
        "busy",  # busy outranks vacation and away
    ]


def test_rpid_presentation_reads_as_presenting_and_unmapped_activities_are_skipped(
    rig: Rig,
) -> None:
    rig.sim.set_contact("ada@example.com", "AVAILABLE", ["presentation"])  # RFC 4480's name
    rig.sim.set_contact("bob@example.com", "AWAY", ["tv"])  # an RPID activity we do not map
    provider = rig.provider(presence_type="rich")
    assert _seen(provider.poll()) == {
        "ada": (Status.BUSY, "presentation", "Presenting"),
        "bob": (Status.AWAY, "away", "Away"),
    }


def test_state_map_overrides_in_both_forms_and_adds_activities(rig: Rig) -> None:
    rig.sim.set_contact("ada@example.com", "DND")
    basic = rig.provider(state_map={"DND": "offline"})  # the v1 form: a bare status
    assert _seen(basic.poll())["ada"] == (Status.OFFLINE, "DND", None)
    basic.close()
    rig.sim.set_contact("ada@example.com", "BUSY", ["on-the-phone"])
    rig.sim.set_contact("bob@example.com", "AWAY", ["lunch"])
    rich = rig.provider(
        presence_type="rich",
        state_map={
            "on-the-phone": {"status": "away", "activity": "Calling"},
            "lunch": {"status": "away", "activity": "At lunch"},  # not a default row
        },
    )
    assert _seen(rich.poll()) == {
        "ada": (Status.AWAY, "on-the-phone", "Calling"),
        "bob": (Status.AWAY, "lunch", "At lunch"),  # an added activity outranks away
    }


def _dated(rig: Rig, uri: str, status: str, activities: list[str], **when: Any) -> None:
    rig.sim._post(f"/_sim/contacts/{uri}", {"status": status, "activities": activities, **when})


def test_rpid_from_dates_the_state_on_our_clock_and_stays_put(rig: Rig) -> None:
    rig.sim.advance(300)  # IM&P's clock is five minutes ahead of ours
    rig.sim._post("/_sim/options", {"rpid_from": True})
    _dated(rig, "ada@example.com", "BUSY", ["on-the-phone"], since_ago_s=600)
    rig.sim.set_contact("bob@example.com", "AVAILABLE")  # dated just now
    provider = rig.provider(presence_type="rich")
    first = {o.person_id: o for o in provider.poll()}
    now = utc_now()
    ada_since = first["ada"].state_since
    assert ada_since is not None and ada_since.tzinfo is not None
    assert abs((now - ada_since).total_seconds() - 600) < 3  # not 900: the offset is out
    bob_since = first["bob"].state_since
    assert bob_since is not None and abs((now - bob_since).total_seconds()) < 3
    second = {o.person_id: o.state_since for o in provider.poll()}
    assert second == {"ada": ada_since, "bob": bob_since}  # exactly, though Date moved on
    basic = rig.provider(presence_type="basic")
    assert {o.state_since for o in basic.poll()} == {None}  # basic presence has no stamps


@pytest.mark.parametrize(
    ("stamp", "logged"),
    [
        ("half past nine", "unreadable RPID time stamp"),
        ("2026-12-01T09:30:00", "unreadable RPID time stamp"),  # no zone: whose clock?
        ("2999-01-01T00:00:00Z", "is in the future"),
    ],
)
def test_bad_or_future_rpid_stamps_are_ignored_once_logged(
    rig: Rig, caplog: pytest.LogCaptureFixture, stamp: str, logged: str
) -> None:
    _dated(rig, "ada@example.com", "BUSY", ["meeting"], **{"from": stamp})
    provider = rig.provider(presence_type="rich")
    for _ in range(2):
        ada = {o.person_id: o for o in provider.poll()}["ada"]
        assert (ada.status, ada.detail, ada.state_since) == (Status.BUSY, "meeting", None)
    assert len([r for r in caplog.records if logged in r.getMessage()]) == 1


def test_a_failing_imp_is_retried_within_35_s_not_at_the_next_resync(rig: Rig) -> None:
    assert rig.provider(resync_seconds=10).retry_seconds == 10.0  # never slower than resync
    assert rig.provider(max_backoff_seconds=120).max_backoff_seconds == 120.0
    provider = rig.provider(resync_seconds=600)
    assert (provider.retry_seconds, provider.max_backoff_seconds) == (30.0, 35.0)
    board = PresenceBoard(PEOPLE, {"cisco": stale_after(provider)}, rig.clock())
    runner = ProviderRunner(provider, board, rig.clock, time.sleep)
    assert runner.poll_once() == 2.0  # registered and fetched
    rig.sim.fault("500", count=5)
    delays = [runner.poll_once() for _ in range(5)]
    assert all(0 < d <= 35.0 for d in delays), delays
    assert runner.poll_once() == 600.0  # recovered: the plain resync schedule again


def test_each_notification_is_followed_by_a_fetch_so_notifications_keep_coming(
    rig: Rig,
) -> None:
    board, _ = rig.run(rig.provider(resync_seconds=600))
    _until(board, "ada", (Status.UNKNOWN, "Unknown to IM&P"))
    sub_id = rig.sim.state()["subscriptions"][0]["id"]
    for state, expected in (
        ("DND", (Status.BUSY, "Do not disturb")),
        ("AVAILABLE", (Status.ONLINE, None)),
        ("UNAVAILABLE", (Status.OFFLINE, None)),
    ):
        rig.sim.set_contact("ada@example.com", state)
        _until(board, "ada", expected)
    # Three changes, three notifications: each was possible only because we fetched.
    assert len([n for n in _sent_to(rig.sim, sub_id) if n.get("status") == 200]) >= 4


def test_resync_catches_changes_while_high_cpu_suppresses_notifications(rig: Rig) -> None:
    board, _ = rig.run(rig.provider(resync_seconds=0.3))
    _until(board, "bob", (Status.UNKNOWN, "Unknown to IM&P"))
    rig.sim.cpu(85)
    sent_before = len(rig.sim.notifications())
    rig.sim.set_contact("bob@example.com", "AWAY")
    _until(board, "bob", (Status.AWAY, "Away"))
    assert len(rig.sim.notifications()) == sent_before  # the resync, not a notification


def test_stalled_notifications_degrade_the_provider_until_they_resume(rig: Rig) -> None:
    board, _ = rig.run(rig.provider(resync_seconds=0.3))
    _until(board, "ada", (Status.UNKNOWN, "Unknown to IM&P"))
    rig.sim.cpu(90)
    for state, expected in (
        ("AWAY", (Status.AWAY, "Away")),
        ("DND", (Status.BUSY, "Do not disturb")),
        ("AVAILABLE", (Status.ONLINE, None)),
    ):
        rig.sim.set_contact("ada@example.com", state)
        _until(board, "ada", expected)
    health = board.health()["cisco"]
    assert health.state is ProviderState.DEGRADED
    assert "notifications have stopped" in (health.error or "")
    rig.sim.cpu(10)
    rig.sim.set_contact("ada@example.com", "DND")  # notified again
    wait_for(
        lambda: board.health()["cisco"].state is ProviderState.OK,
        5,
        what="cisco back to ok after a notification",
    )


def test_expired_session_keys_are_replaced_by_logging_in_again(rig: Rig) -> None:
    board, _ = rig.run(rig.provider(resync_seconds=600))
    _until(board, "ada", (Status.UNKNOWN, "Unknown to IM&P"))
    rig.sim.expire_sessions()
    rig.sim.set_contact("ada@example.com", "AWAY")
    _until(board, "ada", (Status.AWAY, "Away"))
    assert board.health()["cisco"].state is ProviderState.OK


def test_a_restarted_server_is_registered_with_again(rig: Rig) -> None:
    provider = rig.provider()
    provider.poll()
    old_sub = rig.sim.state()["subscriptions"][0]["id"]
    rig.sim.restart()
    rig.sim.set_contact("ada@example.com", "DND")
    observations = {o.person_id: o.status for o in provider.poll()}
    assert observations["ada"] is Status.BUSY
    [subscription] = rig.sim.state()["subscriptions"]
    assert subscription["id"] != old_sub


def test_registration_that_expired_on_the_server_is_recovered(rig: Rig) -> None:
    provider = rig.provider()
    provider.poll()
    rig.sim.advance(4000)  # past the 3600 s expiry: IM&P forgets both
    rig.sim.set_contact("bob@example.com", "AVAILABLE")
    assert {o.person_id: o.status for o in provider.poll()}["bob"] is Status.ONLINE
    assert len(rig.sim.state()["subscriptions"]) == 1


def test_registration_is_renewed_before_it_expires(rig: Rig) -> None:
    provider = rig.provider(expiry_seconds=3600)
    provider.poll()
    first = rig.sim.state()
    rig.clock_offset = timedelta(seconds=3600 * 0.85)
    provider.poll()
    second = rig.sim.state()
    assert [s["id"] for s in second["subscriptions"]] != [s["id"] for s in first["subscriptions"]]
    assert len(second["subscriptions"]) == 1 and len(second["endpoints"]) == 1  # old removed


def test_a_long_resync_interval_still_wakes_up_for_the_renewal(rig: Rig) -> None:
    provider = rig.provider(expiry_seconds=3600, resync_seconds=7200)
    provider.poll()
    provider.poll()  # settled after registration: the plain schedule applies
    assert provider.next_poll_seconds == pytest.approx(3600 * 0.8, abs=5)
    rig.clock_offset = timedelta(seconds=3000)
    assert provider.next_poll_seconds == 0.0  # renewal overdue: refresh now


def test_close_removes_our_endpoint_and_subscription(rig: Rig) -> None:
    provider = rig.provider()
    provider.poll()
    assert rig.sim.state()["subscriptions"]
    provider.close()
    provider.close()  # twice is fine
    state = rig.sim.state()
    assert state["subscriptions"] == [] and state["endpoints"] == []
    assert rig.notes.get("registration") is None


def test_registration_left_by_a_crashed_run_is_removed_at_start(rig: Rig) -> None:
    crashed = rig.provider()
    crashed.poll()  # registers, then "crashes": no close()
    old = rig.sim.state()
    fresh = rig.provider()
    fresh.poll()
    new = rig.sim.state()
    assert len(new["subscriptions"]) == 1 and len(new["endpoints"]) == 1
    assert new["subscriptions"][0]["id"] != old["subscriptions"][0]["id"]
    crashed.http.close()


# -- the callback ----------------------------------------------------------------------------


def test_callback_accepts_only_our_subscription_and_well_formed_calls(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    provider = rig.provider()
    provider.poll()
    ours = str(rig.sim.state()["subscriptions"][0]["id"])
    get: Callable[..., requests.Response] = lambda **params: requests.get(  # noqa: E731
        rig.callback_url, params=params, timeout=3
    )
    assert get(id=ours, eventType="PRESENCE_NOTIFICATION").status_code == 200
    assert get(id="999", eventType="PRESENCE_NOTIFICATION").status_code == 404
    assert get(foo="1").status_code == 400
    assert get(id=ours, eventType="SOMETHING_ELSE").status_code == 400
    assert get(id="999", eventType="PRESENCE_NOTIFICATION").status_code == 404
    assert requests.post(rig.callback_url, timeout=3).status_code == 400
    unknown = [r for r in caplog.records if "999" in r.getMessage()]
    assert len(unknown) == 1  # the same problem is logged once


def test_callback_self_check_warns_when_the_url_does_not_reach_us(rig: Rig) -> None:
    provider = rig.provider()
    provider.config = provider.config.model_copy(update={"callback_url": rig.sim.url + "/nowhere"})
    provider.poll()
    assert provider.health_warning and "does not reach this dashboard" in provider.health_warning


# -- failures --------------------------------------------------------------------------------


def test_wrong_app_password_is_an_auth_failure(rig: Rig) -> None:
    provider = rig.provider(password="wrong")
    with pytest.raises(AuthFailed, match="IM&P refused"):
        provider.poll()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("503", "HTTP 503 code 210"),
        ("500", "HTTP 500"),
        ("malformed", "malformed response"),
    ],
)
def test_vendor_faults_are_update_failures(rig: Rig, kind: str, message: str) -> None:
    provider = rig.provider()
    provider.poll()
    rig.sim.fault(kind)
    with pytest.raises(UpdateFailed, match=message) as caught:
        provider.poll()
    if kind == "503":
        assert caught.value.retry_after == 30.0  # IM&P is busy: do not hammer it
    assert {o.person_id for o in provider.poll()} == {"ada", "bob"}  # and it recovers
