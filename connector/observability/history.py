"""Metrics that outlive a restart: what the run history says, and every series the daemon will report, at zero.

A fresh process starts its counters at zero and its gauges unset. Two things would then go wrong on a
dashboard and in alerts after every redeploy: each stream's last-success time would vanish (staleness alerts
go blind until the next success) and series with no event yet would be absent rather than 0 (a panel says
"no data", a `rate()` has nothing to start from). So at start the daemon

- `prime`s every series it will report: stream runs per status, records per outcome, pushes per kind and
  outcome, requests per provider, each at 0 (Prometheus's advice: initialise the label sets you know), and
- `restore`s, from `sync_run`, each scheduled stream's last success time and its last run's duration.

Gauges that would mean something wrong at 0 are left unset until a real event: the rate budget left (0 is an
alert) and the last-success time of a stream that never succeeded (0 would read as "stale since 1970").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from connector.domain import PushOutcome, RunStatus
from connector.observability.metrics import PULL_OUTCOMES, Metrics
from connector.store import runs

__all__ = ["PRIMED_RUN_STATUSES", "Series", "prime", "restore"]

PRIMED_RUN_STATUSES = (RunStatus.OK, RunStatus.FAILED, RunStatus.INTERRUPTED)
PUSH_OUTCOMES = tuple(o for o in PushOutcome if o is o.counted)


@dataclass(frozen=True, slots=True)
class Series:
    """What the daemon will report for one connection.

    Attributes:
        connection: its name.
        provider: its provider id (labels the HTTP metrics).
        streams: the run streams its jobs record (pull streams, ``sweep``, ``audit``, ``refetch``).
        kinds: the entity kinds pushed to it (its ``receives``).
    """

    connection: str
    provider: str
    streams: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()


def prime(metrics: Metrics, series: Iterable[Series]) -> None:
    """Create every known label set at 0, so each series exists from the first scrape."""
    for item in series:
        name = item.connection
        for stream in item.streams:
            for status in PRIMED_RUN_STATUSES:
                metrics.runs.labels(name, stream, status)
            metrics.run_duration.labels(name, stream)
            metrics.records_read.labels(name, stream)
            for outcome in PULL_OUTCOMES:
                metrics.records_pulled.labels(name, stream, outcome)
        for kind in item.kinds:
            for outcome in PUSH_OUTCOMES:
                metrics.records_pushed.labels(name, kind, outcome)
        metrics.http_requests.labels(item.provider, "GET", "2xx")
        metrics.http_duration.labels(item.provider, "GET")


def restore(metrics: Metrics, engine: Engine, series: Sequence[Series]) -> int:
    """Set each scheduled stream's last-success time and last run duration from the run history.

    Streams not in `series` (a removed connection, a backfill's own run rows) are left out, so no staleness
    alert fires for something that is no longer scheduled.

    Returns:
        How many streams had history.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database could not be read (the daemon logs it and goes on).
    """
    wanted = {(item.connection, stream) for item in series for stream in item.streams}
    restored = 0
    for past in runs.stream_history(engine):
        if (past.connection, past.stream) not in wanted:
            continue
        restored += 1
        if past.last_success_at is not None:
            metrics.last_success.labels(past.connection, past.stream).set(past.last_success_at.timestamp())
        if past.last_duration_seconds is not None:
            metrics.last_duration.labels(past.connection, past.stream).set(past.last_duration_seconds)
    return restored
