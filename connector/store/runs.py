"""Run bookkeeping: `sync_run` rows, cursors in `sync_state`, and `quarantine` rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from connector.store.sql import upsert
from connector.store.tables import Quarantine, SyncRun, SyncState

__all__ = [
    "QuarantineItem",
    "finish_run",
    "load_cursor",
    "quarantine",
    "resolve_quarantine",
    "save_cursor",
    "start_run",
]

_run = SyncRun.__table__  # type: ignore[attr-defined]
_state = SyncState.__table__  # type: ignore[attr-defined]
_quarantine = Quarantine.__table__  # type: ignore[attr-defined]


@dataclass(slots=True)
class QuarantineItem:
    """A record that could not be mapped or validated."""

    kind: str
    remote_id: str
    payload: str
    payload_hash: str
    error: str


def start_run(engine: Engine, connection: str, stream: str, mode: str, now: datetime) -> int:
    """Insert a `running` sync_run row (own transaction) and mark older running rows interrupted."""
    with engine.begin() as conn:
        conn.execute(
            update(_run)
            .where(_run.c.connection == connection, _run.c.stream == stream, _run.c.status == "running")
            .values(status="interrupted", finished_at=now)
        )
        row = conn.execute(
            insert(_run).returning(_run.c.id),
            {"connection": connection, "stream": stream, "mode": mode, "status": "running", "started_at": now},
        )
        return int(row.scalar_one())


def finish_run(engine: Engine, run_id: int, values: dict[str, Any]) -> None:
    """Write a run's final status and counters."""
    with engine.begin() as conn:
        conn.execute(update(_run).where(_run.c.id == run_id).values(**values))


def load_cursor(conn: Connection | Engine, connection: str, stream: str) -> dict[str, Any]:
    """Return the stored cursor of a connection x stream ({} when it never ran)."""
    statement = select(_state.c.cursor).where(_state.c.connection == connection, _state.c.stream == stream)
    if isinstance(conn, Engine):
        with conn.connect() as c:
            value = c.execute(statement).scalar_one_or_none()
    else:
        value = conn.execute(statement).scalar_one_or_none()
    return dict(value or {})


def save_cursor(conn: Connection, connection: str, stream: str, cursor: dict[str, Any], now: datetime) -> None:
    """Store the cursor; call it inside the transaction that stored the page it covers."""
    upsert(
        conn,
        _state,
        {"connection": connection, "stream": stream, "cursor": cursor, "updated_at": now},
        ("connection", "stream"),
    )


def quarantine(conn: Connection, connection: str, stream: str, items: Sequence[QuarantineItem], now: datetime) -> int:
    """Add quarantine rows, skipping a record already quarantined with the same payload (whose reason is brought up
    to date: a changed mapping may fail it differently); returns rows added."""
    if not items:
        return 0
    q = _quarantine.c
    seen: dict[tuple[str, str, str], tuple[int, str]] = {}
    for row_id, kind, remote_id, payload_hash, error in conn.execute(
        select(q.id, q.entity_kind, q.remote_id, q.payload_hash, q.error).where(
            q.connection == connection,
            q.resolved_at.is_(None),
            q.remote_id.in_([i.remote_id for i in items]),
        )
    ):
        seen[(kind, remote_id, payload_hash)] = (row_id, error)
    for i in items:
        row_id, error = seen.get((i.kind, i.remote_id, i.payload_hash), (0, i.error))
        if error != i.error:
            conn.execute(update(_quarantine).where(q.id == row_id).values(error=i.error))
    rows = [
        {
            "connection": connection,
            "stream": stream,
            "entity_kind": i.kind,
            "remote_id": i.remote_id,
            "payload": i.payload,
            "payload_hash": i.payload_hash,
            "error": i.error,
            "created_at": now,
        }
        for i in items
        if (i.kind, i.remote_id, i.payload_hash) not in seen
    ]
    if rows:
        conn.execute(insert(_quarantine), rows)
    return len(rows)


def resolve_quarantine(conn: Connection, connection: str, kind: str, remote_ids: Sequence[str], now: datetime) -> None:
    """Mark open quarantine rows of records that have now been stored as resolved."""
    if remote_ids:
        q = _quarantine.c
        conn.execute(
            update(_quarantine)
            .where(
                q.connection == connection,
                q.entity_kind == kind,
                q.resolved_at.is_(None),
                q.remote_id.in_(list(remote_ids)),
            )
            .values(resolved_at=now)
        )
