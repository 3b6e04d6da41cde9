"""Invoices stored before their client: link them once the client arrives, from their kept raw payload.

An invoice can reach the store before its client (a person adds both between the clients and the
invoices stream, or the client fails mapping for a while). Its `client_id` stays NULL and, as its payload
does not change, the page writer never looks at it again; this pass re-maps those invoices' raw payloads
after a run and fills in the client where the connection now knows it.
"""

from __future__ import annotations

from sqlalchemy import Connection, update

from connector.errors import MappingError
from connector.store import links
from connector.store.tables import Invoice, Link
from connector.sync.page import InboundMapper
from connector.sync.payload import load_payload, projection_hash

__all__ = ["resolve_dangling_clients"]

_link = Link.__table__  # type: ignore[attr-defined]
_invoice = Invoice.__table__  # type: ignore[attr-defined]


def resolve_dangling_clients(conn: Connection, connection: str, mapper: InboundMapper) -> int:
    """Give this connection's client-less invoices their client where it is now linked; return how many."""
    rows = links.invoices_without_client(conn, connection)
    if not rows:
        return 0
    wanted: dict[int, tuple[int, object]] = {}
    for link_id, invoice_id, payload in rows:
        try:
            record = mapper.inbound("invoice", load_payload(payload))
        except MappingError:
            continue  # the page writer quarantines what cannot be read; nothing to do here
        if record.client_remote_id:
            wanted[link_id] = (invoice_id, record)
    refs = {record.client_remote_id for _, record in wanted.values()}  # type: ignore[attr-defined]
    clients = links.existing_links(conn, connection, "client", sorted(refs))
    fixed = []
    for link_id, (invoice_id, record) in wanted.items():
        client = clients.get(record.client_remote_id)  # type: ignore[attr-defined]
        if client is None or client.deleted:
            continue
        conn.execute(
            update(_invoice)
            .where(_invoice.c.id == invoice_id)
            .values(client_id=client.entity_id, version=_invoice.c.version + 1)
        )
        conn.execute(
            update(_link)
            .where(_link.c.id == link_id)
            .values(projection_hash=projection_hash(record, ref=client.entity_id))  # type: ignore[arg-type]
        )
        fixed.append(link_id)
    links.mark_versions_held(conn, "invoice", fixed)
    return len(fixed)
