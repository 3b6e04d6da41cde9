"""Payments: each names its invoice, which must be stored; a copy of a payment is the push's own echo.

A payment is an event registered at one service. The copies the push made elsewhere carry the write ledger
on their link, and reading one back contributes nothing (`copies.payment_is_echo`).
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
from connector.sync.reconcile.copies import payment_is_echo
from connector.sync.reconcile.counts import PageCounts

__all__ = ["PaymentReconciler"]


class PaymentReconciler(Reconciler):
    """The payment rules (see the module doc)."""

    kind = EntityKind.PAYMENT.value

    def resolve(
        self,
        conn: Connection,
        connection: str,
        batch: Sequence[Incoming],
        live: Mapping[str, Mapping[str, int]],
        counts: PageCounts,
    ) -> tuple[list[Incoming], list[QuarantineItem]]:
        """The payment's invoice: taken from this page (`live`) or looked up; a payment without one waits.

        A payment's invoice that this very page stored is what the store would answer now, so it is not asked.
        """
        refs = {incoming.record.invoice_remote_id for incoming in batch}
        invoices = live.get(EntityKind.INVOICE, {})
        stored = {ref: invoices[ref] for ref in refs if ref in invoices}
        looked_up = links.existing_links(conn, connection, EntityKind.INVOICE, sorted(refs - stored.keys()))
        stored.update((ref, link.entity_id) for ref, link in looked_up.items() if not link.deleted)
        out: list[Incoming] = []
        missing: list[QuarantineItem] = []
        for incoming in batch:
            ref = incoming.record.invoice_remote_id
            if ref in stored:
                out.append(resolved(incoming, stored[ref]))
            else:
                missing.append(
                    QuarantineItem(
                        self.kind,
                        incoming.remote_id,
                        incoming.text,
                        incoming.payload_hash,
                        f"payment.invoice_remote_id: invoice {ref} is not stored (quarantined or unknown)",
                    )
                )
        return out, missing

    def new_row(self, ctx: Context, incoming: Incoming) -> dict[str, Any]:
        """The payment as the service gives it."""
        return entities.payment_row(incoming.record, incoming.ref_id, ctx.now)

    def changes(self, conn: Connection, ctx: Context, moved: Sequence[Incoming]) -> list[Change]:
        """Changed payments, without the push's own copies read back."""
        return [
            Change(incoming, self.new_row(ctx, incoming), None)
            for incoming in moved
            if not payment_is_echo(incoming.link.written_hash if incoming.link else None, incoming.deleted)
        ]
