"""Prometheus metrics, one registry per app (no process-global state)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.process_collector import ProcessCollector


@dataclass
class Metrics:
    registry: CollectorRegistry
    batches: Counter
    batch_changes: Counter
    batch_seconds: Histogram
    clients: Gauge
    resyncs: Counter
    polls: Counter
    poll_seconds: Histogram
    provider_up: Gauge
    bad_messages: Counter

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
            resyncs=Counter("socketio_resyncs", "Resync requests", ["answer"], registry=r),
            polls=Counter(
                "provider_polls", "Provider refreshes", ["provider", "result"], registry=r
            ),
            poll_seconds=Histogram(
                "provider_poll_seconds", "Provider refresh duration", ["provider"], registry=r
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
        )

    def record_poll(self, provider: str, ok: bool, seconds: float) -> None:
        self.polls.labels(provider, "ok" if ok else "error").inc()
        self.poll_seconds.labels(provider).observe(seconds)
