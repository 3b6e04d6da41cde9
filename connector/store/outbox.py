"""Reads and writes of `outbox`: the pushes the desired state asks for, and what became of them."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from connector.domain import OutboxStatus, PushOperation
from connector.store.sql import upsert
from connector.store.tables import outbox_table

__all__ = ["due_count", "due_rows", "pending_creates", "queue", "retry", "set_row"]

_outbox = outbox_table
_RETRIABLE = (OutboxStatus.FAILED.value, OutboxStatus.UNSUPPORTED.value, OutboxStatus.PENDING.value)


def pending_creates(conn: Connection, connection: str, kind: str) -> dict[str, tuple[int, int]]:
    """The pending creates of `kind` at `connection`: idempotency key -> (entity id, version it creates)."""
    c = _outbox.c
    rows = conn.execute(
        select(c.entity_id, c.idempotency_key, c.payload).where(
            c.connection == connection,
            c.entity_kind == kind,
            c.operation == PushOperation.CREATE.value,
            c.status == OutboxStatus.PENDING.value,
        )
    )
    return {str(key): (int(entity_id), int((payload or {}).get("version", 0))) for entity_id, key, payload in rows}


def queue(
    conn: Connection,
    *,
    target: str,
    kind: str,
    entity_id: int,
    version: int,
    operation: str,
    idempotency_key: str,
    status: str,
    reason: str | None,
    remote_id: str | None,
    now: datetime,
) -> bool:
    """Queue one push unless a row with its idempotency key exists; an older pending row of the same entity at
    the same target is superseded. Returns whether a row was added."""
    c = _outbox.c
    if conn.execute(select(c.id).where(c.idempotency_key == idempotency_key)).first():
        return False
    conn.execute(
        update(_outbox)
        .where(
            c.connection == target,
            c.entity_kind == kind,
            c.entity_id == entity_id,
            c.status == OutboxStatus.PENDING.value,
        )
        .values(status=OutboxStatus.SUPERSEDED.value, updated_at=now)
    )
    upsert(
        conn,
        _outbox,
        {
            "entity_kind": kind,
            "entity_id": entity_id,
            "connection": target,
            "operation": operation,
            "idempotency_key": idempotency_key,
            "payload": {"version": version},
            "status": status,
            "attempts": 0,
            "last_error": reason,
            "remote_id": remote_id,
            "created_at": now,
            "updated_at": now,
        },
        ["idempotency_key"],
    )
    return True


def due_rows(conn: Connection, target: str, now: datetime) -> list[Mapping[str, Any]]:
    """The pending rows of `target` whose next attempt is due (unordered)."""
    c = _outbox.c
    rows = conn.execute(
        select(_outbox).where(
            c.connection == target,
            c.status == OutboxStatus.PENDING.value,
            (c.next_attempt_at.is_(None)) | (c.next_attempt_at <= now),
        )
    )
    return [dict(r) for r in rows.mappings()]


def due_count(conn: Connection, targets: Collection[str], now: datetime) -> int:
    """How many pending rows of `targets` are due now."""
    c = _outbox.c
    due = (c.next_attempt_at.is_(None)) | (c.next_attempt_at <= now)
    query = select(func.count()).where(c.connection.in_(list(targets)), c.status == OutboxStatus.PENDING.value, due)
    return int(conn.execute(query).scalar_one())


def set_row(conn: Connection, row_id: int, now: datetime, **values: Any) -> None:
    """Record what became of one row (status, attempts, error, payload...)."""
    conn.execute(update(_outbox).where(_outbox.c.id == row_id).values(updated_at=now, **values))


def retry(conn: Connection, row_id: int, now: datetime) -> bool:
    """Put a failed, unsupported or pending row back to pending with no attempts; False if there is no such row."""
    result = conn.execute(
        update(_outbox)
        .where(_outbox.c.id == row_id, _outbox.c.status.in_(_RETRIABLE))
        .values(status=OutboxStatus.PENDING.value, attempts=0, next_attempt_at=None, updated_at=now)
    )
    return bool(result.rowcount)
