"""The connector's own creates, recognised on a pull by the marker it left on them.

A create whose answer was lost (a timeout, a dropped connection) stays a pending outbox row until the push
looks for it (`Provider.find_marked`). A pull of that service in between sees the record the service made
and, finding no link, would take it for a new one: a second canonical record, pushed everywhere. Providers
report the connector's marker on what they read (`RawRecord.marker`); a new record carrying the marker of a
pending create is that create, and is linked to its entity instead (DESIGN.md "Reconcile": "the connector's
own marker on invoices it pushed").
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from connector.providers.markers import marker
from connector.store.tables import Outbox

__all__ = ["pending_creates"]

_outbox = Outbox.__table__  # type: ignore[attr-defined]


def pending_creates(conn: Connection, connection: str, kind: str) -> dict[str, tuple[int, int]]:
    """The pending creates of `kind` at `connection`, by the marker they leave: marker -> (entity id, version)."""
    c = _outbox.c
    rows = conn.execute(
        select(c.entity_id, c.idempotency_key, c.payload).where(
            c.connection == connection, c.entity_kind == kind, c.operation == "create", c.status == "pending"
        )
    )
    return {marker(key): (int(entity_id), int((payload or {}).get("version", 0))) for entity_id, key, payload in rows}
