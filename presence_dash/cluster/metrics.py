"""The cluster's Prometheus metrics. Created once per process and registered into each app's
registry (a worker builds a new app per term), so their values survive a term change."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class ClusterMetrics:
    leader: Gauge
    term: Gauge
    failovers: Counter
    redis_seconds: Histogram
    redis_up: Gauge
    redis_errors: Counter
    hooks_relayed: Counter
    fenced: Counter

    @classmethod
    def create(cls) -> ClusterMetrics:
        return cls(
            leader=Gauge(
                "presence_cluster_leader", "1 while this worker is the leader", registry=None
            ),
            term=Gauge(
                "presence_cluster_term", "Fencing token of the current leader's term", registry=None
            ),
            failovers=Counter(
                "presence_cluster_failovers",
                "Terms this worker started after another worker's term",
                registry=None,
            ),
            redis_seconds=Histogram(
                "presence_cluster_redis_seconds",
                "Time of one Redis operation",
                buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.0),
                registry=None,
            ),
            redis_up=Gauge("presence_cluster_redis_up", "1 while Redis answers", registry=None),
            redis_errors=Counter(
                "presence_cluster_redis_errors", "Redis operations that failed", registry=None
            ),
            hooks_relayed=Counter(
                "presence_cluster_hooks",
                "Vendor callbacks through the relay",
                ["side"],
                registry=None,
            ),
            fenced=Counter(
                "presence_cluster_fenced_writes",
                "Writes refused because this worker's term had ended",
                registry=None,
            ),
        )

    def register(self, registry: CollectorRegistry) -> None:
        for metric in vars(self).values():
            registry.register(metric)
