"""The reconcile stage: one kind of one page, matched, merged, judged and written, by that kind's reconciler.

In order: a new record that is the connector's own pending create (its marker) or a known entity (the kind's
identity rules) is linked to it; the other new ones are inserted. A linked record whose canonical projection
moved becomes a `Change` (the kind's rules drop what changes nothing: echoes, copies, own writes); a change
to an entity that moved elsewhere since this connection last had it is a conflict the policy decides (a
`conflict` row each); the rest are written, and the links record the payload. A change the service holds
as written marks its link as holding the new version (echo suppression).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from connector.clock import as_utc
from connector.store import entities, links
from connector.store.conflicts import insert_conflict
from connector.sync.reconcile.base import Reconciler
from connector.sync.reconcile.change import Change, Context, Incoming
from connector.sync.reconcile.client import ClientReconciler
from connector.sync.reconcile.conflicts import CANONICAL, decide_conflict, versions_of
from connector.sync.reconcile.counts import PageCounts
from connector.sync.reconcile.invoice import InvoiceReconciler
from connector.sync.reconcile.marked import own_creates
from connector.sync.reconcile.payment import PaymentReconciler

__all__ = ["RECONCILERS", "reconcile"]

RECONCILERS: dict[str, Reconciler] = {
    r.kind: r for r in (ClientReconciler(), InvoiceReconciler(), PaymentReconciler())
}


def reconcile(
    conn: Connection, ctx: Context, reconciler: Reconciler, batch: Sequence[Incoming], counts: PageCounts
) -> dict[str, int]:
    """Reconcile and write a kind's changed records (resolved: see `Reconciler.resolve`).

    Returns:
        Remote id -> canonical id of the records written as a new entity or over their linked one (not of
        those linked to an existing entity), so a later kind of the page can refer to them.
    """
    kind = reconciler.kind
    stored = {incoming.remote_id: incoming.entity_id for incoming in batch if incoming.link is not None}
    new = [incoming for incoming in batch if incoming.link is None]
    if ctx.mark is not None and any(incoming.marker for incoming in new):
        new = _link_matched(conn, ctx, kind, new, own_creates(conn, ctx.connection, kind, [i.marker for i in new],
                                                              ctx.mark), counts)
    if new:
        new = _link_matched(conn, ctx, kind, new, reconciler.match(conn, ctx, new), counts)
    ids = entities.insert_entities(conn, kind, [reconciler.new_row(ctx, incoming) for incoming in new], ctx.now)
    links.insert_links(
        conn,
        ctx.connection,
        kind,
        [
            links.NewLink(i, c.remote_id, c.payload_hash, c.projection, c.change_stamp, c.text)
            for i, c in zip(ids, new, strict=True)
        ],
        ctx.now,
    )
    counts.created += len(new)
    stored.update((c.remote_id, i) for i, c in zip(ids, new, strict=True))
    old = [incoming for incoming in batch if incoming.link is not None]
    # A new payload whose canonical projection is unchanged (a reformatting) only refreshes the link.
    moved = [c for c in old if c.link is not None and (c.link.projection_hash != c.projection or c.link.deleted)]
    changes = _settle_conflicts(conn, ctx, kind, reconciler.changes(conn, ctx, moved), counts)
    entities.update_entities(conn, kind, [(c.entity_id, c.row) for c in changes])
    links.update_links(
        conn, [(c.link, c.payload_hash, c.projection, c.change_stamp, c.text) for c in old if c.link], ctx.now
    )
    # The source of a change holds the new version: nothing to push back to it (echo suppression), unless the
    # merge kept stored values it lacks (a field changed elsewhere since): then the push brings them.
    links.mark_versions_held(conn, kind, [c.link.link_id for c in changes if reconciler.holds(ctx, c)])
    counts.updated += len(changes)
    counts.unchanged += len(old) - len(changes)
    reconciler.after_write(conn, ctx, list(zip(ids, new, strict=True)), changes)
    return stored


def _settle_conflicts(
    conn: Connection, ctx: Context, kind: str, changes: list[Change], counts: PageCounts
) -> list[Change]:
    """Decide records changed here and elsewhere since this service last had them; return those to apply."""
    stale = [c for c in changes if c.link.entity_version is not None and not c.link.deleted]
    if not stale:
        return changes
    versions = entities.current_versions(conn, kind, [c.entity_id for c in stale])
    behind = [c for c in stale if versions.get(c.entity_id, 0) > (c.link.entity_version or 0)]
    if not behind:
        return changes
    unread = [c.entity_id for c in behind if c.previous is None]
    read = entities.current_rows(conn, kind, unread) if unread else {}
    overruled: set[int] = set()
    for change in behind:
        current = change.previous if change.previous is not None else read[change.entity_id]
        decision = decide_conflict(
            ctx.policy,
            kind,
            ctx.connection,
            current,
            change.row,
            change.before,
            getattr(change.incoming.record, "remote_updated_at", None),
            seen=(ctx.now, as_utc(current.get("updated_at"))),
        )
        if decision is None:
            continue
        insert_conflict(
            conn,
            kind,
            change.entity_id,
            ",".join(sorted(decision.diff)) or "*",
            decision.policy,
            versions_of(decision.diff, ctx.connection),
            decision.winner,
            ctx.now,
        )
        counts.conflicts += 1
        if decision.winner == CANONICAL:
            overruled.add(id(change))
    return [c for c in changes if id(c) not in overruled]


def _link_matched(
    conn: Connection,
    ctx: Context,
    kind: str,
    new: list[Incoming],
    matched: dict[int, tuple[int, int]],
    counts: PageCounts,
) -> list[Incoming]:
    """Link `new[i]` to an existing entity for each i -> (entity id, version it holds); return the unmatched."""
    if not matched:
        return new
    links.insert_links(
        conn,
        ctx.connection,
        kind,
        [
            links.NewLink(
                entity_id,
                new[i].remote_id,
                new[i].payload_hash,
                new[i].projection,
                new[i].change_stamp,
                new[i].text,
                entity_version=version,
            )
            for i, (entity_id, version) in matched.items()
        ],
        ctx.now,
    )
    counts.matched += len(matched)
    return [c for i, c in enumerate(new) if i not in matched]
