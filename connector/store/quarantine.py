"""Queries of `connector quarantine`: the open rows, one row by id, the newest open payload of a record, a drop.

A quarantine row keeps the payload that failed with the reason (`connector.store.runs.quarantine` writes them, a
later store of the record settles them); the replay maps that payload again without asking the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, select, update

from connector.store.tables import quarantine_table

__all__ = ["QuarantineRow", "drop_row", "open_rows", "rows_by_id"]

_quarantine = quarantine_table


@dataclass(frozen=True, slots=True)
class QuarantineRow:
    """One quarantine row as the command shows and replays it."""

    id: int
    connection: str
    stream: str
    kind: str
    remote_id: str
    payload: str
    error: str
    created_at: datetime | None
    resolved_at: datetime | None

    def as_json(self) -> dict[str, object]:
        """The row for ``--json`` (without the payload, which may be large)."""
        return {
            "id": self.id,
            "connection": self.connection,
            "stream": self.stream,
            "kind": self.kind,
            "remote_id": self.remote_id,
            "error": self.error,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
        }


def _rows(conn: Connection, *where: object) -> list[QuarantineRow]:
    q = _quarantine.c
    query = select(
        q.id, q.connection, q.stream, q.entity_kind, q.remote_id, q.payload, q.error, q.created_at, q.resolved_at
    ).where(*where).order_by(q.id)  # type: ignore[arg-type]
    return [QuarantineRow(int(r[0]), *r[1:]) for r in conn.execute(query)]


def open_rows(conn: Connection, connection: str | None = None) -> list[QuarantineRow]:
    """The open rows (of `connection`, or of every connection), oldest first."""
    q = _quarantine.c
    where: list[ColumnElement[bool]] = [q.resolved_at.is_(None)]
    if connection is not None:
        where.append(q.connection == connection)
    return _rows(conn, *where)


def rows_by_id(conn: Connection, ids: Sequence[int]) -> dict[int, QuarantineRow]:
    """The rows of `ids` (open or not) that exist, by id."""
    return {row.id: row for row in _rows(conn, _quarantine.c.id.in_(list(ids)))} if ids else {}


def drop_row(conn: Connection, row_id: int, now: datetime) -> bool:
    """Give up on an open row: it is closed without the record being stored (its reason keeps a "dropped: "
    prefix, so it stays told apart from a healed one). Returns whether an open row was dropped."""
    q = _quarantine.c
    done = conn.execute(
        update(_quarantine)
        .where(q.id == row_id, q.resolved_at.is_(None))
        .values(resolved_at=now, error="dropped: " + q.error)
    )
    return bool(done.rowcount)
