"""Leases: one row per name (a connection), claimed atomically by one replica at a time.

A claim is a single statement, so two replicas racing for the same lease cannot both win: an insert that
does nothing on conflict, then an update guarded by "held by me, or expired". On PostgreSQL the update
re-checks its guard after waiting for a concurrent one (read committed), on SQLite the write lock serialises
them. Expiry is judged by the claiming replica's clock: replicas need clocks in step (NTP) to well within the
time-to-live, which is tens of seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Engine, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from connector.clock import as_utc
from connector.store.tables import Lease

__all__ = ["claim", "holders", "release"]

_lease = Lease.__table__  # type: ignore[attr-defined]


def claim(engine: Engine, name: str, holder: str, now: datetime, ttl: timedelta) -> datetime | None:
    """Claim or renew the lease `name` for `holder` until `now + ttl`.

    Returns:
        The new expiry when `holder` holds the lease, None when another holder's unexpired lease stands.
    """
    expires = now + ttl
    c = _lease.c
    with engine.begin() as conn:
        dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        inserted = conn.execute(
            dialect_insert(_lease)
            .values(name=name, holder=holder, acquired_at=now, expires_at=expires)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        if inserted.rowcount == 1:
            return expires
        renewed = conn.execute(
            update(_lease)
            .where(c.name == name, or_(c.holder == holder, c.expires_at <= now))
            .values(
                holder=holder,
                acquired_at=case((c.holder == holder, c.acquired_at), else_=now),
                expires_at=expires,
            )
        )
        return expires if renewed.rowcount == 1 else None


def release(engine: Engine, names: Iterable[str], holder: str, now: datetime) -> int:
    """Let the leases `names` held by `holder` expire now, so another replica may claim them at once."""
    wanted = list(names)
    if not wanted:
        return 0
    c = _lease.c
    with engine.begin() as conn:
        result = conn.execute(
            update(_lease).where(c.name.in_(wanted), c.holder == holder, c.expires_at > now).values(expires_at=now)
        )
        return int(result.rowcount)


def holders(engine: Engine, now: datetime) -> dict[str, tuple[str, datetime]]:
    """Every unexpired lease: name -> (holder, expiry)."""
    c = _lease.c
    with engine.connect() as conn:
        rows = conn.execute(select(c.name, c.holder, c.expires_at).where(c.expires_at > now)).all()
    return {name: (holder, as_utc(expires) or now) for name, holder, expires in rows}
