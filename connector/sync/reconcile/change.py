"""The values reconcile works on: an incoming record, the change it makes, and what they are judged by.

Both are frozen and every derived value is computed once: an `Incoming` carries its canonical record, the
canonical id of what it refers to and its projection hash; a `Change` carries the row the store had
(`previous`), the row as the service gives it (`theirs`) and the row to write (`row`), so no step converts
a record to a row again or depends on another step having filled a field first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connector.store.links import KnownLink
from connector.sync.reconcile.conflicts import ConflictPolicy
from connector.sync.reconcile.merge import ReadsFields

__all__ = ["Change", "Context", "Inbound", "Incoming", "Outbound"]

Outbound = Callable[[str, Any], dict[str, Any]]
Inbound = Callable[[str, Any], Any]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One mapped record of a page, as read from a connection (the wire text kept for the link)."""

    remote_id: str
    text: str  # the payload's exact text, kept as the link's raw record
    payload_hash: str
    data: Any  # the payload as decoded
    record: Any  # its canonical record
    link: KnownLink | None  # what the store knows of it at this connection (None: never seen)
    marker: str | None = None  # the connector's marker on it, if it is one of the connector's creates
    change_stamp: str | None = None
    ref_id: int | None = None  # the canonical id of what it refers to (an invoice's client, a payment's invoice)
    projection: str = ""  # the hash of its canonical content with `ref_id` resolved
    again: bool = False  # a stored payload mapped again (`pull.page.apply_stored`), not one just read

    @property
    def entity_id(self) -> int:
        """The canonical id its link names (only for a linked record)."""
        assert self.link is not None
        return self.link.entity_id

    @property
    def link_id(self) -> int:
        """The id of its link (only for a linked record)."""
        assert self.link is not None
        return self.link.link_id

    @property
    def deleted(self) -> bool:
        """Whether its link was marked deleted at the service (it is back now)."""
        return self.link is not None and self.link.deleted


@dataclass(frozen=True, slots=True)
class Change:
    """A linked record whose canonical content moved: the row to write and what it is judged against."""

    incoming: Incoming
    row: dict[str, Any]  # the row to write (merged with `previous` where the kind's rules say so)
    previous: dict[str, Any] | None  # the canonical row as stored before (None for a payment: read only in conflict)
    theirs: dict[str, Any] = field(default_factory=dict)  # the row as the service gives it, unmerged
    before: dict[str, Any] | None = None  # a client's row as its service held it when last seen there
    unchanged: frozenset[str] = frozenset()  # columns the service has not changed since last seen there

    @property
    def link(self) -> KnownLink:
        """The record's link."""
        assert self.incoming.link is not None
        return self.incoming.link

    @property
    def entity_id(self) -> int:
        """The canonical id the change is written over."""
        return self.incoming.entity_id


@dataclass(frozen=True, slots=True)
class Context:
    """What reconciling one kind of one page at one connection is judged by."""

    connection: str
    now: datetime
    policy: ConflictPolicy = field(default_factory=ConflictPolicy)
    reads: ReadsFields | None = None  # the fields the connection's mapping fills (None: takes the record whole)
    inbound: Inbound | None = None  # the connection's mapping, to read its last payload again
    outbound: Outbound | None = None  # the connection's mapping, to recognise the connector's own writes
    mark: Callable[[str], str] | None = None  # the marker a create with a given idempotency key leaves
