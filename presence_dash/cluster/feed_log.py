"""Pure logic of the published feed: where a new leader's seq continues, how far back the
change log reaches, and what a web node answers from the log and the stored snapshot.

A log entry is one `presence` batch as sent (`{"seq", "server_time", "changes"}`); the
snapshot is the body of `GET /api/presence` at some seq. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Entry = dict[str, Any]


def continue_seq(published: int | None, board_seq: int) -> int:
    """The seq a new leader's board numbers on from: never below what was published, so no
    number is used twice (a restored board has not published anything yet)."""
    return max(published or 0, board_seq)


def log_floor(newest: int, size: int) -> int:
    """The lowest seq kept when the log holds `size` batches and the newest is `newest`
    (entries below it are trimmed)."""
    return max(newest - size + 1, 1)


def covers(entries: Iterable[Entry], after: int, current: int) -> list[Entry] | None:
    """The entries after `after` up to `current`, in order, or None when any is missing
    (trimmed, or never written because Redis failed mid-batch)."""
    wanted = sorted((e for e in entries if after < e["seq"] <= current), key=lambda e: e["seq"])
    if [e["seq"] for e in wanted] != list(range(after + 1, current + 1)):
        return None
    return wanted


def changes_since(
    seq: int, current: int, entries: Iterable[Entry]
) -> tuple[int, list[dict[str, Any]]] | None:
    """What a client at `seq` missed: (current seq, each changed person once, as last
    sent), or None when the log cannot say (the caller sends a snapshot)."""
    if seq < 0 or seq > current:
        return None  # from another deployment, or Redis lost its data
    wanted = covers(entries, seq, current)
    if wanted is None:
        return None
    return current, list(_latest_people(wanted).values())


def merged_snapshot(
    snapshot: dict[str, Any],
    current: int,
    entries: Iterable[Entry],
    providers: dict[str, Any] | None,
) -> dict[str, Any]:
    """The stored snapshot brought up to `current` with the batches after it (the leader
    stores a snapshot at most once a second, the log every batch). When the log does not
    reach back to it, the snapshot stays at its own seq: a client then sees the next batch
    as a gap and resyncs, and a later snapshot catches it up."""
    base = int(snapshot["seq"])
    body = dict(snapshot)
    if providers is not None:
        body["providers"] = providers
    wanted = covers(entries, base, current)
    if wanted is None or not wanted:
        return body
    latest = _latest_people(wanted)
    people = [latest.pop(p["id"], p) for p in snapshot["people"]]
    people.extend(latest.values())  # someone added to the config meanwhile
    body["people"] = people
    body["seq"] = current
    return body


def _latest_people(entries: list[Entry]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for entry in entries:
        for person in entry["changes"]:
            latest[person["id"]] = person
    return latest
