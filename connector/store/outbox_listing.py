"""Reading the outbox for people: its rows (newest last) and its totals per status, optionally for one target."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from connector.clock import as_utc
from connector.store.tables import Outbox

__all__ = ["ROW_FIELDS", "outbox_rows", "outbox_totals"]

_outbox = Outbox.__table__  # type: ignore[attr-defined]

ROW_FIELDS = (
    "id", "status", "connection", "operation", "entity_kind", "entity_id", "attempts", "last_error", "remote_id",
    "next_attempt_at", "created_at", "updated_at",
)
"""The columns a listing returns (the payload sent is left out: `connector push --dry-run` shows it)."""


def outbox_rows(
    conn: Connection, *, connection: str | None = None, statuses: Sequence[str] | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The first `limit` rows by id (of one target connection, in some statuses), times in UTC."""
    query = select(*(_outbox.c[name] for name in ROW_FIELDS)).order_by(_outbox.c.id).limit(limit)
    if statuses is not None:
        query = query.where(_outbox.c.status.in_(list(statuses)))
    if connection is not None:
        query = query.where(_outbox.c.connection == connection)
    rows = [dict(row) for row in conn.execute(query).mappings()]
    for row in rows:
        for key in ("next_attempt_at", "created_at", "updated_at"):
            row[key] = as_utc(row[key])
    return rows


def outbox_totals(conn: Connection, *, connection: str | None = None) -> dict[str, int]:
    """Rows per status (of one target connection, or of all)."""
    query = select(_outbox.c.status, func.count()).group_by(_outbox.c.status)
    if connection is not None:
        query = query.where(_outbox.c.connection == connection)
    return {str(status): int(n) for status, n in conn.execute(query)}
