"""`Membership`: this replica's row in the replica table and its fair share of the connection leases.

Every tick (a third of the lease time-to-live) it renews the heartbeat and the leases held, reads the live
replicas and the unexpired leases, asks `connector.daemon.shares.plan_moves` what to do, and claims what it may.
Surplus is not released here: the tick returns it, and the daemon releases each connection once its running
job has ended (a safe point), so no job of a connection ever runs on two replicas.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from connector.clock import Clock
from connector.daemon.leasing import LeaseKeeper
from connector.daemon.shares import plan_moves
from connector.observability.events import get_logger
from connector.store import leases, replicas

__all__ = ["FORGET_AFTER", "Membership", "Tick"]

log = get_logger("connector.daemon")

FORGET_AFTER = timedelta(days=1)
"""Rows of replicas gone this long are deleted (replica ids change with every pod)."""


@dataclass(frozen=True, slots=True)
class Tick:
    """What one membership tick saw and did."""

    live: int
    share: int
    held: frozenset[str]
    gained: frozenset[str]
    lost: frozenset[str]
    surplus: tuple[str, ...]


class Membership:
    """Registers replica `replica_id` and keeps its fair share of `keeper`'s connections.

    Args:
        engine: the shared store.
        keeper: this replica's leases (its `names` are the connections to share).
        ttl: lease time-to-live, also the heartbeat age after which a replica counts as gone.
        clock: time source.
    """

    def __init__(self, engine: Engine, keeper: LeaseKeeper, ttl: timedelta, clock: Clock) -> None:
        """Not registered yet; call `join()`."""
        self.engine = engine
        self.keeper = keeper
        self.ttl = ttl
        self.clock = clock
        self.replica_id = keeper.holder
        self._host = socket.gethostname()
        self._pid = os.getpid()

    def join(self) -> Tick:
        """Register this replica and take its first share."""
        now = self.clock.now()
        replicas.register(self.engine, self.replica_id, now, host=self._host, pid=self._pid)
        try:
            replicas.forget_gone(self.engine, now - FORGET_AFTER)
        except Exception as exc:  # housekeeping only
            log.warning("forgetting gone replicas failed", error=type(exc).__name__)
        return self.tick()

    def tick(self) -> Tick:
        """Heartbeat, renew, rebalance; a database error skips the rebalance and keeps what is still held."""
        try:
            replicas.heartbeat(self.engine, self.replica_id, self.clock.now(), host=self._host, pid=self._pid)
        except Exception as exc:
            log.warning("replica heartbeat failed", error=type(exc).__name__)
        self.keeper.renew()
        lost = self.keeper.last_lost
        try:
            now = self.clock.now()
            live = [row.id for row in replicas.live(self.engine, now, self.ttl)]
            standing = {name: holder for name, (holder, _) in leases.holders(self.engine, now).items()}
        except Exception as exc:
            log.warning("rebalance skipped", error=type(exc).__name__)
            held = self.keeper.claimed()
            return Tick(0, 0, frozenset(held), frozenset(), lost, ())
        mine = self.keeper.claimed()
        moves = plan_moves(self.replica_id, self.keeper.names, live, mine, standing)
        # an unexpired lease (of a gone replica, a command, another process under this id) cannot be taken
        # unless its holder is abandoned: skip the statement that would fail
        candidates = [name for name in moves.claim if name not in standing or self.keeper.abandoned(standing[name])]
        gained = self.keeper.take_some(candidates, moves.room) if moves.room else set()
        held = self.keeper.claimed()
        if moves.release:
            log.info("over fair share", replica=self.replica_id, share=moves.share, held=len(held),
                     releasing=len(moves.release), live=len(set(live) | {self.replica_id}))
        return Tick(
            live=len(set(live) | {self.replica_id}),
            share=moves.share,
            held=frozenset(held),
            gained=frozenset(gained),
            lost=lost,
            surplus=moves.release,
        )

    def leave(self) -> None:
        """Deregister (a clean stop): the others count this replica gone at once."""
        try:
            replicas.deregister(self.engine, self.replica_id)
        except Exception as exc:
            log.warning("replica deregistration failed", error=type(exc).__name__, consequence="it lapses on its own")
