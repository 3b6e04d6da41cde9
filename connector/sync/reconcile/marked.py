"""The connector's own creates, recognised on a pull by the marker it left on them.

A create whose answer was lost (a timeout, a dropped connection) stays a pending outbox row until the push
looks for it (`Provider.find_marked`). A pull of that service in between sees the record the service made
and, finding no link, would take it for a new one: a second canonical record, pushed everywhere. Providers
report the connector's marker on what they read (`RawRecord.marker`); a new record carrying the marker of a
pending create is that create, and is linked to its entity instead (DESIGN.md "Reconcile": "the connector's
own marker on invoices it pushed").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import Connection

from connector.store import outbox

__all__ = ["own_creates", "pending_by_marker"]


def pending_by_marker(
    pending: Mapping[str, tuple[int, int]], mark: Callable[[str], str]
) -> dict[str, tuple[int, int]]:
    """Pending creates by the marker each leaves: marker -> (entity id, version).

    Args:
        pending: idempotency key -> (entity id, version) of the pending creates.
        mark: the marker a create with a given idempotency key leaves at the service.
    """
    return {mark(key): target for key, target in pending.items()}


def own_creates(
    conn: Connection, connection: str, kind: str, markers: Sequence[str | None], mark: Callable[[str], str]
) -> dict[int, tuple[int, int]]:
    """{position in `markers`: (entity id, version)} for new records that are the connector's pending creates."""
    creates = pending_by_marker(outbox.pending_creates(conn, connection, kind), mark)
    return {i: creates[m] for i, m in enumerate(markers) if m is not None and m in creates}
