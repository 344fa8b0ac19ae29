"""Our JSON for a session: what each audience gets (the creator, lists, broadcasts) and the
status the vendor shows now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from presence_dash.screenmeet.store import StoredSession
from presence_dash.screenmeet.wire import session_json

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SESSION = StoredSession(
    id="HUiUti",
    type="support",
    label="Remote support session for INC0000005",
    status="new",
    scheduled=False,
    start_time=None,
    pin=42,
    user_url="https://sm.example/join/000042",
    host_url="https://sm.example/host/HUiUti?token=secret",
    host_auth_token="secret",
    expires_at=T0 + timedelta(hours=1),
    settings={"recording": True},
    created_at=T0,
    updated_at=T0,
)


def test_only_the_creator_gets_the_host_link_and_the_token_never_leaves() -> None:
    assert session_json(SESSION, T0, with_host=True)["host_url"] == SESSION.host_url
    for body in (session_json(SESSION, T0), session_json(SESSION, T0, public=True)):
        assert "host_url" not in body
    for body in (
        session_json(SESSION, T0),
        session_json(SESSION, T0, with_host=True),
        session_json(SESSION, T0, public=True),
    ):
        assert "secret" not in str({k: v for k, v in body.items() if k != "host_url"})


def test_broadcasts_leave_out_what_lets_someone_join() -> None:
    body = session_json(SESSION, T0, public=True)
    assert not {"pin", "user_url", "host_url"} & set(body)
    assert body["label"] == SESSION.label and body["status"] == "new"


def test_the_pin_is_six_digits_and_none_while_scheduled() -> None:
    assert session_json(SESSION, T0)["pin"] == "000042"
    assert session_json(SESSION.but(pin=0, status="scheduled"), T0)["pin"] is None


def test_status_and_expiry_are_as_of_now() -> None:
    scheduled = SESSION.but(status="scheduled", start_time=T0 + timedelta(minutes=30))
    assert session_json(scheduled, T0)["status"] == "scheduled"
    assert session_json(scheduled, T0 + timedelta(minutes=20))["status"] == "new"
    assert session_json(SESSION, T0)["expired"] is False
    assert session_json(SESSION, T0 + timedelta(hours=1))["expired"] is True
