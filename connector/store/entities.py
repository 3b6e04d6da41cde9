"""Bulk writes of canonical clients, invoices (with lines) and payments, one page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, or_, select, update

from connector.domain import CanonicalClient, CanonicalInvoice, CanonicalPayment, EntityKind
from connector.store.sql import chunks, insert_columns, insert_columns_with_ids
from connector.store.tables import (
    client_table,
    invoice_line_table,
    invoice_table,
    link_table,
    payment_table,
)

__all__ = [
    "ENTITY_TABLES",
    "client_row",
    "current_rows",
    "current_versions",
    "insert_entities",
    "invoice_row",
    "line_rows",
    "payment_row",
    "replace_lines",
    "soft_delete",
    "update_entities",
]

_client = client_table
_invoice = invoice_table
_line = invoice_line_table
_payment = payment_table
_link = link_table

ENTITY_TABLES: dict[str, Table] = {
    EntityKind.CLIENT: _client, EntityKind.INVOICE: _invoice, EntityKind.PAYMENT: _payment
}
_LINE_FIELDS = (  # invoice_line columns filled from the canonical line's attributes of the same name
    "position",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "vat_rate",
    "discount_percent",
    "line_total_minor",
    "tax_minor",
    "extra",
)


def client_row(rec: CanonicalClient, now: datetime) -> dict[str, Any]:
    """Column values of a canonical client (without id, created_at, version)."""
    return {
        "name": rec.name,
        "contact_name": rec.contact_name,
        "email": rec.email,
        "phone": rec.phone,
        "mobile": rec.mobile,
        "street": rec.street,
        "postal_code": rec.postal_code,
        "city": rec.city,
        "country": rec.country,
        "vat_number": rec.vat_number,
        "external_id": rec.external_id,
        "currency": rec.currency,
        "extra": rec.extra,
        "updated_at": now,
        "remote_updated_at": rec.remote_updated_at,
        "archived_at": (rec.remote_updated_at or now) if rec.archived else None,
        "remote_deleted_at": None,
    }


def invoice_row(rec: CanonicalInvoice, client_id: int | None, origin: str, now: datetime) -> dict[str, Any]:
    """Column values of a canonical invoice (lines are written by `replace_lines`)."""
    return {
        "client_id": client_id,
        "origin_connection": origin,
        "number": rec.number,
        "currency": rec.currency,
        "status": rec.status,
        "issued_on": rec.issued_on,
        "due_on": rec.due_on,
        "subtotal_minor": rec.subtotal_minor,
        "tax_minor": rec.tax_minor,
        "total_minor": rec.total_minor,
        "discount_minor": rec.discount_minor,
        "open_minor": rec.open_minor,
        "paid_on": rec.paid_on,
        "extra": rec.extra,
        "updated_at": now,
        "remote_updated_at": rec.remote_updated_at,
        "remote_deleted_at": None,
    }


def payment_row(rec: CanonicalPayment, invoice_id: int | None, now: datetime) -> dict[str, Any]:
    """Column values of a canonical payment."""
    return {
        "invoice_id": invoice_id,
        "amount_minor": rec.amount_minor,
        "currency": rec.currency,
        "paid_on": rec.paid_on,
        "paid_at": rec.paid_at,
        "method": rec.method,
        "extra": rec.extra,
        "updated_at": now,
        "remote_deleted_at": None,
    }


def current_versions(conn: Connection, kind: str, ids: Sequence[int]) -> dict[int, int]:
    """Return {id: version} of canonical entities of `kind`."""
    table = ENTITY_TABLES[kind]
    found: dict[int, int] = {}
    for batch in chunks(list(ids), 900):
        rows = conn.execute(select(table.c.id, table.c.version).where(table.c.id.in_(batch)))
        found.update((int(i), int(v)) for i, v in rows)
    return found


def current_rows(conn: Connection, kind: str, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Return {id: column values} of canonical entities of `kind`."""
    table = ENTITY_TABLES[kind]
    found: dict[int, dict[str, Any]] = {}
    for batch in chunks(list(ids), 900):
        for row in conn.execute(select(table).where(table.c.id.in_(batch))).mappings():
            found[int(row["id"])] = dict(row)
    return found


def line_rows(conn: Connection, invoice_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Return {invoice id: its lines' column values in position order} (without the line ids)."""
    found: dict[int, list[dict[str, Any]]] = {}
    for batch in chunks(list(invoice_ids), 900):
        query = select(_line.c.invoice_id, *[_line.c[name] for name in _LINE_FIELDS]).where(
            _line.c.invoice_id.in_(batch)
        )
        for row in conn.execute(query.order_by(_line.c.invoice_id, _line.c.position)).mappings():
            found.setdefault(int(row["invoice_id"]), []).append({name: row[name] for name in _LINE_FIELDS})
    return found


def insert_entities(conn: Connection, kind: str, rows: Sequence[dict[str, Any]], now: datetime) -> list[int]:
    """Insert new canonical rows of `kind` and return their ids in order."""
    if not rows:
        return []
    table = ENTITY_TABLES[kind]
    columns: dict[str, list[Any]] = {name: [row[name] for row in rows] for name in rows[0]}
    columns["created_at"], columns["version"] = [now] * len(rows), [1] * len(rows)
    return insert_columns_with_ids(conn, table, columns, len(rows))


def update_entities(conn: Connection, kind: str, rows: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """Overwrite changed canonical rows (id, values) and bump their version."""
    if not rows:
        return
    table = ENTITY_TABLES[kind]
    columns = list(rows[0][1])
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values({**{c: bindparam(f"b_{c}") for c in columns}, "version": table.c.version + 1})
    )
    conn.execute(statement, [{"b_id": i, **{f"b_{c}": v[c] for c in columns}} for i, v in rows])


def replace_lines(conn: Connection, invoices: Sequence[tuple[int, CanonicalInvoice]], fresh: bool) -> None:
    """Write each invoice's lines, replacing the old ones unless the invoices are `fresh` (just inserted)."""
    if not invoices:
        return
    if not fresh:
        ids = [i for i, _ in invoices]
        conn.execute(delete(_line).where(_line.c.invoice_id.in_(ids)))
    owners = [invoice_id for invoice_id, rec in invoices for _ in rec.lines]
    lines = [line for _, rec in invoices for line in rec.lines]
    columns: dict[str, list[Any]] = {"invoice_id": owners}
    for name in _LINE_FIELDS:
        columns[name] = [getattr(line, name) for line in lines]
    insert_columns(conn, _line, columns)


def soft_delete(
    conn: Connection, connection: str, kind: str, links: Sequence[tuple[int, int]], now: datetime
) -> int:
    """Mark (link_id, entity_id) pairs as deleted at `connection`; canonical rows are kept. Returns the count.

    The canonical entity is marked deleted too only when the deletion speaks for it: no other service still
    holds it, or it is an invoice deleted by the service that issued it. A copy deleted at one service (a
    person removing what the push put there) ends that service's link, and the record lives on for the
    others; the deleted link keeps the push from creating it there again.
    """
    if not links:
        return 0
    table = ENTITY_TABLES[kind]
    conn.execute(update(_link).where(_link.c.id.in_([lid for lid, _ in links])).values(remote_deleted_at=now))
    entity_ids = sorted({eid for _, eid in links})
    held_elsewhere: set[int] = set()
    for batch in chunks(entity_ids, 900):
        held_elsewhere.update(
            conn.execute(
                select(_link.c.entity_id).where(
                    _link.c.entity_kind == kind, _link.c.entity_id.in_(batch), _link.c.remote_deleted_at.is_(None)
                )
            ).scalars()
        )
    if kind == EntityKind.INVOICE and held_elsewhere:
        for batch in chunks(sorted(held_elsewhere), 900):
            issued_here = select(table.c.id).where(
                table.c.id.in_(batch),
                or_(table.c.origin_connection == connection, table.c.origin_connection.is_(None)),
            )
            held_elsewhere.difference_update(conn.execute(issued_here).scalars())
    gone = [eid for eid in entity_ids if eid not in held_elsewhere]
    for batch in chunks(gone, 900):
        conn.execute(
            update(table)
            .where(table.c.id.in_(batch), table.c.remote_deleted_at.is_(None))
            .values(remote_deleted_at=now, updated_at=now, version=table.c.version + 1)
        )
    return len(links)
