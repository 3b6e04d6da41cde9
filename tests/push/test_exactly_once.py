"""Ambiguous creates: the service commits, then the connection drops before the answer. No duplicates."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from connector.app import App
from connector.settings import Settings
from connector.store.db import make_engine, upgrade
from connector.store.tables import Link, Outbox
from tests.push.conftest import SteppedClock
from tests.support import FsSandbox, seed_until_yesterday

TRIALS = 20


def test_dropped_connections_after_committed_creates_leave_no_duplicates(
    database_url: str, fs: FsSandbox, fs_source: FsSandbox
) -> None:
    seed_until_yesterday(fs_source, days=30, seed=21, clients=5, invoices=TRIALS)
    engine = make_engine(database_url)
    upgrade(engine)
    clock = SteppedClock()
    app = App(
        Settings(database_url=database_url),
        clock=clock,
        connections=[fs_source.connection("src"), fs.connection("dst", receives=["client", "invoice"], max_attempts=1)],
    )
    app.sync("src")
    # Every invoice create and the first clients' creates: committed at the service, then the connection drops.
    fs.faults(
        {"kind": "drop_after_commit", "method": "POST", "path_prefix": "/api/v1/invoices", "times": TRIALS},
        {"kind": "drop_after_commit", "method": "POST", "path_prefix": "/api/v1/clients", "times": 3},
    )
    for _ in range(10 * TRIALS):
        app.push("dst")
        clock.offset += timedelta(minutes=5)
        with app.engine.connect() as conn:
            pending = conn.execute(select(func.count()).where(Outbox.status == "pending")).scalar_one()  # type: ignore[arg-type]
        if not pending:
            break
    state = fs.state()
    assert len(state["invoices"]) == TRIALS, "one invoice per canonical invoice, despite every create dropping"
    assert len(state["clients"]) == 5
    drops = [r for r in fs.requests() if r["status"] == 0]
    assert len(drops) == TRIALS + 3, "every fault fired"
    with app.engine.connect() as conn:
        statuses = dict(conn.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all())  # type: ignore[call-overload]
        distinct_ids = select(func.count(func.distinct(Link.remote_id)))
        linked = conn.execute(
            distinct_ids.where(Link.connection == "dst", Link.entity_kind == "invoice")  # type: ignore[arg-type]
        ).scalar_one()
    assert statuses == {"done": TRIALS + 5}
    assert linked == TRIALS
    engine.dispose()
