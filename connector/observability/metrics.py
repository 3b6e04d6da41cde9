"""Every Prometheus metric of the connector, on one explicit registry, and the hooks library code calls.

The daemon builds one `Metrics` and `install`s it; library code (the HTTP session, the stream runner, the
push drain, the scheduler's heartbeat) calls the module-level hooks (`observe_request`, `observe_run`,
`observe_push`, `observe_tick`). Each hook is a no-op until a `Metrics` is installed, so a one-shot command
or a test pays nothing and needs no server, and a broken metric never fails a sync (errors are logged).

Labels are bounded by construction: connection and stream names come from configuration and provider
code, providers from the registry, and methods, status classes, outcomes and statuses from closed sets
(anything else becomes ``other``). No label carries a record id, a URL, a message or a secret.

This module imports nothing but prometheus-client, so the HTTP layer can call it cheaply; the gauges that
read the database live in `connector.observability.store_gauges`.
"""

from __future__ import annotations

import logging
import platform
import threading
from collections.abc import Callable
from datetime import datetime
from importlib import metadata
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

import connector

__all__ = [
    "HTTP_DURATION_BUCKETS",
    "METHODS",
    "PULL_OUTCOMES",
    "PUSH_OUTCOMES",
    "RUN_DURATION_BUCKETS",
    "RUN_STATUSES",
    "Metrics",
    "RunCounts",
    "install",
    "installed",
    "observe_push",
    "observe_request",
    "observe_run",
    "observe_tick",
    "package_version",
    "status_class",
    "uninstall",
]

log = logging.getLogger("connector.observability")

HTTP_DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Seconds: a loopback answer to a slow list page, up to a request that ran into its timeout."""
RUN_DURATION_BUCKETS = (0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0)
"""Seconds: a no-change incremental run, up to a first load paced over a couple of rate windows."""

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
PULL_OUTCOMES = ("created", "updated", "unchanged", "quarantined", "deleted")
# Spelled out rather than imported (this module imports nothing from the connector); tests/unit/test_vocabulary.py
# holds them equal to connector.domain's PushOutcome (as counted) and RunStatus (finished).
PUSH_OUTCOMES = frozenset({"done", "failed", "unsupported", "superseded", "deferred"})
RUN_STATUSES = frozenset({"ok", "failed", "interrupted", "repaired", "gap"})  # the last two: gap audits
_SUCCEEDED = frozenset({"ok", "repaired"})  # repaired: what a run or audit found missing was brought back


class RunCounts(Protocol):
    """What one stream run did (the sync engine's `PageCounts` has this shape)."""

    read: int
    created: int
    updated: int
    unchanged: int
    quarantined: int
    deleted: int


def status_class(status: int) -> str:
    """Return the bounded label of an HTTP status: ``2xx`` ... ``5xx``, or ``error`` when nothing answered.

    Args:
        status: the response status, or 0 when the request failed before an answer (timeout, refused).
    """
    return f"{status // 100}xx" if 100 <= status <= 599 else "error"


def package_version() -> str:
    """Return the installed distribution's version (the source tree's when it is not installed)."""
    try:
        return metadata.version("invoice-connector")
    except metadata.PackageNotFoundError:
        return connector.__version__


def _bounded(value: str, allowed: frozenset[str]) -> str:
    return value if value in allowed else "other"


class Metrics:
    """The connector's metrics, all on one explicit `CollectorRegistry` (never the process-global one).

    Args:
        registry: the registry to register on; a fresh one when omitted.

    Attributes:
        registry: serve this one (`connector.observability.server.serve` does).
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        """Create and register every metric."""
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.build_info = Info("connector_build", "Version of the running connector.", registry=r)
        self.build_info.info({"version": package_version(), "python": platform.python_version()})

        self.records_read = Counter(
            "connector_records_read_total", "Records read from a service by stream runs.",
            ("connection", "stream"), registry=r,
        )
        self.records_pulled = Counter(
            "connector_records_pulled_total",
            "What pulling did to the store, per record: created, updated, unchanged, quarantined, deleted.",
            ("connection", "stream", "outcome"), registry=r,
        )
        self.records_pushed = Counter(
            "connector_records_pushed_total",
            "Outbox rows handled by a push: done, failed, unsupported, superseded, deferred.",
            ("connection", "kind", "outcome"), registry=r,
        )
        self.http_requests = Counter(
            "connector_http_requests_total", "HTTP requests sent to services (every attempt, retries included).",
            ("provider", "method", "status_class"), registry=r,
        )
        self.http_duration = Histogram(
            "connector_http_request_duration_seconds", "Time from sending a request to its answer (or failure).",
            ("provider", "method"), buckets=HTTP_DURATION_BUCKETS, registry=r,
        )
        self.rate_limit_remaining = Gauge(
            "connector_rate_limit_remaining",
            "Requests believed left in the connection's current rate window (from the service's headers).",
            ("connection",), registry=r,
        )
        self.runs = Counter(
            "connector_stream_runs_total",
            "Stream runs finished, by status: ok, failed, interrupted (gap audits: repaired, gap).",
            ("connection", "stream", "status"), registry=r,
        )
        self.run_duration = Histogram(
            "connector_stream_run_duration_seconds", "Duration of stream runs (any status).",
            ("connection", "stream"), buckets=RUN_DURATION_BUCKETS, registry=r,
        )
        self.last_success = Gauge(
            "connector_stream_last_success_timestamp_seconds",
            "Unix time the last successful run of a stream finished (at start: from the run history).",
            ("connection", "stream"), registry=r,
        )
        self.last_duration = Gauge(
            "connector_stream_last_run_duration_seconds",
            "Duration of the last finished run of a stream, any status (at start: from the run history).",
            ("connection", "stream"), registry=r,
        )
        self.ticks = Counter(
            "connector_scheduler_ticks_total", "Scheduler heartbeats (see /healthz).", registry=r,
        )
        self.last_tick = Gauge(
            "connector_scheduler_last_tick_timestamp_seconds", "Unix time of the scheduler's last heartbeat.",
            registry=r,
        )

    def observe_request(
        self, provider: str, connection: str, method: str, status: int, seconds: float, remaining: int | None
    ) -> None:
        """Count one HTTP attempt and its duration; remember the connection's remaining budget.

        Args:
            provider: provider id.
            connection: connection name (labels the budget only: it belongs to the account).
            method: HTTP method.
            status: response status, 0 when nothing answered.
            seconds: time the attempt took.
            remaining: requests left in the rate window as the pacer believes, None when unknown.
        """
        method = _bounded(method.upper(), METHODS)
        self.http_requests.labels(provider, method, status_class(status)).inc()
        self.http_duration.labels(provider, method).observe(max(0.0, seconds))
        if remaining is not None:
            self.rate_limit_remaining.labels(connection).set(remaining)

    def observe_run(
        self,
        connection: str,
        stream: str,
        status: str,
        seconds: float | None,
        finished_at: datetime,
        counts: RunCounts | None = None,
    ) -> None:
        """Record a finished stream run: its records by outcome, status, duration and, when ok, its time.

        Args:
            connection: connection name.
            stream: stream name (``sweep`` for the deletion sweep).
            status: ``ok``, ``failed`` or ``interrupted``; ``repaired`` or ``gap`` after a gap audit.
            seconds: run duration; None when the run never started (the connection failed before it).
            finished_at: when it finished (the time written to its run row).
            counts: what it did to the store; None when it failed before reading anything.
        """
        status = _bounded(status, RUN_STATUSES)
        if counts is not None:
            self.records_read.labels(connection, stream).inc(max(0, counts.read))
            for outcome in PULL_OUTCOMES:
                self.records_pulled.labels(connection, stream, outcome).inc(max(0, getattr(counts, outcome)))
        self.runs.labels(connection, stream, status).inc()
        if seconds is not None:
            self.run_duration.labels(connection, stream).observe(max(0.0, seconds))
            self.last_duration.labels(connection, stream).set(max(0.0, seconds))
        if status in _SUCCEEDED:
            self.last_success.labels(connection, stream).set(finished_at.timestamp())

    def observe_push(self, connection: str, kind: str, outcome: str) -> None:
        """Count one outbox row handled by the push drain.

        Args:
            connection: the target connection.
            kind: entity kind (client, invoice, payment).
            outcome: the drain's outcome (``deferred-stop`` counts as ``deferred``).
        """
        outcome = _bounded(outcome.removesuffix("-stop"), PUSH_OUTCOMES)
        self.records_pushed.labels(connection, _bounded(kind, frozenset({"client", "invoice", "payment"})),
                                   outcome).inc()

    def observe_tick(self, at: datetime) -> None:
        """Count a scheduler heartbeat that happened at `at`."""
        self.ticks.inc()
        self.last_tick.set(at.timestamp())


_installed: Metrics | None = None
_install_lock = threading.Lock()


def install(metrics: Metrics) -> None:
    """Make `metrics` the target of every hook in this process (the daemon does this once, at start)."""
    global _installed
    with _install_lock:
        _installed = metrics


def uninstall() -> None:
    """Turn every hook back into a no-op."""
    global _installed
    with _install_lock:
        _installed = None


def installed() -> Metrics | None:
    """Return the installed `Metrics`, or None."""
    return _installed


def _call(method: Callable[..., None], *args: object, **kwargs: object) -> None:
    try:
        method(*args, **kwargs)
    except Exception:  # a metrics bug must never fail the work it observes
        log.warning("metrics hook %s failed", getattr(method, "__name__", "?"), exc_info=True)


def observe_request(
    provider: str, connection: str, method: str, status: int, seconds: float, remaining: int | None = None
) -> None:
    """Hook for the HTTP session: see `Metrics.observe_request`. A no-op when nothing is installed."""
    metrics = _installed
    if metrics is not None:
        _call(metrics.observe_request, provider, connection, method, status, seconds, remaining)


def observe_run(
    connection: str,
    stream: str,
    status: str,
    seconds: float | None,
    finished_at: datetime,
    counts: RunCounts | None = None,
) -> None:
    """Hook for the stream runner and the sweep: see `Metrics.observe_run`. A no-op when nothing is installed."""
    metrics = _installed
    if metrics is not None:
        _call(metrics.observe_run, connection, stream, status, seconds, finished_at, counts)


def observe_push(connection: str, kind: str, outcome: str) -> None:
    """Hook for the push drain (its ``on_row``): see `Metrics.observe_push`. A no-op when nothing is installed."""
    metrics = _installed
    if metrics is not None:
        _call(metrics.observe_push, connection, kind, outcome)


def observe_tick(at: datetime) -> None:
    """Hook for the heartbeat: see `Metrics.observe_tick`. A no-op when nothing is installed."""
    metrics = _installed
    if metrics is not None:
        _call(metrics.observe_tick, at)
