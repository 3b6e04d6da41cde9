"""Ambiguous creates at FastFaktura (no idempotency key): committed, then the connection drops. No duplicates."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from connector.app import App
from connector.settings import Settings
from connector.store.db import make_engine, upgrade
from connector.store.tables import Client, Invoice, Outbox
from tests.fastfaktura.harness import FastFakturaHarness
from tests.push.conftest import SteppedClock
from tests.support import FsSandbox, make_app

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


def test_the_marker_fastfaktura_keeps_never_becomes_canonical_data(
    database_url: str, fs_source: FsSandbox, ff: FastFakturaHarness
) -> None:
    for n in range(2):  # FastFaktura wants E.164 phone numbers, so these clients have none
        client = fs_source.act("create_client", company=f"Studio {n}", email=f"studio{n}@example.nl")
        fs_source.act("create_invoice", clientnr=client["clientnr"],
                      lines=[{"amount": 1, "description": "Ontwerp", "tax_rate": 21, "price": "100.00"}])
    app = make_app(database_url, fs_source.connection("src"), ff.connection("ff", receives=["client", "invoice"]))
    app.sync("src")
    [pushed] = app.push("ff")
    assert pushed.drain is not None and pushed.drain.failed == 0, pushed.drain.errors
    state = ff.state()
    assert all(str(c["external_id"]).startswith("sync:") for c in state["clients"]), "the marker is there"
    assert all("sync:" in str(i["notes"]) for i in state["invoices"])

    report = app.sync("ff")
    assert report.totals.created == 0
    for client in state["clients"]:  # a person's edit brings the whole record in
        ff.act("edit_client", client_id=client["id"], changes={"email": f"new-{client['email']}"})
    for invoice in state["invoices"]:
        ff.act("send_invoice", invoice_id=invoice["id"])
    edited = app.sync("ff")
    assert edited.totals.updated >= 2, edited.totals
    with app.engine.connect() as conn:
        externals = conn.execute(select(Client.external_id)).scalars().all()  # type: ignore[call-overload]
        extras = conn.execute(select(Invoice.extra)).scalars().all()  # type: ignore[call-overload]
    assert not [e for e in externals if e and "sync:" in e], externals
    assert not [x for x in extras if "sync:" in str(x)], extras
    assert sorted(str(e) for e in externals) == ["None", "None"]
