"""Gauges that reflect the database, read at scrape time: outbox, quarantine, conflicts, leases, audit gaps.

`StoreGauges` is a custom collector: on each scrape it calls a reader (by default `read_store` over the
store's engine, read-only, one short transaction), turns the snapshot into gauge families, and counts a
failed read instead of raising it (the scrape still answers, with ``connector_store_up 0``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from connector.domain import ENTITY_KINDS, OutboxStatus
from connector.observability.events import get_logger
from connector.store import reports

__all__ = ["AUDIT_STREAM", "OUTBOX_STATUSES", "StoreGauges", "StoreSnapshot", "read_store"]

log = get_logger("connector.observability")

OUTBOX_STATUSES = (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.UNSUPPORTED)
"""The outbox statuses worth watching; ``done`` and ``superseded`` rows only grow and are not counted."""
STATEMENT_TIMEOUT_MS = 5000
"""The kinds `connector_conflicts` always reports (at 0 until one is recorded)."""
AUDIT_STREAM = "audit"
"""The `sync_state` stream under which the gap audit keeps its last result (`connector.sync.pull.gap`)."""


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    """Counts read from the store for one scrape."""

    outbox: dict[tuple[str, str], int] = field(default_factory=dict)
    """(connection, status) -> rows, for `OUTBOX_STATUSES`."""
    quarantine_open: dict[str, int] = field(default_factory=dict)
    """connection -> unresolved quarantine rows."""
    conflicts: dict[str, int] = field(default_factory=dict)
    """entity kind -> conflict rows recorded."""
    leases_held: dict[str, int] = field(default_factory=dict)
    """``self`` / ``other`` -> unexpired leases held by this replica / by others."""
    gaps: dict[tuple[str, str], int] = field(default_factory=dict)
    """(connection, kind) -> records the last gap audit found missing from the store (0: none)."""


def read_store(engine: Engine, *, now: datetime, replica_id: str | None = None) -> StoreSnapshot:
    """Read the counts in one short, read-only transaction (rolled back, never committed).

    Args:
        engine: the store's engine.
        now: the current time; leases expiring after it count as held.
        replica_id: this replica's lease holder name; without it every held lease counts as ``other``.

    Returns:
        The snapshot.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database failed (the collector counts it).
    """
    read = reports.backlog(engine, now, OUTBOX_STATUSES, AUDIT_STREAM, STATEMENT_TIMEOUT_MS)
    outbox, quarantine, conflicts, leases, audits = (
        read.outbox, read.quarantine, read.conflicts, read.leases, read.audits
    )
    held = {"self": 0, "other": 0}
    for holder, n in leases:
        held["self" if replica_id is not None and holder == replica_id else "other"] += int(n)
    return StoreSnapshot(
        outbox={(str(conn_name), str(status)): int(n) for conn_name, status, n in outbox},
        quarantine_open={str(name): int(n) for name, n in quarantine},
        conflicts={str(kind): int(n) for kind, n in conflicts},
        leases_held=held,
        gaps=_audit_gaps(audits),
    )


def _audit_gaps(rows: Iterable[tuple[str, object]]) -> dict[tuple[str, str], int]:
    """(connection, kind) -> missing, from the kept results of the last gap audits (see `connector.sync.pull.gap`)."""
    found: dict[tuple[str, str], int] = {}
    for name, cursor in rows:
        kinds = cursor.get("kinds") if isinstance(cursor, dict) else None
        for kind, gap in (kinds or {}).items():
            if isinstance(gap, dict) and isinstance(gap.get("missing"), int):
                found[(str(name), str(kind))] = int(gap["missing"])
    return found


class StoreGauges(Collector):
    """A collector that reports the store's backlog gauges at scrape time.

    Args:
        read: returns a fresh `StoreSnapshot` (may raise; the failure is counted, not raised).
        connections: connection names always reported, with 0 when they have no rows (so a gauge drops to
            0 instead of vanishing when a backlog clears).

    Register it on the metrics' registry: ``metrics.registry.register(StoreGauges.for_engine(engine))``.
    """

    def __init__(self, read: Callable[[], StoreSnapshot], connections: Iterable[str] = ()) -> None:
        """Remember the reader and the connections to zero-fill."""
        self._read = read
        self.connections = tuple(dict.fromkeys(connections))
        self._errors = 0
        self._lock = threading.Lock()

    @classmethod
    def for_engine(
        cls,
        engine: Engine,
        *,
        connections: Sequence[str] = (),
        replica_id: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> StoreGauges:
        """Build a collector that reads `engine` with `read_store`.

        Args:
            engine: the store's engine.
            connections: connection names to zero-fill.
            replica_id: this replica's lease holder name (leases it holds count as ``self``).
            now: wall clock (UTC) for lease expiry.
        """
        return cls(lambda: read_store(engine, now=now(), replica_id=replica_id), connections)

    def describe(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        """Name the families without touching the database (called when registering)."""
        return list(self._families(None, 0.0, describing=True))

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        """Read the store and yield the families; on failure count it and yield only the health families."""
        started = time.monotonic()
        try:
            snapshot: StoreSnapshot | None = self._read()
        except Exception as exc:
            snapshot = None
            with self._lock:
                self._errors += 1
            log.warning("store metrics read failed", error=type(exc).__name__)
        return list(self._families(snapshot, time.monotonic() - started))

    def _families(
        self, snapshot: StoreSnapshot | None, seconds: float, *, describing: bool = False
    ) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        outbox = GaugeMetricFamily(
            "connector_outbox_rows", "Outbox rows waiting or stuck, by target connection and status.",
            labels=("connection", "status"),
        )
        quarantine = GaugeMetricFamily(
            "connector_quarantine_open", "Records in quarantine not yet resolved, by connection.",
            labels=("connection",),
        )
        conflicts = GaugeMetricFamily(
            "connector_conflicts", "Conflicts recorded (both sides changed a field), by entity kind.",
            labels=("kind",),
        )
        gap = GaugeMetricFamily(
            "connector_gap_records",
            "Records the last gap audit found listed at the service but missing from the store (0: none), "
            "by connection and kind.",
            labels=("connection", "kind"),
        )
        leases = GaugeMetricFamily(
            "connector_leases_held", "Unexpired job leases, held by this replica (self) or another (other).",
            labels=("holder",),
        )
        if snapshot is not None:
            names = sorted({*self.connections, *(c for c, _ in snapshot.outbox), *snapshot.quarantine_open})
            for name in names:
                for status in OUTBOX_STATUSES:
                    outbox.add_metric((name, status), snapshot.outbox.get((name, status), 0))
                quarantine.add_metric((name,), snapshot.quarantine_open.get(name, 0))
            for kind in sorted({*ENTITY_KINDS, *snapshot.conflicts}):  # 0 before the first conflict, not absent
                conflicts.add_metric((kind,), snapshot.conflicts.get(kind, 0))
            for holder in ("self", "other"):
                leases.add_metric((holder,), snapshot.leases_held.get(holder, 0))
            for (name, kind), n in sorted(snapshot.gaps.items()):
                gap.add_metric((name, kind), n)
        if snapshot is not None or describing:
            yield from (outbox, quarantine, conflicts, leases, gap)
        up = GaugeMetricFamily("connector_store_up", "1 when the last scrape could read the store, else 0.")
        up.add_metric((), 1 if snapshot is not None else 0)
        yield up
        duration = GaugeMetricFamily("connector_store_scrape_duration_seconds", "Time the store read took.")
        duration.add_metric((), seconds)
        yield duration
        with self._lock:
            errors = self._errors
        failed = CounterMetricFamily("connector_store_scrape_errors", "Store reads that failed during a scrape.")
        failed.add_metric((), errors)
        yield failed
