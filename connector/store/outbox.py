"""Reads and writes of `outbox`: the pushes the desired state asks for, and what became of them."""

from __future__ import annotations

from sqlalchemy import Connection, select

from connector.store.tables import Outbox

__all__ = ["pending_creates"]

_outbox = Outbox.__table__  # type: ignore[attr-defined]


def pending_creates(conn: Connection, connection: str, kind: str) -> dict[str, tuple[int, int]]:
    """The pending creates of `kind` at `connection`: idempotency key -> (entity id, version it creates)."""
    c = _outbox.c
    rows = conn.execute(
        select(c.entity_id, c.idempotency_key, c.payload).where(
            c.connection == connection, c.entity_kind == kind, c.operation == "create", c.status == "pending"
        )
    )
    return {str(key): (int(entity_id), int((payload or {}).get("version", 0))) for entity_id, key, payload in rows}
