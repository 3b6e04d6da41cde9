"""What a target is sent for a canonical entity, and whether it already holds that.

`map_for_target` maps an entity through the target's mapping with its references turned into the target's
ids (a reference the target does not hold yet raises `ReferencePending`). The mapping's outbound dict is the
entity's *image* at the target: the content a push there would write, without what the service works out
itself (numbers, totals, statuses it derives). `ledger.ledger_hash` hashes an image the same way whatever
the spelling of its numbers, and is what the push keeps on the link (the write ledger).

`InStep` answers, for links whose connection holds an older version of an entity, whether the target
already has the current content anyway: its last write there (the ledger) or the record last read from it
(mapped in and out again) has the same image. A canonical change the target has no field for (a payment
state, another service's own number) then sends nothing; the link is marked as holding the version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sqlalchemy import Connection

from connector.domain import CanonicalInvoice, CanonicalPayment, CanonicalRecord, EntityKind
from connector.errors import MappingError
from connector.providers.base import Provider
from connector.store import links
from connector.store.canonical import StoredEntity, load_entities
from connector.store.sql import chunks
from connector.sync.ledger import ledger_hash
from connector.sync.payload import load_payload

__all__ = ["InStep", "OutboundMapper", "ReferencePending", "WireRecord", "map_for_target"]


class OutboundMapper(Protocol):
    """The part of a bound mapping the push needs (reading back too: to compare what a target holds)."""

    entities: set[str]

    def outbound(self, entity: str, record: Any) -> dict[str, Any]:
        """Map one canonical record to the service's wire dict."""
        ...

    def inbound(self, entity: str, raw: dict[str, Any]) -> Any:
        """Map one raw wire record to its canonical record."""
        ...


class ReferencePending(MappingError):
    """The record refers to one the target does not hold yet (its client, its invoice): wait, do not fail."""

    def __init__(self, reason: str) -> None:
        """Args: reason: what is being waited for."""
        super().__init__("reference", "pending", reason)

    def __str__(self) -> str:
        """The reason alone."""
        return self.problem


@dataclass(frozen=True, slots=True)
class WireRecord:
    """An entity mapped for one target."""

    record: CanonicalRecord  # with the target's ids for what it refers to
    image: dict[str, Any]  # the mapping's outbound dict
    payload: dict[str, Any]  # what the provider is given: the image with related records it takes inline


def map_for_target(
    conn: Connection, mapper: OutboundMapper, provider: Provider, target: str, entity: StoredEntity
) -> WireRecord:
    """Map an entity for `target`: its references become the target's ids, related records come inline.

    Raises:
        ReferencePending: the target does not hold the invoice's client or the payment's invoice yet.
        MappingError: the mapping cannot write the record.
    """
    record = entity.record
    related: dict[str, dict[str, Any]] = {}
    if isinstance(record, CanonicalInvoice) and entity.ref_id is not None:
        client_link = links.held_by_connection(conn, target, EntityKind.CLIENT, [entity.ref_id]).get(entity.ref_id)
        if (client_link is None or client_link.deleted) and EntityKind.CLIENT not in provider.inline_kinds:
            raise ReferencePending(f"waiting for the invoice's client to be at {target}")
        record = replace(record, client_remote_id=client_link.remote_id if client_link else None)
        if EntityKind.CLIENT in provider.inline_kinds and EntityKind.CLIENT in mapper.entities:
            client = load_entities(conn, EntityKind.CLIENT, [entity.ref_id])[entity.ref_id]
            related["client"] = mapper.outbound("client", client.record)
    if isinstance(record, CanonicalPayment):
        invoice_id = entity.ref_id or 0
        invoice_link = links.held_by_connection(conn, target, EntityKind.INVOICE, [invoice_id]).get(invoice_id)
        if invoice_link is None or invoice_link.deleted:
            raise ReferencePending(f"waiting for the payment's invoice to be at {target}")
        record = replace(record, invoice_remote_id=invoice_link.remote_id)
    image = mapper.outbound(entity.kind, record)
    return WireRecord(record, image, provider.embed(entity.kind, image, related))


@dataclass
class InStep:
    """Tells which stale links already hold an entity's current content at the target (see the module doc)."""

    conn: Connection
    target: str
    provider: Provider
    mapper: OutboundMapper
    settled: dict[str, list[int]] = field(default_factory=dict)  # kind -> link ids found in step

    def __call__(self, kind: str, stale: Sequence[tuple[int, links.HeldLink]]) -> set[int]:
        """Return the entity ids among `stale` (entity id, its link here) whose content the target has."""
        same: set[int] = set()
        for batch in chunks(list(stale), 500):  # a batch of entities in memory at a time
            entities = load_entities(self.conn, kind, [entity_id for entity_id, _ in batch])
            read = self._read_back([held.link_id for _, held in batch if held.written_hash is None])
            for entity_id, held in batch:
                entity = entities.get(entity_id)
                holds = held.written_hash or self._image_hash(kind, read.get(held.link_id))
                if entity is None or holds is None:
                    continue
                try:
                    wire = map_for_target(self.conn, self.mapper, self.provider, self.target, entity)
                except MappingError:
                    continue  # the push reports it
                if ledger_hash(wire.image) == holds:
                    same.add(entity_id)
                    self.settled.setdefault(kind, []).append(held.link_id)
        return same

    def mark_held(self) -> None:
        """Record that the settled links hold their entity's current version."""
        for kind, link_ids in self.settled.items():
            links.mark_versions_held(self.conn, kind, link_ids)
        self.settled.clear()

    def _read_back(self, link_ids: list[int]) -> dict[int, str]:
        return links.last_seen_payloads(self.conn, link_ids)

    def _image_hash(self, kind: str, text: str | None) -> str | None:
        """The image of what was last read from the target (None when it cannot be told)."""
        if text is None:
            return None
        try:
            return ledger_hash(self.mapper.outbound(kind, self.mapper.inbound(kind, load_payload(text))))
        except (MappingError, TypeError, ValueError):
            return None
