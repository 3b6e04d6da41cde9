"""The invoices the store holds as still open for a connection: what a refresh of the open set must re-read.

A refresh stream (FactuurSturen's ``open_invoices``) notices an invoice paid in full only while it remembers
the invoice was open. Its own memory (the stream's memo) is lost when the run that would have saved it never
committed (killed after the invoice listing, or a run of only some streams); the store is not: an invoice it
holds as open that the service no longer lists as open has changed since.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, or_, select

from connector.domain import EntityKind, InvoiceStatus
from connector.store.tables import invoice_table, link_table

__all__ = ["open_invoice_ids"]

_link = link_table
_invoice = invoice_table
_OPEN_STATUSES = (InvoiceStatus.SENT.value, InvoiceStatus.PARTIALLY_PAID.value, InvoiceStatus.OVERDUE.value)


def open_invoice_ids(conn: Connection, connection: str) -> list[str]:
    """Remote ids at `connection` of live linked invoices the store holds as open.

    Open: an open amount above zero, or no open amount known and a status that leaves it unpaid.
    """
    lk, inv = _link.c, _invoice.c
    still_open = or_(inv.open_minor > 0, and_(inv.open_minor.is_(None), inv.status.in_(_OPEN_STATUSES)))
    statement = (
        select(lk.remote_id)
        .join(_invoice, inv.id == lk.entity_id)
        .where(
            lk.connection == connection,
            lk.entity_kind == EntityKind.INVOICE,
            lk.remote_deleted_at.is_(None),
            inv.remote_deleted_at.is_(None),
            still_open,
        )
    )
    return [str(remote_id) for remote_id in conn.execute(statement).scalars()]
