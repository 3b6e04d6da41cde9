"""Invoices: the issuing connection speaks for all of it, a copy only for payments made there; lines follow.

An invoice belongs to the connection that issued it (`origin_connection`). A service holding a copy the push
made (`copies`) can only move its payment state; a copy read back that moves nothing of it changes nothing.
An invoice's lines are written with it, except a copy's: the lines are the origin's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from connector.domain import EntityKind
from connector.store import entities, links
from connector.store.runs import QuarantineItem
from connector.sync.reconcile.base import Reconciler, resolved
from connector.sync.reconcile.change import Change, Context, Incoming
from connector.sync.reconcile.copies import is_copy, merge_invoice_row, moves_copy_state
from connector.sync.reconcile.counts import PageCounts

__all__ = ["InvoiceReconciler"]


class InvoiceReconciler(Reconciler):
    """The invoice rules (see the module doc)."""

    kind = EntityKind.INVOICE.value

    def resolve(
        self,
        conn: Connection,
        connection: str,
        batch: Sequence[Incoming],
        live: Mapping[str, Mapping[str, int]],
        counts: PageCounts,
    ) -> tuple[list[Incoming], list[QuarantineItem]]:
        """The invoice's client, where the connection holds it; an unknown client is counted, not fatal."""
        refs = {incoming.record.client_remote_id for incoming in batch if incoming.record.client_remote_id}
        found = links.existing_links(conn, connection, EntityKind.CLIENT, sorted(refs))
        out = []
        for incoming in batch:
            ref = incoming.record.client_remote_id
            out.append(resolved(incoming, found[ref].entity_id if ref in found else None))
            counts.unresolved_refs += int(bool(ref) and ref not in found)
        return out, []

    def new_row(self, ctx: Context, incoming: Incoming) -> dict[str, Any]:
        """The invoice as its issuing connection gives it."""
        return entities.invoice_row(incoming.record, incoming.ref_id, ctx.connection, ctx.now)

    def changes(self, conn: Connection, ctx: Context, moved: Sequence[Incoming]) -> list[Change]:
        """Invoices merged by origin (`copies.merge_invoice_row`); without copies that move no payment state."""
        if not moved:
            return []
        stored = entities.current_rows(conn, EntityKind.INVOICE, [incoming.entity_id for incoming in moved])
        kept = []
        for incoming in moved:
            previous = stored.get(incoming.entity_id)
            theirs = self.new_row(ctx, incoming)
            row = theirs if previous is None else merge_invoice_row(theirs, previous, ctx.connection)
            copy = previous is not None and is_copy(previous, ctx.connection)
            if copy and previous is not None and not moves_copy_state(row, previous) and not incoming.deleted:
                continue
            kept.append(Change(incoming, row, previous, theirs))
        return kept

    def after_write(
        self, conn: Connection, ctx: Context, created: Sequence[tuple[int, Incoming]], changed: Sequence[Change]
    ) -> None:
        """The lines of new invoices, and of changed ones the connection issued (a copy's lines are ours)."""
        entities.replace_lines(conn, [(entity_id, incoming.record) for entity_id, incoming in created], fresh=True)
        own = [c for c in changed if c.previous is None or not is_copy(c.previous, ctx.connection)]
        entities.replace_lines(conn, [(c.entity_id, c.incoming.record) for c in own], fresh=False)
