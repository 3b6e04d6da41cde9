"""`LeaseKeeper`: claims and renews this replica's leases, one per connection, and says which it holds."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from connector.clock import Clock
from connector.store import leases

__all__ = ["LeaseKeeper"]

log = logging.getLogger("connector.daemon")


class LeaseKeeper:
    """Keeps the leases of `names` for `holder`: `refresh()` claims free or expired ones and renews held ones.

    A lease is trusted locally only until a margin before its expiry in the database, so a replica whose
    renewals stall stops starting jobs before another replica can take the lease over.

    Args:
        engine: the shared store.
        holder: this replica's id.
        names: the leases to keep (connection names).
        ttl: how long a claim or renewal lasts; renew every `ttl / 3` (the daemon does).
        clock: time source.
    """

    def __init__(self, engine: Engine, holder: str, names: Iterable[str], ttl: timedelta, clock: Clock) -> None:
        """Hold nothing yet; call `refresh()`."""
        self.engine = engine
        self.holder = holder
        self.names = list(names)
        self.ttl = ttl
        self.clock = clock
        self._margin = ttl / 3
        self._held: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def refresh(self) -> set[str]:
        """Claim or renew every lease; return the names held now. A database error keeps what is still valid."""
        for name in self.names:
            now = self.clock.now()
            try:
                expires = leases.claim(self.engine, name, self.holder, now, self.ttl)
            except Exception as exc:  # the database is away: keep running what we still validly hold
                log.warning("lease renewal failed lease=%s error=%s", name, type(exc).__name__)
                continue
            with self._lock:
                had = name in self._held
                if expires is None:
                    self._held.pop(name, None)
                else:
                    self._held[name] = expires
            if expires is not None and not had:
                log.info("lease acquired lease=%s holder=%s", name, self.holder)
            elif expires is None and had:
                log.warning("lease lost lease=%s holder=%s", name, self.holder)
        return self.held()

    def holds(self, name: str) -> bool:
        """True while this replica holds `name` with more than the safety margin left."""
        with self._lock:
            expires = self._held.get(name)
        return expires is not None and self.clock.now() < expires - self._margin

    def held(self) -> set[str]:
        """The names this replica holds with more than the safety margin left."""
        with self._lock:
            names = list(self._held)
        return {name for name in names if self.holds(name)}

    def release_all(self) -> None:
        """Give every held lease up at once (on a clean stop), so another replica need not wait for expiry."""
        with self._lock:
            names, self._held = list(self._held), {}
        try:
            released = leases.release(self.engine, names, self.holder, self.clock.now())
        except Exception as exc:
            log.warning("lease release failed error=%s (they expire on their own)", type(exc).__name__)
            return
        if names:
            log.info("leases released count=%d holder=%s", released, self.holder)
