"""Payments across services: a payment registered at one service reaches every other service that holds its
invoice (and the canonical store), and the next cycle pushes nothing anywhere.

a) The invoice is issued at FactuurSturen and pushed to hydra; a person books a transaction at hydra; after a
   pull of hydra and a push, FactuurSturen's invoice is paid (`open` goes to 0.00, or to the rest for a part).
b) The invoice is issued at FastFaktura and pushed to FactuurSturen and hydra; a person's card payment at
   FastFaktura (a `paid` event) reaches both: FactuurSturen's `open` is 0.00 and hydra holds the transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from connector.app import App
from connector.store.tables import Invoice, Link, Payment
from tests.fastfaktura.harness import FastFakturaHarness
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox, make_app

ALL = ["client", "invoice", "payment"]


def _cycle(app: App, *names: str) -> None:
    """Pull the named connections, then push to every receiving one (nothing may fail)."""
    for name in names:
        app.sync(name)
    for result in app.push():
        assert result.drain is not None and result.drain.failed == 0, (result.target, result.drain.errors)


def _settles(app: App, *names: str) -> None:
    """The next cycle pushes nothing anywhere (what it reads back is the pushes' echo, or a gap they filled),
    and the cycle after it changes nothing at all."""
    for still in (False, True):
        for name in names:
            report = app.sync(name)
            assert report.totals.created == 0 and report.totals.conflicts == 0, (name, report.totals)
            assert not still or report.totals.updated == 0, (name, report.totals)
        results = app.push()
        assert [(r.target, r.planned, r.queued) for r in results] == [(r.target, 0, 0) for r in results]
        assert all(r.drain is not None and r.drain.requests == 0 for r in results)


def _remote_id(app: App, connection: str, kind: str, entity_id: int) -> str:
    with app.engine.connect() as conn:
        return str(
            conn.execute(
                select(Link.remote_id).where(  # type: ignore[call-overload]
                    Link.connection == connection, Link.entity_kind == kind, Link.entity_id == entity_id
                )
            ).scalar_one()
        )


def _canonical(app: App) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """The one canonical invoice (status, open, total, id) and its live payments (invoice id, amount)."""
    with app.engine.connect() as conn:
        [invoice] = conn.execute(
            select(Invoice.id, Invoice.status, Invoice.open_minor, Invoice.total_minor)  # type: ignore[call-overload]
        ).mappings().all()
        payments = conn.execute(
            select(Payment.invoice_id, Payment.amount_minor).where(  # type: ignore[call-overload]
                Payment.remote_deleted_at.is_(None)  # type: ignore[union-attr]
            )
        ).all()
    return dict(invoice), [(int(i), int(a)) for i, a in payments]


def _transactions(hy: HydraHarness) -> list[dict[str, Any]]:
    """Hydra's live invoice-transactions (every invoice's)."""
    return [t for i in hy.state()["invoices"] for t in i["transactions"] if not t["deleted"]]


def _fs_invoice(fs: FsSandbox, invoice_id: str) -> dict[str, Any]:
    [invoice] = [i for i in fs.state()["invoices"] if str(i["id"]) == invoice_id]
    return dict(invoice)


@pytest.mark.parametrize("part", [None, Decimal("40.00")], ids=["full", "partial"])
def test_a_payment_at_hydra_reaches_factuursturen_and_the_store(
    database_url: str, fs: FsSandbox, hy: HydraHarness, part: Decimal | None
) -> None:
    client = fs.act("create_client", company="Bakkerij De Korf", email="info@dekorf.nl")
    fs.act("create_invoice", clientnr=client["clientnr"],
           lines=[{"amount": 3, "description": "Brood", "price": "12.50", "tax_rate": 9},
                  {"amount": 1, "description": "Taart", "price": "30.00", "tax_rate": 21}])
    app = make_app(database_url, fs.connection("fs", receives=["payment"]), hy.connection("hy", receives=ALL))
    _cycle(app, "fs")
    _cycle(app, "hy", "fs")  # hydra's copies come back as the pushed records
    invoice, payments = _canonical(app)
    assert payments == [] and invoice["status"] == "sent"
    hy_invoice = _remote_id(app, "hy", "invoice", int(invoice["id"]))
    fs_invoice = _remote_id(app, "fs", "invoice", int(invoice["id"]))
    total = Decimal(int(invoice["total_minor"])) / 100
    amount = part if part is not None else total

    # A person books the payment at hydra.
    hy.act("add_transaction", invoice=int(hy_invoice), amount=str(amount))
    _cycle(app, "hy")

    invoice, payments = _canonical(app)
    assert payments == [(invoice["id"], int(amount * 100))]
    assert invoice["status"] == ("paid" if part is None else "partially_paid")
    assert invoice["open_minor"] == int((total - amount) * 100)
    assert _fs_invoice(fs, fs_invoice)["open"] == f"{total - amount:.2f}"
    assert [p["amount"] for p in fs.state()["payments"]] == [f"{amount:.2f}"]

    _settles(app, "fs", "hy")
    assert len(_transactions(hy)) == 1 and len(fs.state()["payments"]) == 1


def test_a_paid_event_at_fastfaktura_reaches_factuursturen_and_hydra(
    database_url: str, fs: FsSandbox, ff: FastFakturaHarness, hy: HydraHarness
) -> None:
    client = ff.act("create_client", name="Fjord Design AS", email="post@fjord.no")
    created = ff.act("create_invoice", client_id=client["id"], currency="EUR", send=True,
                     lines=[{"description": "Logo", "quantity": 2, "unit_price_cents": 45000, "tax_rate": 21}])
    app = make_app(
        database_url,
        ff.connection("ff"),
        fs.connection("fs", receives=ALL),
        hy.connection("hy", receives=ALL),
    )
    _cycle(app, "ff")
    _cycle(app, "fs", "hy")
    invoice, payments = _canonical(app)
    assert payments == []
    fs_invoice = _remote_id(app, "fs", "invoice", int(invoice["id"]))
    hy_invoice = _remote_id(app, "hy", "invoice", int(invoice["id"]))
    assert _fs_invoice(fs, fs_invoice)["open"] == "1089.00"

    # The client pays by card at FastFaktura's payment page.
    ff.act("pay_invoice", invoice_id=created["id"])
    _cycle(app, "ff")

    invoice, payments = _canonical(app)
    assert payments == [(invoice["id"], 108900)] and invoice["status"] == "paid" and invoice["open_minor"] == 0
    assert _fs_invoice(fs, fs_invoice)["open"] == "0.00"
    [transaction] = _transactions(hy)
    assert str(transaction["invoice"]).endswith(f"/{hy_invoice}") and Decimal(str(transaction["amount"])) == 1089
    [at_hydra] = hy.state()["invoices"]
    assert at_hydra["status"] == "paid" and Decimal(str(at_hydra["openAmount"])) == 0

    _settles(app, "fs", "hy", "ff")
    assert len(_transactions(hy)) == 1 and len(fs.state()["payments"]) == 1
    assert len(ff.state()["payments"]) == 1
