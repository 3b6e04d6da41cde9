"""Ambiguous creates at FastFaktura (no idempotency key): committed, then the connection drops. No duplicates."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from connector.app import App
from connector.settings import Settings
from connector.store.db import make_engine, upgrade
from connector.store.tables import Outbox
from tests.fastfaktura.harness import FastFakturaHarness
from tests.push.conftest import SteppedClock

DROPS = 20






def test_dropped_creates_at_fastfaktura_leave_no_duplicates(
    database_url: str, ff_source: FastFakturaHarness, ff: FastFakturaHarness
) -> None:
    ff_source.seed(clients=6, invoices=40)
    make_engine(database_url).dispose()
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    clock = SteppedClock()
    app = App(
        Settings(database_url=database_url),
        clock=clock,
        connections=[
            ff_source.connection("src", rate_limit=1_000_000),
            ff.connection("dst", receives=["client", "invoice"], max_attempts=1, rate_limit=1_000_000),
        ],
    )
    app.sync("src")
    ff.faults(
        [
            {"kind": "drop_after_commit", "method": "POST", "path_prefix": "/api/v1/invoices", "times": DROPS},
            {"kind": "drop_after_commit", "method": "POST", "path_prefix": "/api/v1/clients", "times": 3},
        ]
    )
    for _ in range(10 * DROPS):
        app.push("dst")
        clock.offset += timedelta(minutes=5)
        with app.engine.connect() as conn:
            pending = conn.execute(select(func.count()).where(Outbox.status == "pending")).scalar_one()  # type: ignore[arg-type]
        if not pending:
            break
    with app.engine.connect() as conn:
        done = dict(
            conn.execute(
                select(Outbox.entity_kind, func.count())  # type: ignore[call-overload]
                .where(Outbox.status == "done")
                .group_by(Outbox.entity_kind)
            ).all()
        )
    state = ff.state()
    assert sum(1 for r in ff.requests() if r["status"] == 0) == DROPS + 3, "every fault fired"
    with app.engine.connect() as conn:
        failed = conn.execute(select(Outbox.last_error).where(Outbox.status != "done")).scalars().all()  # type: ignore[call-overload]
    assert failed == [], failed
    assert done.get("invoice", 0) == 40, "the dropped creates were recognised, not lost"
    assert len(state["invoices"]) == done["invoice"], "one invoice per canonical invoice"
    assert len(state["clients"]) == done["client"], "one client per canonical client"
