"""Invoices stored before their client: link them once the client arrives, from their kept raw payload.

An invoice can reach the store before its client (a person adds both between the clients and the
invoices stream, or the client fails mapping for a while). Its `client_id` stays NULL and, as its payload
does not change, the page writer never looks at it again; this pass re-maps those invoices' raw payloads
after a run and fills in the client where the connection now knows it.
"""

from __future__ import annotations

from sqlalchemy import Connection

from connector.domain import EntityKind
from connector.errors import MappingError
from connector.store import dangling, links
from connector.sync.payload import load_payload, projection_hash
from connector.sync.pull.page import InboundMapper

__all__ = ["resolve_dangling_clients"]


def resolve_dangling_clients(conn: Connection, connection: str, mapper: InboundMapper) -> int:
    """Give this connection's client-less invoices their client where it is now linked; return how many."""
    rows = dangling.client_less_invoices(conn, connection)
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
    clients = links.existing_links(conn, connection, EntityKind.CLIENT, sorted(refs))
    fixed = []
    for link_id, (invoice_id, record) in wanted.items():
        client = clients.get(record.client_remote_id)  # type: ignore[attr-defined]
        if client is None or client.deleted:
            continue
        dangling.give_client(
            conn, invoice_id, client.entity_id, link_id, projection_hash(record, ref=client.entity_id)  # type: ignore[arg-type]
        )
        fixed.append(link_id)
    links.mark_versions_held(conn, EntityKind.INVOICE, fixed)
    return len(fixed)
