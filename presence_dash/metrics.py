"""Prometheus metrics, one registry per app (no process-global state)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.process_collector import ProcessCollector

if TYPE_CHECKING:
    from presence_dash.providers.base import PollingProvider


@dataclass
class Metrics:
    registry: CollectorRegistry
    batches: Counter
    batch_changes: Counter
    batch_seconds: Histogram
    clients: Gauge
    snapshot_encodes: Counter
    resyncs: Counter
    polls: Counter
    poll_seconds: Histogram
    requests_per_poll: Histogram
    provider_up: Gauge
    bad_messages: Counter
    dropped_events: Counter
    socket_disconnects: Counter

    @classmethod
    def create(cls) -> Metrics:
        r = CollectorRegistry()
        ProcessCollector(registry=r)
        return cls(
            registry=r,
            batches=Counter("presence_batches", "Presence batches pushed", registry=r),
            batch_changes=Counter("presence_batch_changes", "People changes pushed", registry=r),
            batch_seconds=Histogram(
                "presence_batch_emit_seconds",
                "Time to serialize and emit one batch",
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
                registry=r,
            ),
            clients=Gauge("socketio_clients", "Connected Socket.IO clients", registry=r),
            snapshot_encodes=Counter(
                "presence_snapshot_encodes",
                "Snapshot bodies encoded (once per board version, shared by every client)",
                registry=r,
            ),
            resyncs=Counter("socketio_resyncs", "Resync requests", ["answer"], registry=r),
            polls=Counter(
                "provider_polls", "Provider refreshes", ["provider", "result"], registry=r
            ),
            poll_seconds=Histogram(
                "provider_poll_seconds", "Provider refresh duration", ["provider"], registry=r
            ),
            requests_per_poll=Histogram(
                "provider_requests_per_poll",
                "HTTP requests one provider refresh made (providers that count them)",
                ["provider"],
                buckets=(1, 2, 3, 5, 10, 20, 50, 100, 200),
                registry=r,
            ),
            provider_up=Gauge(
                "provider_state",
                "1 for the provider's current state",
                ["provider", "state"],
                registry=r,
            ),
            bad_messages=Counter(
                "socketio_bad_messages", "Malformed client messages", ["event"], registry=r
            ),
            dropped_events=Counter(
                "socketio_dropped_events",
                "Client events dropped over the per-client rate limit",
                registry=r,
            ),
            socket_disconnects=Counter(
                "socketio_guard_disconnects",
                "Clients closed by the server: rate_limit (kept flooding), send_backlog "
                "(too far behind reading)",
                ["reason"],
                registry=r,
            ),
        )

    def record_poll(self, provider: str, ok: bool, seconds: float) -> None:
        self.polls.labels(provider, "ok" if ok else "error").inc()
        self.poll_seconds.labels(provider).observe(seconds)

    def poll_recorder(self, provider: PollingProvider) -> Callable[[str, bool, float], None]:
        """The runner's `on_poll` for `provider`: the refresh, and how many requests it made
        when the provider counts them (so a vendor's request budget can be watched)."""

        def record(name: str, ok: bool, seconds: float) -> None:
            self.record_poll(name, ok, seconds)
            if provider.requests_last_poll is not None:
                self.requests_per_poll.labels(name).observe(provider.requests_last_poll)

        return record


@dataclass
class AlertGauges:
    """Threshold alerts (alert_push.py): per team, and open alerts per kind."""

    team_online: Gauge
    team_people: Gauge
    team_min_online: Gauge
    alerts_open: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> AlertGauges:
        return cls(
            team_online=Gauge(
                "presence_team_online", "People online in the team", ["team"], registry=registry
            ),
            team_people=Gauge(
                "presence_team_people", "People in the team", ["team"], registry=registry
            ),
            team_min_online=Gauge(
                "presence_team_min_online",
                "The team's configured min_online (teams with one)",
                ["team"],
                registry=registry,
            ),
            alerts_open=Gauge(
                "presence_alerts_open", "Open threshold alerts", ["kind"], registry=registry
            ),
        )
