"""Map stored payloads again, without a request: `connector remap` and the quarantine replay.

Both feed payloads the store already holds through the page path (`page.apply_stored`): the same mapping, checks,
reconcile and writes as a pull, so a canonical row (and its version) changes only where the current mapping reads
the payload differently, the connection that sent it holds the new version, and the next push carries the change
to the connections that receive it.

- `remap` takes the payload last read at each live link of a connection (`raw_record.read_payload`; an image the
  push wrote is never mapped as if the service had sent it) and reports, per record, the fields that changed.
  With `dry_run` it does the same work in transactions it rolls back, so it reports what would change.
- `retry_quarantined` takes quarantine rows: the newest open payload of each of their records is mapped again; a
  record that now maps is stored and its rows close; one that still fails keeps its row with the new reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine

from connector.clock import Clock
from connector.domain import KIND_ORDER, EntityKind
from connector.providers.base import RawRecord
from connector.stopping import StopToken, check_stop
from connector.store import entities, links
from connector.store.db import serialize_canonical_writes
from connector.store.quarantine import QuarantineRow, open_rows, rows_by_id
from connector.sync.payload import load_payload
from connector.sync.pull.page import InboundMapper, PageCounts, apply_stored
from connector.sync.reconcile.conflicts import ConflictPolicy

__all__ = ["REMAP_STREAM", "RecordChange", "RemapReport", "RetryResult", "remap", "retry_quarantined"]

REMAP_STREAM = "remap"
_BATCH = 500  # records per transaction (and in memory at once)
_NOT_COMPARED = frozenset({"id", "version", "created_at", "updated_at"})


@dataclass(frozen=True, slots=True)
class RecordChange:
    """One canonical record a remap changed (or would change): field -> (before, after)."""

    kind: str
    remote_id: str
    entity_id: int
    fields: dict[str, tuple[Any, Any]]

    def as_json(self) -> dict[str, Any]:
        """The change for ``--json``."""
        return {
            "kind": self.kind,
            "remote_id": self.remote_id,
            "entity_id": self.entity_id,
            "fields": {name: [_plain(a), _plain(b)] for name, (a, b) in self.fields.items()},
        }


@dataclass(slots=True)
class RemapReport:
    """What `remap` did (or, with `dry_run`, would do) to one connection's canonical records."""

    connection: str
    dry_run: bool
    read: int = 0  # stored payloads mapped again
    changes: list[RecordChange] = field(default_factory=list)
    counts: PageCounts = field(default_factory=PageCounts)


def remap(
    engine: Engine,
    mapper: InboundMapper,
    connection: str,
    clock: Clock,
    *,
    kinds: Sequence[str] = KIND_ORDER,
    dry_run: bool = False,
    policy: ConflictPolicy | None = None,
    stop: StopToken | None = None,
) -> RemapReport:
    """Map the payloads last read at `connection`'s live links of `kinds` again with `mapper` (see the module doc),
    in batches of their own transaction (each kept unless `dry_run`).

    Raises:
        Interrupted: `stop` was set (checked after each batch); the batches before stay done.
    """
    report = RemapReport(connection, dry_run)
    for kind in (k for k in KIND_ORDER if k in kinds):
        after = 0
        while True:
            with engine.connect() as conn:
                batch = links.read_payloads(conn, connection, kind, after=after, limit=_BATCH)
            if not batch:
                break
            after = batch[-1].link_id
            with engine.connect() as conn:
                transaction = conn.begin()
                try:
                    serialize_canonical_writes(conn)
                    ids = [p.entity_id for p in batch]
                    old = _snapshot(conn, kind, ids)
                    records = [
                        RawRecord(kind, p.remote_id, load_payload(p.payload), p.change_stamp, p.payload) for p in batch
                    ]
                    counts = apply_stored(conn, mapper, connection, REMAP_STREAM, records, clock.now(), policy)
                    new = _snapshot(conn, kind, ids)
                except BaseException:
                    transaction.rollback()
                    raise
                if dry_run:
                    transaction.rollback()  # the dry run: everything done, nothing kept
                else:
                    transaction.commit()
            report.counts.add(counts)
            report.read += len(batch)
            report.changes.extend(_changes(kind, batch, old, new))
            check_stop(stop, f"{connection}/remap")
    return report


def _snapshot(conn: Connection, kind: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    rows = entities.current_rows(conn, kind, ids)
    if kind == EntityKind.INVOICE:
        lines = entities.line_rows(conn, ids)
        for entity_id, row in rows.items():
            row["lines"] = lines.get(entity_id, [])
    return rows


def _changes(
    kind: str, batch: Sequence[links.ReadPayload], before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]]
) -> list[RecordChange]:
    found = []
    for payload in batch:
        old, new = before.get(payload.entity_id), after.get(payload.entity_id)
        if old is None or new is None or old.get("version") == new.get("version"):
            continue  # only a row whose version moved changed (the rest at most refreshed their link)
        fields = {
            name: (old.get(name), value)
            for name, value in new.items()
            if name not in _NOT_COMPARED and _plain(old.get(name)) != _plain(value)
        }
        found.append(RecordChange(kind, payload.remote_id, payload.entity_id, fields))
    return found


def _plain(value: Any) -> Any:
    """A value as JSON shows it, so equal values of different Python types compare equal."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


@dataclass(frozen=True, slots=True)
class RetryResult:
    """How the replay of one quarantine row ended: `stored` (the row is closed), else the reason it stays."""

    row_id: int
    connection: str
    kind: str
    remote_id: str
    stored: bool
    error: str | None

    def as_json(self) -> dict[str, Any]:
        """The result for ``--json``."""
        return {
            "id": self.row_id,
            "connection": self.connection,
            "kind": self.kind,
            "remote_id": self.remote_id,
            "stored": self.stored,
            "error": self.error,
        }


def retry_quarantined(
    engine: Engine,
    mapper: InboundMapper,
    connection: str,
    row_ids: Sequence[int],
    clock: Clock,
    *,
    policy: ConflictPolicy | None = None,
) -> list[RetryResult]:
    """Map the quarantined records of `row_ids` (rows of `connection`) again from their stored payloads.

    Each record is replayed from its newest open row (an older row of the same record would bring back a payload
    the service has since replaced), its invoices before its payments, in one transaction.
    """
    with engine.begin() as conn:
        serialize_canonical_writes(conn)
        wanted = rows_by_id(conn, row_ids)
        newest: dict[tuple[str, str], QuarantineRow] = {}
        for row in open_rows(conn, connection):  # oldest first: the last one of a record is its newest
            newest[(row.kind, row.remote_id)] = row
        replay = {
            (row.kind, row.remote_id): newest[(row.kind, row.remote_id)]
            for row in wanted.values()
            if row.resolved_at is None and (row.kind, row.remote_id) in newest
        }
        records = [RawRecord(r.kind, r.remote_id, load_payload(r.payload), None, r.payload) for r in replay.values()]
        if records:
            apply_stored(conn, mapper, connection, "quarantine", records, clock.now(), policy)
        after = rows_by_id(conn, [row.id for row in (*wanted.values(), *replay.values())])
    results = []
    for row_id in row_ids:
        if row_id not in wanted:
            continue
        row = wanted[row_id]
        if row.resolved_at is not None:
            results.append(RetryResult(row_id, row.connection, row.kind, row.remote_id, False,
                                       f"not in quarantine: closed at {row.resolved_at.isoformat()}"))
            continue
        current = after[replay[(row.kind, row.remote_id)].id] if (row.kind, row.remote_id) in replay else after[row_id]
        stored = current.resolved_at is not None and not current.error.startswith("dropped: ")
        results.append(
            RetryResult(row_id, row.connection, row.kind, row.remote_id, stored, None if stored else current.error)
        )
    return results
