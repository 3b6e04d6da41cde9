"""Leases: one row per name (a connection), claimed atomically by one replica at a time.

A claim is a single statement, so two replicas racing for the same lease cannot both win: an insert that
does nothing on conflict, then an update guarded by "held by me, or expired". On PostgreSQL the update
re-checks its guard after waiting for a concurrent one (read committed), on SQLite the write lock serialises
them. Expiry is judged by the claiming replica's clock: replicas need clocks in step (NTP) to well within the
time-to-live, which is tens of seconds.

`claim` is for a holder that already holds the lease (a renewal) or finds it free or expired; `take` is for a
first claim: it never adopts an unexpired row that happens to bear the same holder id (another process started
under the same id), and may take over a lease whose holder its caller judges abandoned (a dead process).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from connector.clock import as_utc
from connector.store.tables import lease_table

__all__ = ["claim", "holders", "release", "renew", "take", "take_many"]

_lease = lease_table


def claim(engine: Engine, name: str, holder: str, now: datetime, ttl: timedelta) -> datetime | None:
    """Claim or renew the lease `name` for `holder` until `now + ttl`.

    Returns:
        The new expiry when `holder` holds the lease, None when another holder's unexpired lease stands.
    """
    expires = now + ttl
    c = _lease.c
    with engine.begin() as conn:
        if _insert(conn, name, holder, now, expires):
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


def renew(engine: Engine, names: Iterable[str], holder: str, now: datetime, ttl: timedelta) -> set[str]:
    """Renew every lease of `names` that `holder` still holds until `now + ttl`, in one statement.

    A lease of `holder` that expired without anyone taking it over is renewed too, as `claim` would.

    Returns:
        The names renewed; the others were taken over by another holder (or never held).
    """
    wanted = list(names)
    if not wanted:
        return set()
    c = _lease.c
    with engine.begin() as conn:
        renewed = conn.execute(
            update(_lease)
            .where(c.name.in_(wanted), c.holder == holder)
            .values(expires_at=now + ttl)
            .returning(c.name)
        )
        return {str(name) for name in renewed.scalars()}


def take(
    engine: Engine,
    name: str,
    holder: str,
    now: datetime,
    ttl: timedelta,
    *,
    abandoned: Callable[[str], bool] | None = None,
) -> datetime | None:
    """Claim the lease `name` for `holder`, which does not hold it yet: when it is free, expired, or its holder
    is `abandoned` (the caller's judgement, e.g. a process that is no longer alive).

    An unexpired row naming `holder` itself is not adopted: it was written by another process under the same id.

    Returns:
        The new expiry when `holder` holds the lease now, None when a live holder's unexpired lease stands.
    """
    expires = now + ttl
    c = _lease.c
    taken = {"holder": holder, "acquired_at": now, "expires_at": expires}
    with engine.begin() as conn:
        if _insert(conn, name, holder, now, expires):
            return expires
        if conn.execute(update(_lease).where(c.name == name, c.expires_at <= now).values(**taken)).rowcount == 1:
            return expires
        if abandoned is None:
            return None
        current = conn.execute(select(c.holder).where(c.name == name)).scalar_one_or_none()
        if current is None or current == holder or not abandoned(current):
            return None
        # guarded by the holder read above: a live process that took it meanwhile keeps it
        moved = conn.execute(update(_lease).where(c.name == name, c.holder == current).values(**taken))
        return expires if moved.rowcount == 1 else None


def take_many(engine: Engine, names: Iterable[str], holder: str, now: datetime, ttl: timedelta) -> set[str]:
    """Claim, in one transaction, every lease of `names` that is free (no row yet) or expired, for `holder`.

    Like `take` without the abandoned-holder rule: an unexpired row, even one bearing `holder` (another process
    under the same id), is left alone.

    Returns:
        The names `holder` holds now among `names`.
    """
    wanted = sorted(set(names))
    if not wanted:
        return set()
    expires = now + ttl
    c = _lease.c
    with engine.begin() as conn:
        dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        inserted = conn.execute(
            dialect_insert(_lease)
            .values([{"name": n, "holder": holder, "acquired_at": now, "expires_at": expires} for n in wanted])
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(c.name)
        )
        taken = {str(name) for name in inserted.scalars()}
        rest = [name for name in wanted if name not in taken]
        if rest:
            updated = conn.execute(
                update(_lease)
                .where(c.name.in_(rest), c.expires_at <= now)
                .values(holder=holder, acquired_at=now, expires_at=expires)
                .returning(c.name)
            )
            taken |= {str(name) for name in updated.scalars()}
    return taken


def _insert(conn: Connection, name: str, holder: str, now: datetime, expires: datetime) -> bool:
    """Insert the lease row unless one exists; True when this call created it."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT DO NOTHING
    inserted = conn.execute(
        dialect_insert(_lease)
        .values(name=name, holder=holder, acquired_at=now, expires_at=expires)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(_lease.c.name)
    )
    return inserted.first() is not None


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


def holders(
    engine: Engine, now: datetime, names: Iterable[str] | None = None
) -> dict[str, tuple[str, datetime]]:
    """Every unexpired lease (or those of `names`): name -> (holder, expiry)."""
    c = _lease.c
    query = select(c.name, c.holder, c.expires_at).where(c.expires_at > now)
    if names is not None:
        query = query.where(c.name.in_(list(names)))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {name: (holder, as_utc(expires) or now) for name, holder, expires in rows}
