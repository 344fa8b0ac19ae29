"""Anonymous noise at the edges: the per-address limit (RateLimits), the /metrics counter
and the audit rows that the pure window counter (noise.py) asks for."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter

from presence_dash.auth.audit import AuditLog
from presence_dash.auth.noise import LIMIT, NoiseCounter, NoiseRow
from presence_dash.auth.rate_limits import RateLimits, Verdict

# Audit rows are for actions; noisy GETs (scanners' probes) are only counted and limited.
AUDITED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class NoiseLog:
    def __init__(
        self,
        audit: AuditLog,
        limits: RateLimits,
        monotonic: Callable[[], float],
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.audit = audit
        self.limits = limits
        self.monotonic = monotonic
        self.counter = NoiseCounter()
        self.seen = Counter(
            "auth_anonymous_noise",
            "Requests from someone not signed in to unknown paths, or refused by the gate",
            ["status"],
            registry=registry or CollectorRegistry(),
        )

    def limit(self, addr: str) -> Verdict:
        """Count one noisy request from `addr`; refused past LIMIT."""
        return self.limits.hit(LIMIT, "anonymous-noise", addr)

    def note(self, addr: str, method: str, path: str, status: int) -> None:
        """One noisy request, answered with `status`: counted, not one audit row each."""
        self.seen.labels(str(status)).inc()
        if method in AUDITED_METHODS:
            for row in self.counter.note(addr, method, path, status, self.monotonic()):
                self._write(row)

    def flush(self, everything: bool = False) -> int:
        """Write the rows of windows that have closed (all of them when stopping)."""
        rows = self.counter.due(self.monotonic(), everything)
        for row in rows:
            self._write(row)
        return len(rows)

    def _write(self, row: NoiseRow) -> None:
        self.audit.record(
            actor="anonymous",
            role="-",
            action="anonymous_noise",
            target=row.target,
            params=row.params,
            result="refused" if row.status in (401, 403, 429) else "failed",
            status=row.status,
            client_addr=row.addr,
        )
