"""The Redis key names of one deployment, all under one prefix (`[server] redis_prefix`), so
several deployments (or parallel tests) can share a Redis without seeing each other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClusterKeys:
    prefix: str

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    @property
    def lock(self) -> str:
        """The leader lock: its value is the holder's fencing token."""
        return self._key("leader")

    @property
    def terms(self) -> str:
        """Counter behind the fencing tokens (one INCR per election won)."""
        return self._key("terms")

    @property
    def seq(self) -> str:
        """The last seq published."""
        return self._key("seq")

    @property
    def log(self) -> str:
        """Sorted set: one `presence` batch per member, scored by its seq."""
        return self._key("log")

    @property
    def state(self) -> str:
        """Hash: person id -> the person's saved state (board_state.saved_person_json)."""
        return self._key("state")

    @property
    def last_success(self) -> str:
        """Hash: provider -> its last successful refresh (ISO 8601)."""
        return self._key("last_success")

    @property
    def snapshot(self) -> str:
        return self._key("snapshot")

    @property
    def snapshot_seq(self) -> str:
        return self._key("snapshot_seq")

    @property
    def providers(self) -> str:
        """The latest `providers` event body (with error details)."""
        return self._key("providers")

    def document(self, name: str) -> str:
        """The latest body of an event the leader keeps for web nodes (`alerts`, `visitors`):
        what they serve over REST, in the pages' first paint and on connect."""
        return self._key(f"doc:{name}")

    @property
    def hooks(self) -> str:
        """Stream of vendor callbacks for the leader."""
        return self._key("hooks")

    def hook_reply(self, entry_id: str) -> str:
        return self._key(f"hook-reply:{entry_id}")

    @property
    def socketio_channel(self) -> str:
        """Redis pub/sub ignores the database number: the channel carries the prefix."""
        return self._key("socketio")
