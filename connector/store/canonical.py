"""Read canonical entities back from the store as the domain's records, for the push side.

The records carry no service ids (`remote_id`, `client_remote_id`, `invoice_remote_id` are empty): which
ids a target knows them by is the push planner's business, through the links.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, select

from connector.clock import as_utc
from connector.domain import (
    CanonicalClient,
    CanonicalInvoice,
    CanonicalLine,
    CanonicalPayment,
    CanonicalRecord,
    EntityKind,
)
from connector.store.sql import chunks
from connector.store.tables import (
    client_table,
    invoice_line_table,
    invoice_table,
    payment_table,
)

__all__ = [
    "StoredEntity",
    "archived_client_versions",
    "live_entity_versions",
    "load_entities",
]

_client = client_table
_invoice = invoice_table
_line = invoice_line_table
_payment = payment_table
_TABLES: dict[str, Table] = {EntityKind.CLIENT: _client, EntityKind.INVOICE: _invoice, EntityKind.PAYMENT: _payment}


@dataclass(frozen=True, slots=True)
class StoredEntity:
    """One canonical entity as stored: its id, version, record and the canonical id it refers to."""

    kind: str
    id: int
    version: int
    record: CanonicalRecord
    ref_id: int | None  # an invoice's client, a payment's invoice
    origin: str | None = None  # the connection an invoice was issued at


_REFS: dict[str, str | None] = {
    EntityKind.CLIENT: None, EntityKind.INVOICE: "client_id", EntityKind.PAYMENT: "invoice_id"
}


def live_entity_versions(conn: Connection, kind: str) -> list[tuple[int, int, int | None]]:
    """Return (id, version, referenced id) of every live entity of `kind` (clients: not archived either)."""
    table = _TABLES[kind]
    ref = _REFS[kind]
    ref_column = table.c[ref] if ref else None
    columns = [table.c.id, table.c.version] + ([ref_column] if ref_column is not None else [])
    query = select(*columns).where(table.c.remote_deleted_at.is_(None))
    if kind == EntityKind.CLIENT:
        query = query.where(table.c.archived_at.is_(None))
    return [(int(r[0]), int(r[1]), r[2] if ref else None) for r in conn.execute(query.order_by(table.c.id))]


def archived_client_versions(conn: Connection) -> list[tuple[int, int]]:
    """Return (id, version) of every archived client (not deleted)."""
    table = _TABLES[EntityKind.CLIENT]
    query = select(table.c.id, table.c.version).where(
        table.c.remote_deleted_at.is_(None), table.c.archived_at.is_not(None)
    )
    return [(int(r[0]), int(r[1])) for r in conn.execute(query.order_by(table.c.id))]


def load_entities(conn: Connection, kind: str, ids: Sequence[int]) -> dict[int, StoredEntity]:
    """Load entities of `kind` by canonical id (invoices with their lines)."""
    loaded: dict[int, StoredEntity] = {}
    table = _TABLES[kind]
    for batch in chunks(list(ids), 900):
        rows = conn.execute(select(table).where(table.c.id.in_(batch))).mappings().all()
        lines = _lines(conn, [r["id"] for r in rows]) if kind == EntityKind.INVOICE else {}
        for row in rows:
            loaded[row["id"]] = _entity(kind, row, lines.get(row["id"], []))
    return loaded


def _lines(conn: Connection, invoice_ids: list[int]) -> dict[int, list[CanonicalLine]]:
    found: dict[int, list[CanonicalLine]] = {}
    query = select(_line).where(_line.c.invoice_id.in_(invoice_ids)).order_by(_line.c.invoice_id, _line.c.position)
    for r in conn.execute(query).mappings():
        found.setdefault(r["invoice_id"], []).append(
            CanonicalLine(
                position=r["position"],
                description=r["description"],
                quantity=r["quantity"],
                unit_price=r["unit_price"],
                vat_rate=r["vat_rate"],
                discount_percent=r["discount_percent"],
                unit=r["unit"],
                line_total_minor=r["line_total_minor"],
                tax_minor=r["tax_minor"],
                extra=dict(r["extra"] or {}),
            )
        )
    return found


def _entity(kind: str, r: Any, lines: list[CanonicalLine]) -> StoredEntity:
    record: CanonicalRecord
    if kind == EntityKind.CLIENT:
        record = CanonicalClient(
            remote_id="",
            name=r["name"],
            contact_name=r["contact_name"],
            email=r["email"],
            phone=r["phone"],
            mobile=r["mobile"],
            street=r["street"],
            postal_code=r["postal_code"],
            city=r["city"],
            country=r["country"],
            vat_number=r["vat_number"],
            external_id=r["external_id"],
            currency=r["currency"],
            archived=r["archived_at"] is not None,
            remote_updated_at=as_utc(r["remote_updated_at"]),
            extra=dict(r["extra"] or {}),
        )
        return StoredEntity(kind, r["id"], r["version"], record, None)
    if kind == EntityKind.INVOICE:
        record = CanonicalInvoice(
            remote_id="",
            number=r["number"],
            client_remote_id=None,
            currency=r["currency"],
            status=r["status"],
            issued_on=r["issued_on"],
            due_on=r["due_on"],
            subtotal_minor=r["subtotal_minor"],
            tax_minor=r["tax_minor"],
            total_minor=r["total_minor"],
            discount_minor=r["discount_minor"],
            open_minor=r["open_minor"],
            paid_on=r["paid_on"],
            lines=lines,
            remote_updated_at=as_utc(r["remote_updated_at"]),
            extra=dict(r["extra"] or {}),
        )
        return StoredEntity(kind, r["id"], r["version"], record, r["client_id"], r["origin_connection"])
    record = CanonicalPayment(
        remote_id="",
        invoice_remote_id="",
        amount_minor=r["amount_minor"],
        currency=r["currency"],
        paid_on=r["paid_on"],
        paid_at=as_utc(r["paid_at"]),
        method=r["method"],
        extra=dict(r["extra"] or {}),
    )
    return StoredEntity(kind, r["id"], r["version"], record, r["invoice_id"])
