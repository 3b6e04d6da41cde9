"""Apply one page of raw records to the store: hash first, map only what changed, write in bulk.

Runs inside the caller's transaction, so the page's records, its quarantine rows and its cursor commit
together. Unchanged records (same payload hash as the link remembers) cost one hash and no write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection

from connector.domain import KIND_ORDER
from connector.errors import MappingError
from connector.providers.base import RawRecord
from connector.providers.markers import marker
from connector.store import entities, links, runs
from connector.sync.payload import digest, dump_payload
from connector.sync.reconcile.change import Context, Incoming
from connector.sync.reconcile.conflicts import ConflictPolicy
from connector.sync.reconcile.counts import PageCounts
from connector.sync.reconcile.stage import RECONCILERS, reconcile
from connector.sync.validate import check_record

__all__ = ["KIND_ORDER", "InboundMapper", "PageCounts", "apply_records", "apply_stored", "soft_delete_remote"]


class InboundMapper(Protocol):
    """The part of a bound mapping the pull needs."""

    def inbound(self, entity: str, raw: dict[str, Any]) -> Any:
        """Map one raw record of `entity` to its canonical record."""
        ...


def apply_records(
    conn: Connection,
    mapper: InboundMapper,
    connection: str,
    stream: str,
    records: Sequence[RawRecord],
    now: datetime,
    resolve_quarantine: bool,
    policy: ConflictPolicy | None = None,
    again: bool = False,
) -> PageCounts:
    """Store one page of raw records and return what happened (`again`: map every record, even a payload the link
    already holds: see `apply_stored`)."""
    counts = PageCounts(read=len(records))
    grouped: dict[str, dict[str, RawRecord]] = {}
    for raw in records:  # an overlapping page may repeat a record: the last copy wins
        grouped.setdefault(raw.kind, {})[raw.remote_id] = raw
    live: dict[str, dict[str, int]] = {}  # per kind: remote id -> canonical id, of this page's stored records
    for kind in (k.value for k in KIND_ORDER):
        batch = grouped.pop(kind, None)
        if batch:
            live[kind] = _apply_kind(
                conn,
                mapper,
                connection,
                stream,
                kind,
                list(batch.values()),
                now,
                counts,
                resolve_quarantine,
                policy,
                live,
                again,
            )
    if grouped:
        raise ValueError(f"provider yielded unknown entity kinds: {sorted(grouped)}")
    return counts


def apply_stored(
    conn: Connection,
    mapper: InboundMapper,
    connection: str,
    stream: str,
    records: Sequence[RawRecord],
    now: datetime,
    policy: ConflictPolicy | None = None,
) -> PageCounts:
    """Map payloads the store already holds again (`connector remap`, the quarantine replay) through the page path:
    the same reconcile and writes as a pull, without the hash-first shortcut (the payload is one the link holds;
    the mapping is what changed), settling the quarantine of what now stores."""
    return apply_records(conn, mapper, connection, stream, records, now, True, policy, again=True)


def _apply_kind(
    conn: Connection,
    mapper: InboundMapper,
    connection: str,
    stream: str,
    kind: str,
    batch: list[RawRecord],
    now: datetime,
    counts: PageCounts,
    resolve_quarantine: bool,
    policy: ConflictPolicy | None,
    live: dict[str, dict[str, int]],
    again: bool = False,
) -> dict[str, int]:
    """Store one kind's records of a page: hash first, map what changed, reconcile it (`reconcile.stage`).

    Returns:
        Remote id -> canonical id for records of the batch that are stored and live now (unchanged, or
        written as a new entity or over their linked one), so a later kind of the page can refer to
        them without asking the store; the others (quarantined, matched to an existing entity) are
        left for the store to answer.
    """
    reconciler = RECONCILERS[kind]
    known = links.existing_links(conn, connection, kind, [r.remote_id for r in batch])
    mapped: list[Incoming] = []
    bad: list[runs.QuarantineItem] = []
    stored: dict[str, int] = {}
    for raw in batch:
        text = raw.text if raw.text is not None else dump_payload(raw.data)
        payload_hash = digest(text)
        link = known.get(raw.remote_id)
        if link is not None and link.payload_hash == payload_hash and not link.deleted and not again:
            counts.unchanged += 1
            stored[raw.remote_id] = link.entity_id
            continue
        try:
            record = mapper.inbound(kind, raw.data)
            check_record(record)
        except MappingError as exc:
            bad.append(runs.QuarantineItem(kind, raw.remote_id, text, payload_hash, str(exc)))
            continue
        mapped.append(
            Incoming(raw.remote_id, text, payload_hash, raw.data, record, link, raw.marker, raw.change_stamp,
                     again=again)
        )
    changes, missing = reconciler.resolve(conn, connection, mapped, live, counts)
    bad.extend(missing)
    counts.quarantined += runs.quarantine(conn, connection, stream, bad, now)
    if not changes:
        return stored
    reads = getattr(mapper, "reads", None)  # a mapping that cannot say what it reads is taken whole
    ctx = Context(
        connection,
        now,
        policy or ConflictPolicy(),
        reads=reads(kind) if reads is not None else None,
        inbound=mapper.inbound,
        outbound=getattr(mapper, "outbound", None),  # to recognise the connector's own writes read back
        mark=marker,
    )
    stored.update(reconcile(conn, ctx, reconciler, changes, counts))
    counts.by_kind[kind] = counts.by_kind.get(kind, 0) + len(changes)
    if resolve_quarantine:
        runs.resolve_quarantine(conn, connection, kind, [c.remote_id for c in changes], now)
    return stored


def soft_delete_remote(conn: Connection, connection: str, kind: str, remote_ids: Iterable[str], now: datetime) -> int:
    """Soft-delete the canonical entities behind `remote_ids` (found gone at the service)."""
    known = links.existing_links(conn, connection, kind, sorted(set(remote_ids)))
    targets = [(k.link_id, k.entity_id) for k in known.values() if not k.deleted]
    return entities.soft_delete(conn, connection, kind, targets, now)
