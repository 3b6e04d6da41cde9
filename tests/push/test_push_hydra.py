"""Invoices created at FactuurSturen reach hydra once (with their client); pulling hydra back recognises them
as the same records, and the next cycle pushes nothing anywhere."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from connector.store.tables import Invoice, Link
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox, make_app, seed_until_yesterday


def test_factuursturen_invoices_reach_hydra_once_and_echo_nothing(
    database_url: str, fs: FsSandbox, hy: HydraHarness
) -> None:
    seed_until_yesterday(fs, days=20, seed=9, clients=3, invoices=6)
    app = make_app(database_url, fs.connection("fs"), hy.connection("hy", receives=["client", "invoice"]))
    app.sync("fs")
    [first] = app.push("hy")
    assert first.drain is not None and first.drain.failed == 0
    state = hy.state()
    assert len(state["invoices"]) == 6 and len(state["customers"]) == first.drain.done - 6

    echo = app.sync("hy")
    assert echo.totals.created == 0, "hydra's copies are the pushed records, not new ones"
    app.sync("fs")
    [second] = app.push("hy")
    assert second.planned == 0 and second.drain is not None and second.drain.requests == 0

    with app.engine.connect() as conn:
        pushed = conn.execute(
            select(Link.remote_id, Invoice.subtotal_minor)  # type: ignore[call-overload]
            .join(Invoice, Invoice.id == Link.entity_id)
            .where(Link.connection == "hy", Link.entity_kind == "invoice")
        ).all()
    assert len(pushed) == 6
    nets = {str(i["id"]): i for i in state["invoices"]}
    for remote_id, subtotal in pushed:
        invoice = nets[remote_id]
        assert int(Decimal(str(invoice["netAmount"])) * 100) == subtotal
