"""Apply one page of raw records to the store: hash first, map only what changed, write in bulk.

Runs inside the caller's transaction, so the page's records, its quarantine rows and its cursor commit
together. Unchanged records (same payload hash as the link remembers) cost one hash and no write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection

from connector.clock import as_utc
from connector.domain import CanonicalClient, CanonicalInvoice, CanonicalPayment, CanonicalRecord
from connector.errors import MappingError
from connector.providers.base import RawRecord
from connector.store import entities, identity, links, runs
from connector.sync.conflicts import CANONICAL, ConflictPolicy, changed_fields, contested, differs, record_conflict
from connector.sync.copies import COPY_STATE, is_copy, merge_invoice_row
from connector.sync.marked import pending_creates
from connector.sync.merge import ReadsFields, column_of, is_own_write, merge_row, unchanged_there
from connector.sync.payload import digest, dump_payload, load_payload, projection_hash
from connector.sync.push_wire import ledger_hash
from connector.sync.validate import check_record

__all__ = ["KIND_ORDER", "InboundMapper", "PageCounts", "apply_records", "apply_stored", "soft_delete_remote"]

KIND_ORDER = ("client", "invoice", "payment")


Outbound = Callable[[str, Any], dict[str, Any]]
Inbound = Callable[[str, Any], Any]


class InboundMapper(Protocol):
    """The part of a bound mapping the pull needs."""

    def inbound(self, entity: str, raw: dict[str, Any]) -> Any:
        """Map one raw record of `entity` to its canonical record."""
        ...


@dataclass(slots=True)
class PageCounts:
    """What one page (or a whole run, summed) did to the store."""

    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    quarantined: int = 0
    unresolved_refs: int = 0
    matched: int = 0  # new remote records linked to a canonical entity another service already gave
    conflicts: int = 0  # changed here and elsewhere since this service last had the record
    by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, other: PageCounts) -> None:
        """Accumulate `other` into this one."""
        for name in (
            "read", "created", "updated", "unchanged", "deleted", "quarantined", "unresolved_refs", "matched",
            "conflicts",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind, n in other.by_kind.items():
            self.by_kind[kind] = self.by_kind.get(kind, 0) + n


@dataclass(slots=True)
class _Change:
    raw: RawRecord
    text: str
    payload_hash: str
    record: Any
    link: links.KnownLink | None
    projection: str = ""
    ref_id: int | None = None
    stored: dict[str, Any] | None = None  # an updated record's canonical row as stored
    reads: ReadsFields | None = None  # the fields the connection's mapping fills (a client's merge)
    unchanged: frozenset[str] = frozenset()  # columns the service has not changed since last seen there
    before: dict[str, Any] | None = None  # a client's row as its service held it when last seen there
    again: bool = False  # a stored payload mapped again (`apply_stored`), not one just read


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
    for kind in KIND_ORDER:
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
    """Store one kind's records of a page.

    Returns:
        Remote id -> canonical id for records of the batch that are stored and live now (unchanged, or
        written as a new entity or over their linked one), so a later kind of the page can refer to
        them without asking the store; the others (quarantined, matched to an existing entity) are
        left for the store to answer.
    """
    known = links.existing_links(conn, connection, kind, [r.remote_id for r in batch])
    changes: list[_Change] = []
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
        changes.append(_Change(raw, text, payload_hash, record, link, again=again))
    bad.extend(_resolve_references(conn, connection, kind, changes, counts, live))
    counts.quarantined += runs.quarantine(conn, connection, stream, bad, now)
    if not changes:
        return stored
    for change in changes:
        change.projection = projection_hash(change.record, ref=change.ref_id)
    reads = getattr(mapper, "reads", None)  # a mapping that cannot say what it reads is taken whole
    for change in changes:
        change.reads = reads(kind) if reads is not None else None
    outbound = getattr(mapper, "outbound", None)  # to recognise the connector's own writes read back
    stored.update(
        _write(conn, connection, kind, changes, now, counts, policy or ConflictPolicy(), outbound, mapper.inbound)
    )
    counts.by_kind[kind] = counts.by_kind.get(kind, 0) + len(changes)
    if resolve_quarantine:
        runs.resolve_quarantine(conn, connection, kind, [c.raw.remote_id for c in changes], now)
    return stored


def _resolve_references(
    conn: Connection,
    connection: str,
    kind: str,
    changes: list[_Change],
    counts: PageCounts,
    live: dict[str, dict[str, int]],
) -> list[runs.QuarantineItem]:
    """Turn remote references into canonical ids: an invoice's client, a payment's invoice.

    A payment's invoice that this very page stored is taken from `live` (what the store would answer
    now); the others are looked up.
    """
    if kind == "invoice":
        refs = {c.record.client_remote_id for c in changes if c.record.client_remote_id}
        found = links.existing_links(conn, connection, "client", sorted(refs))
        for change in changes:
            ref = change.record.client_remote_id
            change.ref_id = found[ref].entity_id if ref in found else None
            counts.unresolved_refs += int(bool(ref) and ref not in found)
        return []
    if kind == "payment":
        refs = {c.record.invoice_remote_id for c in changes}
        invoices = live.get("invoice", {})
        stored = {ref: invoices[ref] for ref in refs if ref in invoices}
        looked_up = links.existing_links(conn, connection, "invoice", sorted(refs - stored.keys()))
        stored.update((ref, link.entity_id) for ref, link in looked_up.items() if not link.deleted)
        missing: list[runs.QuarantineItem] = []
        for change in list(changes):
            ref = change.record.invoice_remote_id
            if ref in stored:
                change.ref_id = stored[ref]
            else:
                changes.remove(change)
                missing.append(
                    runs.QuarantineItem(
                        kind,
                        change.raw.remote_id,
                        change.text,
                        change.payload_hash,
                        f"payment.invoice_remote_id: invoice {ref} is not stored (quarantined or unknown)",
                    )
                )
        return missing
    return []


def _row(kind: str, change: _Change, connection: str, now: datetime) -> dict[str, Any]:
    record: CanonicalRecord = change.record
    if isinstance(record, CanonicalClient):
        row = entities.client_row(record, now)
        return row if change.stored is None else merge_row(row, change.stored, change.reads, change.unchanged)
    if isinstance(record, CanonicalInvoice):
        row = entities.invoice_row(record, change.ref_id, connection, now)
        return row if change.stored is None else merge_invoice_row(row, change.stored, connection)
    assert isinstance(record, CanonicalPayment)
    return entities.payment_row(record, change.ref_id, now)


def _write(
    conn: Connection,
    connection: str,
    kind: str,
    changes: list[_Change],
    now: datetime,
    counts: PageCounts,
    policy: ConflictPolicy,
    outbound: Outbound | None = None,
    inbound: Inbound | None = None,
) -> dict[str, int]:
    """Write a kind's changed records; return remote id -> canonical id of those written as a new entity or
    over their linked one (not those linked to an existing entity: see `_apply_kind`)."""
    stored = {c.raw.remote_id: c.link.entity_id for c in changes if c.link is not None}
    new = [c for c in changes if c.link is None]
    if any(c.raw.marker for c in new):
        new = _link_own_creates(conn, connection, kind, new, now, counts)
    if kind == "client" and new:
        new = _link_known_clients(conn, connection, new, now, counts)
    ids = entities.insert_entities(conn, kind, [_row(kind, c, connection, now) for c in new], now)
    links.insert_links(
        conn,
        connection,
        kind,
        [
            links.NewLink(i, c.raw.remote_id, c.payload_hash, c.projection, c.raw.change_stamp, c.text)
            for i, c in zip(ids, new, strict=True)
        ],
        now,
    )
    counts.created += len(new)
    stored.update((c.raw.remote_id, i) for i, c in zip(ids, new, strict=True))
    old = [c for c in changes if c.link is not None]
    # A new payload whose canonical projection is unchanged (a reformatting) only refreshes the link.
    moved = [c for c in old if c.link is not None and (c.link.projection_hash != c.projection or c.link.deleted)]
    moved = _without_echoes(conn, connection, kind, moved, now)
    moved = _merged_clients(conn, connection, kind, moved, now, inbound)
    moved = _without_own_writes(conn, kind, moved, outbound)
    moved = _settle_conflicts(conn, connection, kind, moved, now, counts, policy)
    entities.update_entities(conn, kind, [(_entity_id(c), _row(kind, c, connection, now)) for c in moved])
    links.update_links(
        conn, [(c.link, c.payload_hash, c.projection, c.raw.change_stamp, c.text) for c in old if c.link], now
    )
    # The source of a change holds the new version: nothing to push back to it (echo suppression), unless the
    # merge kept stored values it lacks (a field changed elsewhere since): then the push brings them.
    held = [c.link.link_id for c in moved if c.link is not None and _holds_merged(kind, c, connection, outbound, now)]
    links.mark_versions_held(conn, kind, held)
    counts.updated += len(moved)
    counts.unchanged += len(old) - len(moved)
    if kind == "invoice":
        entities.replace_lines(conn, [(i, c.record) for i, c in zip(ids, new, strict=True)], fresh=True)
        own = [c for c in moved if c.stored is None or not is_copy(c.stored, connection)]  # a copy's lines are ours
        entities.replace_lines(conn, [(_entity_id(c), c.record) for c in own], fresh=False)
    return stored


def _without_echoes(
    conn: Connection, connection: str, kind: str, moved: list[_Change], now: datetime
) -> list[_Change]:
    """Drop what a copy cannot change (see `copies`): a payment the push put there, an invoice's content."""
    if kind == "payment":
        return [c for c in moved if c.link is None or c.link.deleted or c.link.written_hash is None]
    if kind != "invoice" or not moved:
        return moved
    stored = entities.current_rows(conn, "invoice", [_entity_id(c) for c in moved])
    kept = []
    for change in moved:
        change.stored = stored.get(_entity_id(change))
        if change.stored is not None and is_copy(change.stored, connection):
            row = _row(kind, change, connection, now)
            if all(row[name] == change.stored[name] for name in COPY_STATE) and not change.link.deleted:  # type: ignore[union-attr]
                continue
        kept.append(change)
    return kept


def _without_own_writes(
    conn: Connection, kind: str, moved: list[_Change], outbound: Outbound | None
) -> list[_Change]:
    """Drop clients read back as the connector last wrote them there (see `merge.is_own_write`): the service
    holds an older version only because the push has not brought it the newer one yet; nobody changed it."""
    if kind != "client" or outbound is None:
        return moved
    written = [c for c in moved if c.link is not None and c.link.written_hash and not c.link.deleted]
    if not written:
        return moved
    images = links.raw_payloads(conn, [c.link.link_id for c in written if c.link is not None])
    own: set[int] = set()
    for change in written:
        assert change.link is not None
        image = images.get(change.link.link_id)
        if image is None or ledger_hash(load_payload(image)) != change.link.written_hash:
            continue  # the service's copy was read since the write: an ordinary change
        try:
            if is_own_write(load_payload(image), outbound(kind, change.record)):
                own.add(id(change))
        except MappingError:
            continue  # not writable as it is, so not what the connector wrote
    return [c for c in moved if id(c) not in own]


def _merged_clients(
    conn: Connection, connection: str, kind: str, moved: list[_Change], now: datetime, inbound: Inbound | None
) -> list[_Change]:
    """Merge updated clients field by field (see `merge`); drop those whose merge changes nothing stored."""
    if kind != "client" or not moved:
        return moved
    stored = entities.current_rows(conn, "client", [_entity_id(c) for c in moved])
    before = _last_seen(conn, moved, inbound, now)
    kept = []
    for change in moved:
        change.stored = stored.get(_entity_id(change))
        change.before = before.get(id(change))
        if change.again and change.link and change.stored and change.link.entity_version == change.stored["version"]:
            change.before = None  # remapped, and its service holds it as it stands: the mapping speaks for it all
        if change.before is not None and change.stored is not None:
            change.unchanged = unchanged_there(entities.client_row(change.record, now), change.before, change.reads)
        deleted = change.link is not None and change.link.deleted
        same = change.stored is not None and not differs(change.stored, _row(kind, change, connection, now))
        if same and not deleted:
            continue  # e.g. a service that lacks a field reads back the record the push gave it
        kept.append(change)
    return kept


def _holds_merged(kind: str, change: _Change, connection: str, outbound: Outbound | None, now: datetime) -> bool:
    """Whether the service that sent `change` holds the merged client (see `merge`): what the merge kept instead of
    the service's own values reads the same on its wire (a spelling of its own, like an E.164 phone)."""
    if kind != "client" or not change.unchanged or change.stored is None:
        return True
    theirs, merged = entities.client_row(change.record, now), _row(kind, change, connection, now)
    kept = {name: merged[column] for name, column in _CLIENT_COLUMNS.items() if merged[column] != theirs[column]}
    if not kept:
        return True
    if outbound is None:
        return False
    if "archived" in kept:
        kept["archived"] = kept["archived"] is not None
    try:
        ours, service = outbound(kind, replace(change.record, **kept)), outbound(kind, change.record)
    except MappingError:
        return False
    return is_own_write(ours, service) and is_own_write(service, ours)


# canonical client field -> its column (the ids and times at the service are not the merge's)
_CLIENT_COLUMNS = {
    f.name: column_of(f.name) for f in fields(CanonicalClient) if f.name not in ("remote_id", "remote_updated_at")
}


def _last_seen(
    conn: Connection, moved: list[_Change], inbound: Inbound | None, now: datetime
) -> dict[int, dict[str, Any]]:
    """Per change (by id()): the client row of what its service held when last seen there, where it maps.

    That is the link's raw record: the payload last read, or the image the push last wrote. A payload read
    from the service is whole: a key it lacks was empty there (hydra leaves nulls out), so a value that
    appears since is a change. An image holds only what the connector sends (no id, no service timestamps);
    the keys it lacks are read from the new payload, so they count as unchanged and the fields the connector
    wrote are compared as written. The image is the raw record whose ledger hash the link keeps.
    """
    live = [c for c in moved if c.link is not None and not c.link.deleted and isinstance(c.raw.data, dict)]
    if inbound is None or not live:
        return {}
    payloads = links.raw_payloads(conn, [c.link.link_id for c in live if c.link is not None])
    rows: dict[int, dict[str, Any]] = {}
    for change in live:
        assert change.link is not None
        text = payloads.get(change.link.link_id)
        if text is None:
            continue
        try:
            then = load_payload(text)
            if isinstance(then, dict):
                image = change.link.written_hash is not None and ledger_hash(then) == change.link.written_hash
                seen = {**change.raw.data, **then} if image else then
                rows[id(change)] = entities.client_row(inbound("client", seen), now)
        except (MappingError, ValueError, TypeError):
            continue  # not readable as a record of this mapping (an old format): the merge takes what came
    return rows


def _settle_conflicts(
    conn: Connection,
    connection: str,
    kind: str,
    moved: list[_Change],
    now: datetime,
    counts: PageCounts,
    policy: ConflictPolicy,
) -> list[_Change]:
    """Decide records changed here and elsewhere since this service last had them; return those to apply."""
    stale = [c for c in moved if c.link is not None and c.link.entity_version is not None and not c.link.deleted]
    if not stale:
        return moved
    versions = entities.current_versions(conn, kind, [_entity_id(c) for c in stale])
    behind = [c for c in stale if versions.get(_entity_id(c), 0) > (c.link.entity_version or 0)]  # type: ignore[union-attr]
    if not behind:
        return moved
    stored = entities.current_rows(conn, kind, [_entity_id(c) for c in behind])
    overruled: set[int] = set()
    for change in behind:
        current = stored[_entity_id(change)]
        diff = contested(changed_fields(current, _row(kind, change, connection, now)), current, change.before)
        if not diff:
            continue
        incoming_at = getattr(change.record, "remote_updated_at", None)
        winner, applied = policy.decide(
            kind,
            connection,
            diff,
            incoming_at,
            as_utc(current.get("remote_updated_at")),
            seen=(now, as_utc(current.get("updated_at"))),
        )
        record_conflict(conn, kind, _entity_id(change), connection, diff, applied, winner, now)
        counts.conflicts += 1
        if winner == CANONICAL:
            overruled.add(id(change))
    return [c for c in moved if id(c) not in overruled]


def _link_own_creates(
    conn: Connection, connection: str, kind: str, new: list[_Change], now: datetime, counts: PageCounts
) -> list[_Change]:
    """Link new remote records that are the connector's own pending creates (see `marked`); return the rest."""
    creates = pending_creates(conn, connection, kind)
    own = {i: creates[c.raw.marker] for i, c in enumerate(new) if c.raw.marker in creates}
    return _link_matched(conn, connection, kind, new, own, now, counts)


def _link_known_clients(
    conn: Connection, connection: str, new: list[_Change], now: datetime, counts: PageCounts
) -> list[_Change]:
    """Link new remote clients that are a known canonical client (identity rules); return the rest."""
    matched = identity.match_clients(conn, connection, [c.record for c in new])
    versions = entities.current_versions(conn, "client", list(matched.values())) if matched else {}
    known = {i: (entity_id, versions[entity_id]) for i, entity_id in matched.items()}
    return _link_matched(conn, connection, "client", new, known, now, counts)


def _link_matched(
    conn: Connection,
    connection: str,
    kind: str,
    new: list[_Change],
    matched: dict[int, tuple[int, int]],
    now: datetime,
    counts: PageCounts,
) -> list[_Change]:
    """Link `new[i]` to an existing entity for each i -> (entity id, version it holds); return the unmatched."""
    if not matched:
        return new
    links.insert_links(
        conn,
        connection,
        kind,
        [
            links.NewLink(
                entity_id,
                new[i].raw.remote_id,
                new[i].payload_hash,
                new[i].projection,
                new[i].raw.change_stamp,
                new[i].text,
                entity_version=version,
            )
            for i, (entity_id, version) in matched.items()
        ],
        now,
    )
    counts.matched += len(matched)
    return [c for i, c in enumerate(new) if i not in matched]


def _entity_id(change: _Change) -> int:
    assert change.link is not None
    return change.link.entity_id


def soft_delete_remote(conn: Connection, connection: str, kind: str, remote_ids: Iterable[str], now: datetime) -> int:
    """Soft-delete the canonical entities behind `remote_ids` (found gone at the service)."""
    known = links.existing_links(conn, connection, kind, sorted(set(remote_ids)))
    targets = [(k.link_id, k.entity_id) for k in known.values() if not k.deleted]
    return entities.soft_delete(conn, connection, kind, targets, now)
