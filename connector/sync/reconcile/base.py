"""What a reconciler of one entity kind answers; the stage (`stage.reconcile`) asks in a fixed order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from connector.store.runs import QuarantineItem
from connector.sync.payload import projection_hash
from connector.sync.reconcile.change import Change, Context, Incoming
from connector.sync.reconcile.counts import PageCounts

__all__ = ["Reconciler", "resolved"]


def resolved(incoming: Incoming, ref_id: int | None) -> Incoming:
    """`incoming` with the canonical id of what it refers to, and its projection hash computed with it."""
    i = incoming  # built directly: `dataclasses.replace` costs more than the rest of this on the hot path
    return Incoming(
        i.remote_id, i.text, i.payload_hash, i.data, i.record, i.link, i.marker, i.change_stamp, ref_id,
        projection_hash(i.record, ref=ref_id), i.again,
    )


class Reconciler:
    """One entity kind's rules. The defaults are a kind that refers to nothing and has no rules of its own."""

    kind: str = ""

    def resolve(
        self,
        conn: Connection,
        connection: str,
        batch: Sequence[Incoming],
        live: Mapping[str, Mapping[str, int]],
        counts: PageCounts,
    ) -> tuple[list[Incoming], list[QuarantineItem]]:
        """Turn the batch's remote references into canonical ids.

        Args:
            live: per kind, remote id -> canonical id of the records this page stored already.

        Returns:
            The records to reconcile (resolved) and those to quarantine (a reference that must exist does not).
        """
        return [resolved(incoming, None) for incoming in batch], []

    def match(self, conn: Connection, ctx: Context, new: Sequence[Incoming]) -> dict[int, tuple[int, int]]:
        """{position in `new`: (entity id, version it holds)} for new records that are a known entity."""
        return {}

    def new_row(self, ctx: Context, incoming: Incoming) -> dict[str, object]:
        """The canonical row of a record seen for the first time."""
        raise NotImplementedError

    def changes(self, conn: Connection, ctx: Context, moved: Sequence[Incoming]) -> list[Change]:
        """The changes linked records whose projection moved make, without those that change nothing."""
        raise NotImplementedError

    def holds(self, ctx: Context, change: Change) -> bool:
        """Whether the service the change came from holds the row written (nothing to push back to it)."""
        return True

    def after_write(
        self, conn: Connection, ctx: Context, created: Sequence[tuple[int, Incoming]], changed: Sequence[Change]
    ) -> None:
        """Write what belongs to the kind's rows (an invoice's lines), after them."""
