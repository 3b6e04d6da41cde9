"""The daemon's metrics at start: the series its jobs will report, primed at 0, and the run history restored.

See `connector.observability.history` for why; this module only says which series the scheduled jobs make.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from connector.daemon.jobs import JobSpec
from connector.observability.events import get_logger
from connector.observability.history import Series, prime, restore
from connector.observability.metrics import Metrics
from connector.observability.store_gauges import AUDIT_STREAM
from connector.settings import Connection
from connector.sync.engine import SWEEP_STREAM
from connector.sync.pull.refetch import REFETCH_STREAM

__all__ = ["metric_series", "start_metrics"]

log = get_logger("connector.daemon")

_RUN_STREAM = {"sweep": SWEEP_STREAM, "audit": AUDIT_STREAM}


def metric_series(connections: Sequence[Connection], jobs: Sequence[JobSpec]) -> list[Series]:
    """The series each connection's scheduled jobs will report (connections without a job are left out)."""
    found = []
    for conn in connections:
        own = [job for job in jobs if job.connection == conn.name]
        if not own:
            continue
        streams = [job.stream or _RUN_STREAM[job.kind] for job in own if job.kind != "push"]
        if conn.refetch_per_run and any(job.kind == "pull" for job in own):
            streams.append(REFETCH_STREAM)  # the pull job re-reads quarantined records after an incremental run
        kinds = tuple(conn.receives) if any(job.kind == "push" for job in own) else ()
        found.append(Series(conn.name, conn.provider, tuple(dict.fromkeys(streams)), kinds))
    return found


def start_metrics(metrics: Metrics, engine: Engine, connections: Sequence[Connection], jobs: Sequence[JobSpec]) -> None:
    """Prime the jobs' series and restore last successes and durations; a failed read is logged, not raised."""
    series = metric_series(connections, jobs)
    prime(metrics, series)
    try:
        restored = restore(metrics, engine, series)
    except Exception as exc:  # metrics must never keep the daemon from starting
        log.warning("run history not loaded into metrics", error=type(exc).__name__)
    else:
        log.info("metrics restored from the run history", streams=restored)
