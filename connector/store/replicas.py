"""Replica membership: each `connector run` registers a row, renews its heartbeat, and removes it on a clean stop.

A replica counts as live while its heartbeat is younger than the lease time-to-live: the same window after which
its leases lapse, so a replica stops counting towards the fair share (`connector.daemon.shares`) about when its
connections become free to take over. Heartbeats are judged by the reader's clock, like lease expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from connector.clock import as_utc
from connector.store.tables import Replica

__all__ = ["ReplicaRow", "deregister", "forget_gone", "heartbeat", "live", "register"]

_replica = Replica.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ReplicaRow:
    """One registered replica as the database has it."""

    id: str
    host: str | None
    pid: int | None
    started_at: datetime
    heartbeat_at: datetime


def register(engine: Engine, replica_id: str, now: datetime, *, host: str | None, pid: int | None) -> None:
    """Register `replica_id` as started and alive at `now` (a restart under the same id replaces its row)."""
    values = {"id": replica_id, "host": host, "pid": pid, "started_at": now, "heartbeat_at": now}
    with engine.begin() as conn:
        dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        statement = dialect_insert(_replica).values(**values)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["id"],
                set_={"host": host, "pid": pid, "started_at": now, "heartbeat_at": now},
            )
        )


def heartbeat(engine: Engine, replica_id: str, now: datetime, *, host: str | None, pid: int | None) -> None:
    """Renew the heartbeat of `replica_id` (registering it again if its row was removed meanwhile)."""
    with engine.begin() as conn:
        renewed = conn.execute(update(_replica).where(_replica.c.id == replica_id).values(heartbeat_at=now))
    if renewed.rowcount != 1:
        register(engine, replica_id, now, host=host, pid=pid)


def deregister(engine: Engine, replica_id: str) -> None:
    """Remove `replica_id` (a clean stop): the others count it gone at once."""
    with engine.begin() as conn:
        conn.execute(delete(_replica).where(_replica.c.id == replica_id))


def live(engine: Engine, now: datetime, ttl: timedelta) -> list[ReplicaRow]:
    """The replicas whose heartbeat is younger than `ttl` at `now`, by id."""
    c = _replica.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.id, c.host, c.pid, c.started_at, c.heartbeat_at)
            .where(c.heartbeat_at > now - ttl)
            .order_by(c.id)
        ).all()
    return [
        ReplicaRow(row.id, row.host, row.pid, as_utc(row.started_at) or now, as_utc(row.heartbeat_at) or now)
        for row in rows
    ]


def forget_gone(engine: Engine, before: datetime) -> int:
    """Delete the rows of replicas whose last heartbeat is older than `before` (pods come and go by name)."""
    with engine.begin() as conn:
        return int(conn.execute(delete(_replica).where(_replica.c.heartbeat_at < before)).rowcount)
