"""Read-only queries behind the commands that report on the store (`status`, `outbox`, the demo)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from connector.domain import EntityKind
from connector.store.entities import ENTITY_TABLES
from connector.store.tables import (
    Client,
    Invoice,
    InvoiceLine,
    Payment,
    Quarantine,
    conflict_table,
    invoice_table,
    lease_table,
    link_table,
    outbox_table,
    quarantine_table,
    sync_run_table,
    sync_state_table,
)

__all__ = [
    "Backlog",
    "backlog",
    "client_links",
    "entity_holders",
    "invoice_total_minor",
    "latest_runs",
    "live_links_by_kind",
    "open_invoices_held_at",
    "open_quarantine",
    "outbox_rows",
    "outbox_statuses",
    "outbox_totals",
    "row_counts",
    "run_connections",
    "stream_cursors",
]

_run = sync_run_table
_state = sync_state_table
_link = link_table
_quarantine = quarantine_table
_outbox = outbox_table
_invoice = invoice_table
_COUNTED = (("clients", Client), ("invoices", Invoice), ("lines", InvoiceLine), ("payments", Payment),
            ("quarantine", Quarantine))


def row_counts(conn: Connection) -> dict[str, int]:
    """Rows of clients, invoices, lines, payments and quarantine (by those names)."""
    return {name: int(conn.execute(select(func.count()).select_from(table)).scalar_one()) for name, table in _COUNTED}


def invoice_total_minor(conn: Connection) -> int:
    """The sum of every invoice's total in minor units (whatever the currency: a demo's check)."""
    return int(conn.execute(select(func.coalesce(func.sum(_invoice.c.total_minor), 0))).scalar_one())


def live_links_by_kind(conn: Connection, connection: str) -> dict[str, int]:
    """How many records of each kind `connection` holds (links not marked deleted)."""
    rows = conn.execute(
        select(_link.c.entity_kind, func.count())
        .where(_link.c.connection == connection, _link.c.remote_deleted_at.is_(None))
        .group_by(_link.c.entity_kind)
    ).all()
    return {str(kind): int(n) for kind, n in rows}


def run_connections(conn: Connection) -> set[str]:
    """Every connection with a run in the history."""
    return {str(name) for name in conn.execute(select(_run.c.connection).distinct()).scalars()}


def latest_runs(conn: Connection, connection: str) -> list[dict[str, Any]]:
    """The latest run row of each stream of `connection`."""
    latest = (
        select(_run.c.stream, func.max(_run.c.id).label("id"))
        .where(_run.c.connection == connection)
        .group_by(_run.c.stream)
        .subquery()
    )
    return [dict(r) for r in conn.execute(select(_run).join(latest, _run.c.id == latest.c.id)).mappings()]


def stream_cursors(conn: Connection, connection: str) -> dict[str, Any]:
    """Stream -> its stored cursor, for `connection`."""
    rows = conn.execute(select(_state.c.stream, _state.c.cursor).where(_state.c.connection == connection)).all()
    return {str(stream): cursor for stream, cursor in rows}


def open_quarantine(conn: Connection, connection: str) -> int:
    """How many records of `connection` are quarantined and not resolved."""
    q = _quarantine.c
    query = select(func.count()).where(q.connection == connection, q.resolved_at.is_(None))
    return int(conn.execute(query).scalar_one())


def outbox_totals(
    conn: Connection, connection: str | None = None, statuses: Collection[str] | None = None
) -> dict[str, int]:
    """Outbox rows per status (of one target, of some statuses, when given)."""
    query = select(_outbox.c.status, func.count()).group_by(_outbox.c.status)
    if connection is not None:
        query = query.where(_outbox.c.connection == connection)
    if statuses is not None:
        query = query.where(_outbox.c.status.in_(list(statuses)))
    return {str(status): int(n) for status, n in conn.execute(query)}


def outbox_rows(
    conn: Connection, statuses: Collection[str] | None, connection: str | None, limit: int | None
) -> list[dict[str, Any]]:
    """Outbox rows in id order (of some statuses, of one target, at most `limit`, when given)."""
    query = select(_outbox).order_by(_outbox.c.id)
    if statuses is not None:
        query = query.where(_outbox.c.status.in_(list(statuses)))
    if connection:
        query = query.where(_outbox.c.connection == connection)
    if limit is not None:
        query = query.limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def outbox_statuses(conn: Connection) -> dict[int, str]:
    """Every outbox row's status by id."""
    return {int(i): str(s) for i, s in conn.execute(select(_outbox.c.id, _outbox.c.status))}


def entity_holders(conn: Connection, kinds: Sequence[str]) -> list[tuple[str, int, str, int | None, Any, int, int]]:
    """Every live link of `kinds`: (kind, entity id, connection, version it holds, last changed, link id, the
    entity's current version)."""
    found: list[tuple[str, int, str, int | None, Any, int, int]] = []
    for kind in kinds:
        table = ENTITY_TABLES[kind]
        rows = conn.execute(
            select(_link.c.entity_id, _link.c.connection, _link.c.entity_version, _link.c.last_changed_at,
                   _link.c.id, table.c.version)
            .join(table, table.c.id == _link.c.entity_id)
            .where(_link.c.entity_kind == kind, _link.c.remote_deleted_at.is_(None))
        )
        found.extend((kind, int(e), str(c), v, at, int(i), int(cv)) for e, c, v, at, i, cv in rows)
    return found


def client_links(conn: Connection, connections: Collection[str]) -> list[tuple[int, str, str, str | None]]:
    """(entity id, connection, remote id, write ledger) of the client links at `connections`, by entity id."""
    rows = conn.execute(
        select(_link.c.entity_id, _link.c.connection, _link.c.remote_id, _link.c.written_hash)
        .where(_link.c.entity_kind == EntityKind.CLIENT, _link.c.connection.in_(list(connections)))
        .order_by(_link.c.entity_id)
    )
    return [(int(e), str(c), str(r), w) for e, c, r, w in rows]


def open_invoices_held_at(
    conn: Connection, origin: str, other: str, statuses: Collection[str]
) -> list[tuple[str, str, int | None, str | None]]:
    """Invoices `origin` issued that `other` holds too, in one of `statuses`, oldest first:
    (remote id at origin, remote id at other, open amount, currency)."""
    at_origin, at_other = _link.alias("at_origin"), _link.alias("at_other")
    rows = conn.execute(
        select(at_origin.c.remote_id, at_other.c.remote_id, _invoice.c.open_minor, _invoice.c.currency)
        .join(at_origin, (at_origin.c.entity_id == _invoice.c.id) & (at_origin.c.entity_kind == EntityKind.INVOICE))
        .join(at_other, (at_other.c.entity_id == _invoice.c.id) & (at_other.c.entity_kind == EntityKind.INVOICE))
        .where(
            at_origin.c.connection == origin,
            at_other.c.connection == other,
            _invoice.c.origin_connection == origin,
            _invoice.c.status.in_(list(statuses)),
        )
        .order_by(_invoice.c.id)
    )
    return [(str(a), str(b), o, c) for a, b, o, c in rows]


@dataclass(frozen=True, slots=True)
class Backlog:
    """The rows behind the store's backlog gauges, as read."""

    outbox: list[tuple[str, str, int]]  # (connection, status, rows)
    quarantine: list[tuple[str, int]]  # (connection, open rows)
    conflicts: list[tuple[str, int]]  # (entity kind, rows)
    leases: list[tuple[str, int]]  # (holder, leases held now)
    audits: list[tuple[str, Any]]  # (connection, the cursor of its audit stream)


def backlog(
    engine: Engine, now: datetime, outbox_statuses: Collection[str], audit_stream: str, timeout_ms: int
) -> Backlog:
    """Read the backlog in one short, read-only transaction (rolled back, never committed).

    On PostgreSQL each statement is bounded by `timeout_ms`: a scrape must never hang on a locked or huge table.
    """
    o, q, c = outbox_table.c, quarantine_table.c, conflict_table.c
    lease, state = lease_table.c, sync_state_table.c
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
        outbox = conn.execute(
            select(o.connection, o.status, func.count())
            .where(o.status.in_(list(outbox_statuses)))
            .group_by(o.connection, o.status)
        ).all()
        quarantine = conn.execute(
            select(q.connection, func.count()).where(q.resolved_at.is_(None)).group_by(q.connection)
        ).all()
        conflicts = conn.execute(select(c.entity_kind, func.count()).group_by(c.entity_kind)).all()
        leases = conn.execute(
            select(lease.holder, func.count()).where(lease.expires_at > now).group_by(lease.holder)
        ).all()
        audits = conn.execute(select(state.connection, state.cursor).where(state.stream == audit_stream)).all()
        conn.rollback()
    return Backlog(
        [(str(a), str(b), int(n)) for a, b, n in outbox],
        [(str(a), int(n)) for a, n in quarantine],
        [(str(a), int(n)) for a, n in conflicts],
        [(str(a), int(n)) for a, n in leases],
        [(str(a), cursor) for a, cursor in audits],
    )
