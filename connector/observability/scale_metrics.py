"""Metrics for scaling out: what this replica holds, how many replicas are live, how often shares moved, and
how long jobs wait for a pool thread. An operator adds a replica (or workers) when the queue delay grows.

Kept apart from `connector.observability.metrics` so the daemon registers them on the same registry without the
hooks library code calls; every label is from a closed set.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["MOVES", "QUEUE_DELAY_BUCKETS", "ScaleMetrics"]

QUEUE_DELAY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
"""Seconds a job waited past its due time: nothing, up to a pool far too small for its connections."""
MOVES = ("gained", "released", "lost")
"""Lease moves of this replica: taken (free, expired or surplus of another), released at a safe point (its
surplus, or all of them on a clean stop), lost (taken over after this replica failed to renew in time)."""


class ScaleMetrics:
    """The scale-out metrics, registered on `registry` (the daemon's `Metrics.registry`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Create and register every metric."""
        r = registry
        self.held = Gauge(
            "connector_connections_held", "Connections whose lease this replica holds (its jobs run here).",
            registry=r,
        )
        self.share = Gauge(
            "connector_connections_fair_share",
            "Connections this replica should hold under the current membership: floor or ceiling of "
            "connections / live replicas (the quotas add up to the connections).",
            registry=r,
        )
        self.configured = Gauge(
            "connector_connections_configured", "Enabled connections with jobs, shared among the replicas.",
            registry=r,
        )
        self.live = Gauge(
            "connector_replicas_live", "Replicas whose heartbeat is younger than the lease time-to-live.",
            registry=r,
        )
        self.moves = Counter(
            "connector_rebalance_moves_total",
            "Connection leases moved by this replica: gained, released (surplus or stop), lost.",
            ("direction",), registry=r,
        )
        self.rebalances = Counter(
            "connector_rebalances_total", "Membership ticks that moved at least one lease of this replica.",
            registry=r,
        )
        self.queue_delay = Histogram(
            "connector_job_queue_delay_seconds", "Time from a job's due time to a pool thread starting it.",
            buckets=QUEUE_DELAY_BUCKETS, registry=r,
        )
        self.workers = Gauge("connector_job_workers", "Size of the job pool (CONNECTOR_WORKERS).", registry=r)
        for direction in MOVES:
            self.moves.labels(direction)

    def moved(self, direction: str, count: int) -> None:
        """Count `count` lease moves in `direction` (one of `MOVES`)."""
        if count > 0 and direction in MOVES:
            self.moves.labels(direction).inc(count)
