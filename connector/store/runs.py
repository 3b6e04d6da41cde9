"""Run bookkeeping: `sync_run` rows (and the history read back from them), cursors in `sync_state`, and
`quarantine` rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from connector.clock import as_utc
from connector.domain import RunStatus
from connector.store.sql import upsert
from connector.store.tables import quarantine_table, sync_run_table, sync_state_table

__all__ = [
    "QuarantineItem",
    "StreamHistory",
    "cursor_streams",
    "finish_run",
    "has_open_quarantine",
    "load_cursor",
    "quarantine",
    "reset_cursor",
    "resolve_quarantine",
    "run_history",
    "save_cursor",
    "start_run",
    "stream_history",
]

_run = sync_run_table
_state = sync_state_table
_quarantine = quarantine_table


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
            .where(_run.c.connection == connection, _run.c.stream == stream, _run.c.status == RunStatus.RUNNING)
            .values(status=RunStatus.INTERRUPTED, finished_at=now)
        )
        row = conn.execute(
            insert(_run).returning(_run.c.id),
            {"connection": connection, "stream": stream, "mode": mode, "status": RunStatus.RUNNING, "started_at": now},
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


def has_open_quarantine(conn: Connection, connection: str) -> bool:
    """Whether `connection` has a quarantined record not resolved yet."""
    q = _quarantine.c
    row = conn.execute(select(q.id).where(q.connection == connection, q.resolved_at.is_(None)).limit(1))
    return row.first() is not None


@dataclass(frozen=True, slots=True)
class StreamHistory:
    """What the run history says of one connection x stream: its last success and its last finished run."""

    connection: str
    stream: str
    last_success_at: datetime | None
    """When the newest run with status ok (or repaired, after a gap audit) finished; None when none did."""
    last_duration_seconds: float | None
    """How long the newest finished run (any status but running) took; None when none finished."""


def stream_history(conn: Connection | Engine) -> list[StreamHistory]:
    """Per connection x stream, the last success time and the last run's duration, from `sync_run`."""
    r = _run.c
    newest_ok = (
        select(r.connection, r.stream, func.max(r.id).label("id"))
        .where(r.status.in_((RunStatus.OK, RunStatus.REPAIRED)), r.finished_at.is_not(None))
        .group_by(r.connection, r.stream)
        .subquery()
    )
    newest_done = (
        select(r.connection, r.stream, func.max(r.id).label("id"))
        .where(r.status != RunStatus.RUNNING, r.finished_at.is_not(None))
        .group_by(r.connection, r.stream)
        .subquery()
    )
    with _connected(conn) as c:
        successes = {
            (row.connection, row.stream): row.finished_at
            for row in c.execute(select(r.connection, r.stream, r.finished_at).join(newest_ok, r.id == newest_ok.c.id))
        }
        durations = {
            (row.connection, row.stream): row.duration_seconds
            for row in c.execute(
                select(r.connection, r.stream, r.duration_seconds).join(newest_done, r.id == newest_done.c.id)
            )
        }
    return [
        StreamHistory(name, stream, as_utc(successes.get((name, stream))), durations.get((name, stream)))
        for name, stream in sorted({*successes, *durations})
    ]


def run_history(
    conn: Connection | Engine, *, connection: str | None = None, stream: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The newest `limit` run rows (of one connection and/or stream), newest first, times in UTC."""
    query = select(_run).order_by(_run.c.id.desc()).limit(limit)
    if connection is not None:
        query = query.where(_run.c.connection == connection)
    if stream is not None:
        query = query.where(_run.c.stream == stream)
    with _connected(conn) as c:
        rows = [dict(row) for row in c.execute(query).mappings()]
    for row in rows:
        for key in ("window_start", "window_end", "started_at", "finished_at"):
            row[key] = as_utc(row[key])
    return rows


def cursor_streams(conn: Connection | Engine, connection: str) -> list[str]:
    """The streams of `connection` that have a stored cursor, sorted."""
    with _connected(conn) as c:
        return sorted(c.execute(select(_state.c.stream).where(_state.c.connection == connection)).scalars())


def reset_cursor(engine: Engine, connection: str, stream: str) -> dict[str, Any] | None:
    """Delete the cursor of a connection x stream (its next sync starts from nothing); return what it held.

    Returns None when there was no cursor. The run history and the stored records stay.
    """
    where = (_state.c.connection == connection, _state.c.stream == stream)
    with engine.begin() as conn:
        held = conn.execute(select(_state.c.cursor).where(*where)).scalar_one_or_none()
        if held is None:
            return None
        conn.execute(delete(_state).where(*where))
    return dict(held)


@contextmanager
def _connected(conn: Connection | Engine) -> Iterator[Connection]:
    if isinstance(conn, Engine):
        with conn.connect() as c:
            yield c
    else:
        yield conn
