"""Store queries of the re-reads: which quarantine rows to retry and how they ended, what the store lacks.

Serves `connector.sync.pull.refetch` (quarantined records read again by id) and `connector.sync.pull.gap` (the gap
audit: records the service lists that the store does not hold live).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, distinct, func, select, update

from connector.store.entities import ENTITY_TABLES
from connector.store.sql import chunks
from connector.store.tables import (
    link_table,
    quarantine_table,
    raw_record_table,
    sync_run_table,
)

__all__ = [
    "QuarantinedRecord",
    "absent_ids",
    "drop_dangling_links",
    "held_count",
    "mark_last_run",
    "open_quarantined",
    "quarantine_batch",
    "quarantine_payloads",
    "resolve_gone",
    "settle_refetched",
]

_link = link_table
_raw = raw_record_table
_quarantine = quarantine_table
_run = sync_run_table


@dataclass(frozen=True, slots=True)
class QuarantinedRecord:
    """One open quarantine row: its id, the record's kind and remote id."""

    row_id: int
    kind: str
    remote_id: str


def quarantine_batch(
    conn: Connection, connection: str, kinds: Collection[str], after: int, limit: int, *,
    before: datetime | None = None,
) -> list[QuarantinedRecord]:
    """Up to `limit` open quarantine rows of `kinds`, oldest first from just after row `after` (rows that stay
    unreadable do not keep the others from their turn), made before `before` when given."""
    if limit <= 0 or not kinds:
        return []
    q = _quarantine.c
    query = select(q.id, q.entity_kind, q.remote_id).where(
        q.connection == connection, q.resolved_at.is_(None), q.entity_kind.in_(sorted(kinds)), q.id > after
    )
    if before is not None:
        query = query.where(q.created_at < before)
    rows = conn.execute(query.order_by(q.id).limit(limit))
    return [QuarantinedRecord(int(i), str(k), str(r)) for i, k, r in rows]


def settle_refetched(
    conn: Connection, connection: str, kind: str, fetched: Mapping[str, str], now: datetime
) -> tuple[int, int]:
    """After records read again by id went through the apply path: close what healed, keep one fresh row for
    what did not.

    Args:
        fetched: remote id -> payload hash of the record as it was just read.

    Returns:
        (records resolved, records still in quarantine). A record is healed when its live link holds the
        payload just read (stored now, or stored earlier and read back unchanged); its open rows are
        resolved. Otherwise the apply path left its newest row open with the current payload and reason;
        older open rows of the same record are folded into it (deleted), so one row per record stays.
    """
    if not fetched:
        return 0, 0
    q, c = _quarantine.c, _link.c
    healed: set[str] = set()
    for batch in chunks(sorted(fetched), 900):
        rows = conn.execute(
            select(c.remote_id, c.payload_hash).where(
                c.connection == connection, c.entity_kind == kind, c.remote_id.in_(batch),
                c.remote_deleted_at.is_(None),
            )
        )
        healed.update(rid for rid, payload_hash in rows if payload_hash == fetched[rid])
    for batch in chunks(sorted(healed), 900):
        conn.execute(
            update(_quarantine)
            .where(q.connection == connection, q.entity_kind == kind, q.resolved_at.is_(None), q.remote_id.in_(batch))
            .values(resolved_at=now)
        )
    still = sorted(set(fetched) - healed)
    for batch in chunks(still, 900):
        rows = conn.execute(
            select(q.id, q.remote_id)
            .where(q.connection == connection, q.entity_kind == kind, q.resolved_at.is_(None), q.remote_id.in_(batch))
            .order_by(q.id)
        )
        newest: dict[str, int] = {}
        older: list[int] = []
        for row_id, remote_id in rows:
            if remote_id in newest:
                older.append(newest[remote_id])
            newest[remote_id] = int(row_id)
        if older:
            conn.execute(delete(_quarantine).where(q.id.in_(older)))
    return len(healed), len(still)


def resolve_gone(conn: Connection, connection: str, kind: str, remote_ids: Sequence[str], now: datetime) -> int:
    """Close the open quarantine rows of records the service no longer holds (nothing left to heal)."""
    q = _quarantine.c
    done = 0
    for batch in chunks(sorted(set(remote_ids)), 900):
        result = conn.execute(
            update(_quarantine)
            .where(q.connection == connection, q.entity_kind == kind, q.resolved_at.is_(None), q.remote_id.in_(batch))
            .values(resolved_at=now, error=q.error + " [resolved: the service no longer holds the record]")
        )
        done += result.rowcount or 0
    return done


def absent_ids(conn: Connection, connection: str, kind: str, remote_ids: Sequence[str]) -> list[str]:
    """Of `remote_ids` (listed at the service), those the store does not hold live: no live link to an
    existing canonical row, and no open quarantine row (those are the re-read's, not missing)."""
    table = ENTITY_TABLES[kind]
    c, q = _link.c, _quarantine.c
    held: set[str] = set()
    unique = sorted(set(remote_ids))
    for batch in chunks(unique, 900):
        held.update(
            conn.execute(
                select(c.remote_id)
                .join(table, table.c.id == c.entity_id)
                .where(c.connection == connection, c.entity_kind == kind, c.remote_id.in_(batch),
                       c.remote_deleted_at.is_(None))
            ).scalars()
        )
        held.update(
            conn.execute(
                select(q.remote_id).where(
                    q.connection == connection, q.entity_kind == kind, q.resolved_at.is_(None), q.remote_id.in_(batch)
                )
            ).scalars()
        )
    return [rid for rid in unique if rid not in held]


def drop_dangling_links(conn: Connection, connection: str, kind: str, remote_ids: Sequence[str]) -> int:
    """Delete the links (and raw records) of `remote_ids` whose canonical row no longer exists, so the records
    are stored afresh instead of being taken for unchanged. Returns how many were dropped."""
    table = ENTITY_TABLES[kind]
    c = _link.c
    dropped = 0
    for batch in chunks(sorted(set(remote_ids)), 900):
        dangling = list(
            conn.execute(
                select(c.id).where(
                    c.connection == connection, c.entity_kind == kind, c.remote_id.in_(batch),
                    ~select(table.c.id).where(table.c.id == c.entity_id).exists(),
                )
            ).scalars()
        )
        if dangling:
            conn.execute(delete(_raw).where(_raw.c.link_id.in_(dangling)))
            conn.execute(delete(_link).where(c.id.in_(dangling)))
            dropped += len(dangling)
    return dropped


def held_count(conn: Connection, connection: str, kind: str) -> int:
    """Records of `kind` the store holds for `connection`: live links to an existing canonical row, plus records
    in open quarantine without one (each record once)."""
    table = ENTITY_TABLES[kind]
    c, q = _link.c, _quarantine.c
    live = select(c.remote_id).join(table, table.c.id == c.entity_id).where(
        c.connection == connection, c.entity_kind == kind, c.remote_deleted_at.is_(None)
    )
    stored = conn.execute(select(func.count()).select_from(live.subquery())).scalar_one()
    waiting = conn.execute(
        select(func.count(distinct(q.remote_id))).where(
            q.connection == connection, q.entity_kind == kind, q.resolved_at.is_(None), q.remote_id.not_in(live)
        )
    ).scalar_one()
    return int(stored) + int(waiting)


def mark_last_run(conn: Connection, connection: str, stream: str, status: str, note: str) -> None:
    """Give the latest run row of a connection's stream another status, with `note` added to its error."""
    r = _run.c
    latest = conn.execute(
        select(r.id, r.error).where(r.connection == connection, r.stream == stream).order_by(r.id.desc()).limit(1)
    ).first()
    if latest is not None:
        error = f"{latest[1]}; {note}" if latest[1] else note
        conn.execute(update(_run).where(r.id == latest[0]).values(status=status, error=error[:2000]))


def quarantine_payloads(conn: Connection, row_ids: Sequence[int]) -> dict[int, str]:
    """The payload kept with each quarantine row."""
    q = _quarantine.c
    found: dict[int, str] = {}
    for batch in chunks(list(row_ids), 900):
        found.update((int(i), str(p)) for i, p in conn.execute(select(q.id, q.payload).where(q.id.in_(batch))))
    return found


def open_quarantined(conn: Connection, connection: str, kind: str, remote_ids: Collection[str]) -> set[str]:
    """Which of `remote_ids` of `kind` have an open quarantine row."""
    q = _quarantine.c
    found: set[str] = set()
    for batch in chunks(sorted(remote_ids), 900):
        found.update(
            conn.execute(
                select(q.remote_id).where(
                    q.connection == connection, q.entity_kind == kind, q.resolved_at.is_(None), q.remote_id.in_(batch)
                )
            ).scalars()
        )
    return found
