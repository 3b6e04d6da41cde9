"""Leases in the database: one holder at a time, renewals, takeover after expiry, release, and a race; first
claims that never adopt a live lease under the same id; the takeover rule for leases of killed commands; waiting
for a lease through the clock."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest

from connector.cli.leased import POLL_SECONDS, LeaseHeld, hold_leases
from connector.clock import SystemClock
from connector.daemon.leasing import LeaseKeeper, abandoned_cli_holder
from connector.errors import Interrupted
from connector.stopping import StoppableClock, StopToken
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


def test_a_first_claim_never_adopts_a_live_lease_under_the_same_id(migrated: str) -> None:
    engine = make_engine(migrated)
    assert leases.take(engine, "fs", "a", T0, TTL) == T0 + TTL, "free: taken"
    assert leases.take(engine, "fs", "a", T0 + timedelta(seconds=1), TTL) is None, "another process named a has it"
    assert leases.take(engine, "fs", "b", T0 + timedelta(seconds=1), TTL, abandoned=lambda h: False) is None
    assert leases.take(engine, "fs", "b", T0 + TTL, TTL) == T0 + TTL * 2, "expired: taken"
    assert leases.take(engine, "fs", "c", T0 + TTL, TTL, abandoned=lambda h: h == "b") == T0 + TTL * 2, "abandoned"
    assert leases.holders(engine, T0 + TTL, ["fs"]) == {"fs": ("c", T0 + TTL * 2)}
    # A keeper under the id of a live holder waits for it like any other replica, then renews its own.
    clock = FixedClock(T0 + TTL)
    twin = LeaseKeeper(engine, "c", ["fs"], TTL, clock, abandoned=lambda h: False)
    assert twin.refresh() == set()
    clock.at = T0 + TTL * 2
    assert twin.refresh() == {"fs"}
    clock.at = T0 + TTL * 2 + timedelta(seconds=10)
    assert twin.refresh() == {"fs"}, "renewed"
    engine.dispose()


def test_a_lease_of_a_command_is_abandoned_only_when_its_pid_is_gone_from_this_host() -> None:
    host = socket.gethostname()
    finished = subprocess.run([sys.executable, "-c", "pass"], check=True)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    zombie = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        zombie.send_signal(signal.SIGKILL)
        os.waitid(os.P_PID, zombie.pid, os.WEXITED | os.WNOWAIT)  # dead, not reaped: its pid still answers
        assert abandoned_cli_holder(f"cli:{host}:{zombie.pid}"), "a killed child not yet reaped"
    finally:
        zombie.wait()
    assert finished.returncode == 0
    assert abandoned_cli_holder(f"cli:{host}:{gone.pid}")
    assert not abandoned_cli_holder(f"cli:{host}:{os.getpid()}"), "alive"
    assert not abandoned_cli_holder(f"cli:elsewhere:{gone.pid}"), "another host's pids are not ours to judge"
    for other in (f"{host}-{gone.pid}", "alpha", f"cli:{host}:x", f"cli:{host}:"):
        assert not abandoned_cli_holder(other), other


class StepClock(FixedClock):
    """A clock whose sleeps advance it (and are recorded), for waiting without waiting."""

    def __init__(self, now: datetime) -> None:
        super().__init__(now)
        self.mono = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Seconds slept so far."""
        return self.mono

    def sleep(self, seconds: float) -> None:
        """Advance instead of sleeping."""
        self.sleeps.append(seconds)
        self.mono += seconds
        self.at += timedelta(seconds=seconds)


def test_wait_polls_through_the_clock_until_the_lease_is_free_or_the_time_is_up(migrated: str) -> None:
    engine = make_engine(migrated)
    leases.claim(engine, "fs", "alpha", T0, timedelta(seconds=3))  # until T0 + 3 s
    token = StopToken()
    clock = StepClock(T0)
    busy = r"'fs' is busy: its lease is held by alpha until .* after waiting 1 s"
    with (pytest.raises(LeaseHeld, match=busy),
          hold_leases(engine, ["fs"], holder="cli:h:1", ttl=TTL, clock=clock, token=token, wait=1)):
        pass
    assert clock.sleeps == [POLL_SECONDS] * int(1 / POLL_SECONDS), "polled at its pace, then gave up"

    clock = StepClock(T0)
    with hold_leases(engine, ["fs"], holder="cli:h:1", ttl=TTL, clock=clock, token=token, wait=30) as guard:
        assert guard.keeper.holds("fs")
        assert clock.at == T0 + timedelta(seconds=3), "taken at the first poll after alpha's expiry"
    assert leases.holders(engine, clock.at) == {}, "released on the way out"

    # SIGINT while waiting (the token the signal handler sets): the real clock's wait ends at once.
    now = datetime.now(UTC)
    leases.claim(engine, "fs", "alpha", now, TTL)
    stopping = StopToken()
    timer = threading.Timer(0.2, stopping.stop, args=("SIGINT received",))
    timer.start()
    clock = StoppableClock(SystemClock(), stopping)
    began = clock.monotonic()
    with (pytest.raises(Interrupted, match="SIGINT"),
          hold_leases(engine, ["fs"], holder="cli:h:1", ttl=TTL, clock=clock, token=stopping, wait=30)):
        pass
    assert clock.monotonic() - began < POLL_SECONDS * 2, "a stop ends the wait"
    engine.dispose()
