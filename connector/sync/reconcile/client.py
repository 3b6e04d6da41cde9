"""Clients: identity across services, a three-way merge, own writes read back, and conflicts.

- Identity (`store.identity.match_clients`): a client new at a connection that has the same normalised
  e-mail, VAT number or external id as a canonical client is that client.
- Merge (`merge`): a service speaks for the fields its mapping reads, and of those only for the ones it
  changed since the connector last saw it there (its last payload read, or the image the push wrote).
- Own writes (`merge.is_own_write`): a client read back as the connector last wrote it there changes
  nothing; the service holds an older version only because the push has not brought it the newer one yet.
- Held (`holds`): when the merge kept stored values the service lacks, the service needs the push, unless
  what was kept reads the same on its wire (a spelling of its own, like an E.164 phone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from typing import Any

from sqlalchemy import Connection

from connector.domain import CanonicalClient, EntityKind
from connector.errors import MappingError
from connector.store import entities, identity, links
from connector.sync.ledger import is_written
from connector.sync.payload import load_payload
from connector.sync.reconcile.base import Reconciler
from connector.sync.reconcile.change import Change, Context, Incoming
from connector.sync.reconcile.conflicts import differs
from connector.sync.reconcile.merge import column_of, is_own_write, merge_row, seen_there, unchanged_there

__all__ = ["ClientReconciler", "kept_values"]

# canonical client field -> its column (the ids and times at the service are not the merge's)
_CLIENT_COLUMNS = {
    f.name: column_of(f.name) for f in fields(CanonicalClient) if f.name not in ("remote_id", "remote_updated_at")
}


def kept_values(theirs: Mapping[str, Any], merged: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical client fields whose merged value is not the service's own (what the merge kept).

    ``archived`` becomes a flag, as the canonical record carries it.
    """
    kept = {name: merged[column] for name, column in _CLIENT_COLUMNS.items() if merged[column] != theirs[column]}
    if "archived" in kept:
        kept["archived"] = kept["archived"] is not None
    return kept


class ClientReconciler(Reconciler):
    """The client rules (see the module doc)."""

    kind = EntityKind.CLIENT.value

    def match(self, conn: Connection, ctx: Context, new: Sequence[Incoming]) -> dict[int, tuple[int, int]]:
        """New clients that are a known canonical client by the identity rules, with the version it holds."""
        matched = identity.match_clients(conn, ctx.connection, [incoming.record for incoming in new])
        versions = entities.current_versions(conn, EntityKind.CLIENT, list(matched.values())) if matched else {}
        return {i: (entity_id, versions[entity_id]) for i, entity_id in matched.items()}

    def new_row(self, ctx: Context, incoming: Incoming) -> dict[str, Any]:
        """The client as the service gives it."""
        return entities.client_row(incoming.record, ctx.now)

    def changes(self, conn: Connection, ctx: Context, moved: Sequence[Incoming]) -> list[Change]:
        """Merged clients; without those the merge leaves as stored, or that are the connector's own write."""
        if not moved:
            return []
        stored = entities.current_rows(conn, EntityKind.CLIENT, [incoming.entity_id for incoming in moved])
        live = [incoming for incoming in moved if not incoming.deleted]
        wanted = live if ctx.inbound is not None or ctx.outbound is not None else []
        payloads = links.last_seen_payloads(conn, [incoming.link_id for incoming in wanted]) if wanted else {}
        kept: list[Change] = []
        for incoming in moved:
            previous = stored.get(incoming.entity_id)
            theirs = entities.client_row(incoming.record, ctx.now)
            text = None if incoming.deleted else payloads.get(incoming.link_id)
            before = self._last_seen(ctx, incoming, text)
            held = incoming.link.entity_version if incoming.link else None
            if incoming.again and previous is not None and held == previous["version"]:
                before = None  # remapped, and its service holds it as it stands: the mapping speaks for it all
            unchanged = (
                unchanged_there(theirs, before, ctx.reads) if before is not None and previous is not None
                else frozenset()
            )
            row = theirs if previous is None else merge_row(theirs, previous, ctx.reads, unchanged)
            if previous is not None and not differs(previous, row) and not incoming.deleted:
                continue  # e.g. a service that lacks a field reads back the record the push gave it
            if self._own_write(ctx, incoming, text):
                continue
            kept.append(Change(incoming, row, previous, theirs, before, unchanged))
        return kept

    def holds(self, ctx: Context, change: Change) -> bool:
        """Whether what the merge kept instead of the service's own values reads the same on its wire."""
        if not change.unchanged or change.previous is None:
            return True
        kept = kept_values(change.theirs, change.row)
        if not kept:
            return True
        if ctx.outbound is None:
            return False
        record = change.incoming.record
        try:
            ours, service = ctx.outbound(self.kind, replace(record, **kept)), ctx.outbound(self.kind, record)
        except MappingError:
            return False
        return is_own_write(ours, service) and is_own_write(service, ours)

    @staticmethod
    def _last_seen(ctx: Context, incoming: Incoming, text: str | None) -> dict[str, Any] | None:
        """The client row of what the service held when last seen there (`merge.seen_there`), where it maps."""
        if ctx.inbound is None or text is None or not isinstance(incoming.data, dict):
            return None
        try:
            then = load_payload(text)
            if not isinstance(then, dict):
                return None
            image = is_written(then, incoming.link.written_hash if incoming.link else None)
            return entities.client_row(ctx.inbound("client", seen_there(incoming.data, then, image)), ctx.now)
        except (MappingError, ValueError, TypeError):
            return None  # not readable as a record of this mapping (an old format): the merge takes what came

    def _own_write(self, ctx: Context, incoming: Incoming, text: str | None) -> bool:
        """Whether the record reads back as the connector last wrote it there (the write ledger)."""
        written = incoming.link.written_hash if incoming.link is not None else None
        if ctx.outbound is None or not written or text is None:
            return False
        image = load_payload(text)
        if not is_written(image, written):
            return False  # the service's copy was read since the write: an ordinary change
        try:
            return is_own_write(image, ctx.outbound(self.kind, incoming.record))
        except MappingError:
            return False  # not writable as it is, so not what the connector wrote
