"""Invoices stored before their client (`client_id` NULL): found with their kept payload, and given it later."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from connector.domain import EntityKind
from connector.store.links import LAST_SEEN
from connector.store.tables import invoice_table, link_table, raw_record_table

__all__ = ["client_less_invoices", "give_client"]

_link = link_table
_raw = raw_record_table
_invoice = invoice_table


def client_less_invoices(conn: Connection, connection: str) -> list[tuple[int, int, str]]:
    """(link id, invoice id, payload last seen there) of the live invoices at `connection` that have no client."""
    rows = conn.execute(
        select(_link.c.id, _link.c.entity_id, LAST_SEEN)
        .join(_invoice, _invoice.c.id == _link.c.entity_id)
        .join(_raw, _raw.c.link_id == _link.c.id)
        .where(
            _link.c.connection == connection,
            _link.c.entity_kind == EntityKind.INVOICE,
            _link.c.remote_deleted_at.is_(None),
            _invoice.c.client_id.is_(None),
        )
    ).all()
    return [(int(link_id), int(invoice_id), str(payload)) for link_id, invoice_id, payload in rows if payload]


def give_client(conn: Connection, invoice_id: int, client_id: int, link_id: int, projection_hash: str) -> None:
    """Set an invoice's client (a new canonical version) and the projection its link now holds."""
    conn.execute(
        update(_invoice)
        .where(_invoice.c.id == invoice_id)
        .values(client_id=client_id, version=_invoice.c.version + 1)
    )
    conn.execute(update(_link).where(_link.c.id == link_id).values(projection_hash=projection_hash))
