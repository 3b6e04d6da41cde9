"""Leases in the database: one holder at a time, renewals, takeover after expiry, release, and a race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from connector.clock import SystemClock
from connector.daemon.leasing import LeaseKeeper
from connector.store import leases
from connector.store.db import make_engine

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


class FixedClock(SystemClock):
    """A wall clock the test sets."""

    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        """The set time."""
        return self.at


def test_one_holder_until_expiry_then_takeover(migrated: str) -> None:
    engine = make_engine(migrated)
    assert leases.claim(engine, "fs", "a", T0, TTL) == T0 + TTL
    assert leases.claim(engine, "fs", "b", T0 + timedelta(seconds=29), TTL) is None, "unexpired: b must wait"
    assert leases.claim(engine, "fs", "a", T0 + timedelta(seconds=20), TTL) == T0 + timedelta(seconds=50), "renewal"
    assert leases.claim(engine, "fs", "b", T0 + timedelta(seconds=49), TTL) is None
    assert leases.claim(engine, "fs", "b", T0 + timedelta(seconds=50), TTL) == T0 + timedelta(seconds=80), "takeover"
    assert leases.claim(engine, "fs", "a", T0 + timedelta(seconds=51), TTL) is None, "a lost it"
    assert leases.holders(engine, T0 + timedelta(seconds=51)) == {"fs": ("b", T0 + timedelta(seconds=80))}
    engine.dispose()


def test_release_lets_another_replica_claim_at_once(migrated: str) -> None:
    engine = make_engine(migrated)
    leases.claim(engine, "fs", "a", T0, TTL)
    leases.claim(engine, "hy", "a", T0, TTL)
    assert leases.release(engine, ["fs", "hy"], "b", T0) == 0, "b cannot release a's leases"
    assert leases.release(engine, ["fs"], "a", T0 + timedelta(seconds=1)) == 1
    assert leases.claim(engine, "fs", "b", T0 + timedelta(seconds=1), TTL) is not None
    assert leases.claim(engine, "hy", "b", T0 + timedelta(seconds=1), TTL) is None
    engine.dispose()


def test_racing_replicas_never_both_win(migrated: str) -> None:
    engine = make_engine(migrated)
    leases.claim(engine, "fs", "old", T0 - TTL * 2, TTL)  # expired: up for grabs
    for round_ in range(5):
        now = T0 + TTL * 3 * round_
        barrier = threading.Barrier(8)
        winners: list[str] = []

        def contend(
            holder: str, at: datetime = now, gate: threading.Barrier = barrier, won: list[str] = winners
        ) -> None:
            gate.wait()
            if leases.claim(engine, "fs", holder, at, TTL) is not None:
                won.append(holder)

        threads = [threading.Thread(target=contend, args=(f"r{round_}-{i}",)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(winners) == 1, winners
        assert leases.holders(engine, now)["fs"][0] == winners[0]
    engine.dispose()


def test_keeper_stops_trusting_a_lease_before_it_expires(migrated: str) -> None:
    engine = make_engine(migrated)
    clock = FixedClock(T0)
    keeper = LeaseKeeper(engine, "a", ["fs", "hy"], TTL, clock)
    other = LeaseKeeper(engine, "b", ["fs", "hy"], TTL, clock)
    assert keeper.refresh() == {"fs", "hy"}
    assert other.refresh() == set()
    clock.at = T0 + timedelta(seconds=21)  # renewals stalled: a third of the TTL before expiry, stop starting jobs
    assert not keeper.holds("fs")
    clock.at = T0 + TTL
    assert other.refresh() == {"fs", "hy"}, "expired leases are taken over"
    assert keeper.refresh() == set()
    other.release_all()
    assert keeper.refresh() == {"fs", "hy"}
    engine.dispose()
