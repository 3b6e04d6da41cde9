"""Reads and writes of `link` and `raw_record`: which canonical entity a remote record is, and its two payloads.

A link keeps two payloads (`raw_record`): the last one read from the service (`read_payload`, what `connector remap`
and the quarantine replay map again) and the last image the push wrote there (`written_payload`); `latest` names
the one the service held when the connector last saw it there (`last_seen_payloads`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, select, update

from connector.store.entities import ENTITY_TABLES
from connector.store.sql import chunks, insert_columns, insert_columns_with_ids, upsert
from connector.store.tables import link_table, raw_record_table

__all__ = [
    "LAST_SEEN",
    "HeldLink",
    "KnownLink",
    "NewLink",
    "ReadPayload",
    "existing_links",
    "held_by_connection",
    "hold_version",
    "insert_links",
    "iter_live_remote_ids",
    "last_seen_payloads",
    "mark_versions_held",
    "matching_stamps",
    "read_payloads",
    "record_push",
    "update_links",
]

_link = link_table
_raw = raw_record_table


@dataclass(slots=True)
class KnownLink:
    """What the store knows of one remote record."""

    link_id: int
    entity_id: int
    payload_hash: str | None
    projection_hash: str | None
    deleted: bool
    entity_version: int | None = None
    written_hash: str | None = None  # set when the connector created or last wrote the record there


@dataclass(slots=True)
class NewLink:
    """A link to create together with its raw payload."""

    entity_id: int
    remote_id: str
    payload_hash: str
    projection_hash: str
    change_stamp: str | None
    payload: str
    entity_version: int = 1


def existing_links(conn: Connection, connection: str, kind: str, remote_ids: Sequence[str]) -> dict[str, KnownLink]:
    """Return the links of `remote_ids` at `connection`, keyed by remote id."""
    found: dict[str, KnownLink] = {}
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    for batch in chunks(list(remote_ids), 900):
        # Driver-level SQL: this runs once per page and kind on the hot path, and needs no type processing.
        sql = (
            "SELECT remote_id, id, entity_id, payload_hash, projection_hash, remote_deleted_at IS NOT NULL, "
            "entity_version, written_hash "
            f"FROM link WHERE connection = {marker} AND entity_kind = {marker} "
            f"AND remote_id IN ({', '.join([marker] * len(batch))})"
        )
        for remote_id, link_id, entity_id, p_hash, proj_hash, deleted, version, written in conn.exec_driver_sql(
            sql, (connection, kind, *batch)
        ):
            found[remote_id] = KnownLink(link_id, entity_id, p_hash, proj_hash, bool(deleted), version, written)
    return found


def matching_stamps(conn: Connection, connection: str, kind: str, stamps: dict[str, str]) -> set[str]:
    """Return the remote ids whose live link at `connection` holds exactly the given change stamp."""
    same: set[str] = set()
    c = _link.c
    for batch in chunks(list(stamps), 900):
        rows = conn.execute(
            select(c.remote_id, c.change_stamp).where(
                c.connection == connection,
                c.entity_kind == kind,
                c.remote_id.in_(batch),
                c.remote_deleted_at.is_(None),
            )
        )
        same.update(remote_id for remote_id, stamp in rows if stamp is not None and stamps[remote_id] == stamp)
    return same


def insert_links(conn: Connection, connection: str, kind: str, links: Sequence[NewLink], now: datetime) -> None:
    """Create links and their raw records in bulk."""
    if not links:
        return
    n = len(links)
    columns: dict[str, list[Any]] = {
        "connection": [connection] * n,
        "entity_kind": [kind] * n,
        "entity_id": [link.entity_id for link in links],
        "remote_id": [link.remote_id for link in links],
        "payload_hash": [link.payload_hash for link in links],
        "projection_hash": [link.projection_hash for link in links],
        "change_stamp": [link.change_stamp for link in links],
        "entity_version": [link.entity_version for link in links],
        "first_seen_at": [now] * n,
        "last_changed_at": [now] * n,
    }
    ids = insert_columns_with_ids(conn, _link, columns, n)
    insert_columns(
        conn,
        _raw,
        {
            "link_id": ids,
            "read_payload": [link.payload for link in links],
            "read_hash": [link.payload_hash for link in links],
            "read_at": [now] * n,
            "latest": ["read"] * n,
        },
    )


def update_links(
    conn: Connection, changes: Sequence[tuple[KnownLink, str, str, str | None, str]], now: datetime
) -> None:
    """Record a new payload for known links: (link, payload_hash, projection_hash, change_stamp, payload)."""
    if not changes:
        return
    conn.execute(
        update(_link)
        .where(_link.c.id == bindparam("b_id"))
        .values(
            payload_hash=bindparam("b_hash"),
            projection_hash=bindparam("b_proj"),
            change_stamp=bindparam("b_stamp"),
            last_changed_at=now,
            remote_deleted_at=None,
        ),
        [{"b_id": k.link_id, "b_hash": h, "b_proj": p, "b_stamp": s} for k, h, p, s, _ in changes],
    )
    conn.execute(
        update(_raw)
        .where(_raw.c.link_id == bindparam("b_id"))
        .values(read_payload=bindparam("b_payload"), read_hash=bindparam("b_hash"), read_at=now, latest="read"),
        [{"b_id": k.link_id, "b_payload": payload, "b_hash": h} for k, h, _, _, payload in changes],
    )


@dataclass(slots=True)
class HeldLink:
    """What a connection holds of one canonical entity."""

    link_id: int
    remote_id: str
    entity_version: int | None
    deleted: bool
    written_hash: str | None = None  # the write ledger: what the connector last wrote there, if it did


def held_by_connection(
    conn: Connection, connection: str, kind: str, entity_ids: Sequence[int] | None = None
) -> dict[int, HeldLink]:
    """Return the links of `connection` for canonical entities of `kind` (all, or those of `entity_ids`)."""
    c = _link.c
    query = select(c.entity_id, c.id, c.remote_id, c.entity_version, c.remote_deleted_at, c.written_hash).where(
        c.connection == connection, c.entity_kind == kind
    )
    found: dict[int, HeldLink] = {}
    batches = [None] if entity_ids is None else list(chunks(list(entity_ids), 900))
    for batch in batches:
        rows = conn.execute(query if batch is None else query.where(c.entity_id.in_(batch)))
        for entity_id, link_id, remote_id, version, deleted_at, written in rows:
            found[entity_id] = HeldLink(link_id, remote_id, version, deleted_at is not None, written)
    return found


def record_push(
    conn: Connection,
    connection: str,
    kind: str,
    entity_id: int,
    remote_id: str,
    projection: str,
    written_hash: str,
    version: int,
    now: datetime,
    written: str | None = None,
) -> None:
    """After a write: the connection holds `version` of the entity as `remote_id` (a link made or refreshed).

    `written_hash` is the write ledger (the hash of the image we sent); `projection` is the canonical projection pushed,
    so the next pull of the service's copy, mapped back to the same canonical content, changes nothing. `written`,
    the image itself, is kept as the link's written payload (with `written_hash`) and is the last thing known to be
    there until the service's own copy is read, which lets that read tell the connector's write (reformatted,
    defaults added) from a person's edit. The payload last read there stays as it was.
    """
    c = _link.c
    existing = conn.execute(
        select(c.id).where(c.connection == connection, c.entity_kind == kind, c.remote_id == remote_id)
    ).first()
    values = {
        "entity_id": entity_id,
        "projection_hash": projection,
        "written_hash": written_hash,
        "entity_version": version,
        "last_changed_at": now,
        "remote_deleted_at": None,
    }
    if existing is not None:
        link_id = int(existing[0])
        conn.execute(update(_link).where(c.id == link_id).values(**values))
    else:
        link_id = conn.execute(
            _link.insert()
            .values(connection=connection, entity_kind=kind, remote_id=remote_id, first_seen_at=now, **values)
            .returning(c.id)
        ).scalar_one()
    if written is not None:
        values = {"written_payload": written, "written_hash": written_hash, "written_at": now, "latest": "written"}
        upsert(conn, _raw, {"link_id": link_id, **values}, ["link_id"])


def hold_version(conn: Connection, connection: str, kind: str, remote_id: str, version: int, now: datetime) -> None:
    """Record that the connection's record `remote_id` now holds `version` of its entity (an archive pushed)."""
    c = _link.c
    conn.execute(
        update(_link)
        .where(c.connection == connection, c.entity_kind == kind, c.remote_id == remote_id)
        .values(entity_version=version, last_changed_at=now)
    )


LAST_SEEN = case((_raw.c.latest == "written", _raw.c.written_payload), else_=_raw.c.read_payload)
"""The payload a link's service held when last seen there: the image written since the last read, else that read."""


def last_seen_payloads(conn: Connection, link_ids: Sequence[int]) -> dict[int, str]:
    """What each link's service held when the connector last saw it there: the payload last read, or the image the
    push wrote since (until the service's copy is read again). Links with neither are left out."""
    found: dict[int, str] = {}
    for batch in chunks(list(link_ids), 900):
        rows = conn.execute(select(_raw.c.link_id, LAST_SEEN).where(_raw.c.link_id.in_(batch)))
        found.update({int(link_id): str(payload) for link_id, payload in rows if payload})
    return found


@dataclass(frozen=True, slots=True)
class ReadPayload:
    """The payload last read from the service for one live link (what `connector remap` maps again)."""

    link_id: int
    entity_id: int
    kind: str
    remote_id: str
    payload: str
    change_stamp: str | None


def read_payloads(
    conn: Connection, connection: str, kind: str, *, after: int = 0, limit: int = 500
) -> list[ReadPayload]:
    """Up to `limit` stored read payloads of `connection`'s live links of `kind`, by link id from just after link
    `after` (page on with the last one's `link_id`)."""
    c = _link.c
    query = (
        select(c.id, c.entity_id, c.entity_kind, c.remote_id, _raw.c.read_payload, c.change_stamp)
        .join(_raw, _raw.c.link_id == c.id)
        .where(
            c.connection == connection,
            c.entity_kind == kind,
            c.id > after,
            c.remote_deleted_at.is_(None),
            _raw.c.read_payload.is_not(None),
        )
        .order_by(c.id)
        .limit(limit)
    )
    return [ReadPayload(int(i), int(e), str(k), str(r), str(p), s) for i, e, k, r, p, s in conn.execute(query)]


def mark_versions_held(conn: Connection, kind: str, link_ids: Sequence[int]) -> None:
    """Record that these links' connection now holds its entity's current canonical version."""
    table = ENTITY_TABLES[kind]
    current = select(table.c.version).where(table.c.id == _link.c.entity_id).scalar_subquery()
    for batch in chunks(list(link_ids), 900):
        conn.execute(update(_link).where(_link.c.id.in_(batch)).values(entity_version=current))


def iter_live_remote_ids(conn: Connection, connection: str, kind: str) -> Iterator[tuple[str, int, int]]:
    """Stream (remote_id, link_id, entity_id) of every link of `kind` not yet marked deleted."""
    c = _link.c
    statement = select(c.remote_id, c.id, c.entity_id).where(
        c.connection == connection, c.entity_kind == kind, c.remote_deleted_at.is_(None)
    )
    result = conn.execute(statement.execution_options(yield_per=2000))
    for row in result:
        yield row[0], row[1], row[2]
