"""Replica membership in the database (SQLite and PostgreSQL): register, heartbeat, gone after the lease TTL,
deregister; two `Membership`s on one store sharing six connections through joins and a death, driven by a clock
the test sets; `connector status` listing the live replicas and what each holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from connector.cli.status import collect_replicas, print_replicas
from connector.clock import SystemClock
from connector.daemon.leasing import LeaseKeeper
from connector.daemon.membership import Membership
from connector.settings import Settings
from connector.store import leases, replicas
from connector.store.db import make_engine
from tests.support import make_app, run_cli

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)
NAMES = [f"conn{i}" for i in range(6)]


class FixedClock(SystemClock):
    """A wall clock the test sets."""

    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        """The set time."""
        return self.at


@pytest.fixture
def engine(migrated: str) -> Iterator[Engine]:
    """The migrated store's engine."""
    built = make_engine(migrated)
    yield built
    built.dispose()


def test_a_replica_is_live_until_its_heartbeat_is_older_than_the_ttl(engine: Engine) -> None:
    replicas.register(engine, "a", T0, host="h", pid=1)
    replicas.register(engine, "b", T0, host="h", pid=2)
    assert [r.id for r in replicas.live(engine, T0 + timedelta(seconds=1), TTL)] == ["a", "b"]
    replicas.heartbeat(engine, "a", T0 + timedelta(seconds=20), host="h", pid=1)
    later = replicas.live(engine, T0 + TTL + timedelta(seconds=1), TTL)
    assert [(r.id, r.started_at, r.heartbeat_at) for r in later] == [("a", T0, T0 + timedelta(seconds=20))]
    replicas.register(engine, "b", T0 + TTL * 2, host="h", pid=3)  # restarted under the same id: a new start
    [b] = [r for r in replicas.live(engine, T0 + TTL * 2, TTL) if r.id == "b"]
    assert (b.pid, b.started_at) == (3, T0 + TTL * 2)
    replicas.deregister(engine, "b")
    assert [r.id for r in replicas.live(engine, T0 + TTL * 2, TTL)] == []
    replicas.heartbeat(engine, "b", T0 + TTL * 2, host="h", pid=3)  # a heartbeat after removal registers again
    assert [r.id for r in replicas.live(engine, T0 + TTL * 2, TTL)] == ["b"]
    assert replicas.forget_gone(engine, T0 + TTL) == 1, "a's row, gone since T0 + 20 s"


def _member(engine: Engine, replica: str, clock: FixedClock) -> Membership:
    return Membership(engine, LeaseKeeper(engine, replica, NAMES, TTL, clock), TTL, clock)


def test_two_members_share_then_one_takes_all_after_the_other_dies(engine: Engine) -> None:
    clock = FixedClock(T0)
    a, b = _member(engine, "a", clock), _member(engine, "b", clock)
    first = a.join()
    assert (first.live, first.share, len(first.held)) == (1, 6, 6), "alone: everything"
    joined = b.join()
    assert (joined.live, joined.share, joined.held) == (2, 3, frozenset()), "a holds all: b waits for a's surplus"
    over = a.tick()
    assert over.share == 3 and len(over.surplus) == 3 and not over.gained
    a.keeper.release(over.surplus)  # the daemon does this once no job of theirs runs
    taken = b.tick()
    assert taken.gained == frozenset(over.surplus) and len(taken.held) == 3
    assert a.tick().surplus == () and b.tick().gained == frozenset(), "balanced: nothing moves"

    clock.at = T0 + TTL + timedelta(seconds=1)  # b died: no heartbeat, no renewal
    survivor = a.tick()
    assert survivor.live == 1 and survivor.share == 6
    assert survivor.held == frozenset(NAMES) and survivor.gained == frozenset(over.surplus), "b's, once expired"
    b_again = _member(engine, "b", clock)  # restarted under the same id
    rejoined = b_again.join()
    assert rejoined.held == frozenset()
    handed = a.tick()
    a.keeper.release(handed.surplus)
    assert len(b_again.tick().held) == 3 and len(a.tick().held) == 3


def test_status_lists_live_replicas_and_what_each_holds(
    migrated: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    replicas.register(engine, "alpha", now, host="node-1", pid=11)
    replicas.register(engine, "gone", now - timedelta(minutes=5), host="node-2", pid=12)
    for name in ("fs1", "fs2"):
        leases.claim(engine, name, "alpha", now, TTL)
    leases.claim(engine, "fs3", "cli:node-1:99", now, TTL)
    app = make_app(migrated, migrate=False)
    app.settings = Settings(database_url=migrated, lease_ttl_seconds=30)
    listed = collect_replicas(app)
    assert [(r["replica"], r["live"], r["holds"]) for r in listed] == [
        ("alpha", True, ["fs1", "fs2"]),
        ("cli:node-1:99", False, ["fs3"]),
    ]
    assert print_replicas(app, as_json=False) == 0
    out = capsys.readouterr().out
    assert out.startswith("replicas: 1 live\n  alpha (host node-1 pid 11, started ")
    assert ": holds 2: fs1, fs2" in out and "cli:node-1:99 (not a live replica" in out


@pytest.mark.parametrize("value", ["0", "many", "257", "-3"])
def test_a_bad_workers_setting_is_one_line_naming_it_and_exit_2(value: str) -> None:
    result = run_cli("run", env={"CONNECTOR_WORKERS": value})
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("connector: configuration error: CONNECTOR_WORKERS: "), line


def test_take_many_claims_free_and_expired_leases_in_one_go_and_nothing_live(engine: Engine) -> None:
    leases.claim(engine, "held", "b", T0, TTL)
    leases.claim(engine, "mine-elsewhere", "a", T0, TTL)  # another process under a's id
    leases.claim(engine, "expired", "b", T0 - TTL * 2, TTL)
    taken = leases.take_many(engine, ["free1", "free2", "held", "mine-elsewhere", "expired"], "a", T0, TTL)
    assert taken == {"free1", "free2", "expired"}
    assert leases.holders(engine, T0)["expired"] == ("a", T0 + TTL)
    assert leases.holders(engine, T0)["held"][0] == "b"
    assert leases.take_many(engine, [], "a", T0, TTL) == set()
    keeper = LeaseKeeper(engine, "c", ["x1", "x2", "x3", "held"], TTL, FixedClock(T0))
    assert keeper.take_some(["held", "x1", "x2", "x3"], 2) == {"x1", "x2"}, "stops at its room, skips live ones"
