"""A copy's payment state (what a service holding a pushed invoice says about it) must not undo the origin's.

Found by `connector demo` (its two-way part pulls every service before it pushes, on seeded data); the
payment tests pull only the origin before pushing and use amounts that round alike, so they miss both:

a) Stale copy in the same cycle: an invoice issued at FastFaktura is pushed to hydra; the client then pays at
   FastFaktura; the next cycle pulls FastFaktura (paid, open 0) and then hydra, whose copy has not had the
   payment yet and is read back for the first time: its `sent`/open total is recorded as a conflict against
   the origin's payment, decided for hydra (newest_wins), and the store says the invoice is open again until
   the push has reached hydra and a later cycle reads it back.
b) A copy that rounds differently: FactuurSturen rounds VAT per rate, hydra per row, so an invoice of two rows
   of 10.12 at 21 % is 24.49 at FactuurSturen and 24.50 at hydra. Paid in full at FactuurSturen and pushed with
   its payment, hydra's copy reads back `partially_paid` with 0.01 open, and the store takes that over the
   origin's paid state.

Fixed in connector/sync/copies.py: a copy only ever tells of more paid than the store knows, measured against
its own total.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from connector.app import App
from connector.store.tables import Invoice
from tests.fastfaktura.harness import FastFakturaHarness
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox, make_app

ALL = ["client", "invoice", "payment"]


def _invoice(app: App) -> dict[str, Any]:
    with app.engine.connect() as conn:
        [row] = conn.execute(
            select(Invoice.status, Invoice.open_minor, Invoice.total_minor)  # type: ignore[call-overload]
        ).mappings().all()
    return dict(row)


def _push(app: App) -> None:
    for result in app.push():
        assert result.drain is not None and result.drain.failed == 0, (result.target, result.drain.errors)


def test_a_stale_copy_read_in_the_same_cycle_does_not_reopen_an_invoice_paid_at_its_origin(
    database_url: str, ff: FastFakturaHarness, hy: HydraHarness
) -> None:
    client = ff.act("create_client", name="Fjord Design AS", email="post@fjord.no")
    created = ff.act("create_invoice", client_id=client["id"], currency="EUR", send=True,
                     lines=[{"description": "Logo", "quantity": 2, "unit_price_cents": 45000, "tax_rate": 21}])
    app = make_app(database_url, ff.connection("ff"), hy.connection("hy", receives=ALL))
    app.sync("ff")
    _push(app)  # hydra holds the invoice now; nobody has read its copy back yet
    assert _invoice(app)["status"] == "sent"

    ff.act("pay_invoice", invoice_id=created["id"])
    app.sync("ff")
    assert _invoice(app) == {"status": "paid", "open_minor": 0, "total_minor": 108900}
    app.sync("hy")  # the copy, read back for the first time, has not had the payment yet

    assert _invoice(app) == {"status": "paid", "open_minor": 0, "total_minor": 108900}


def test_a_copy_that_rounds_a_cent_differently_does_not_reopen_a_paid_invoice(
    database_url: str, fs: FsSandbox, hy: HydraHarness
) -> None:
    client = fs.act("create_client", company="Bakkerij De Korf", email="info@dekorf.nl")
    invoice = fs.act("create_invoice", clientnr=client["clientnr"],
                     lines=[{"amount": 1, "description": "Advies", "price": "10.12", "tax_rate": 21},
                            {"amount": 1, "description": "Advies", "price": "10.12", "tax_rate": 21}])
    assert invoice["totalintax"] == "24.49", "VAT per rate: 20.24 x 21 % = 4.25"
    fs.act("register_payment", invoice=invoice["id"], amount="24.49")
    app = make_app(database_url, fs.connection("fs"), hy.connection("hy", receives=ALL))
    app.sync("fs")
    _push(app)
    [copy] = hy.state()["invoices"]
    assert copy["grossAmount"] == "24.50", "VAT per row: 2.13 + 2.13"
    assert _invoice(app) == {"status": "paid", "open_minor": 0, "total_minor": 2449}

    app.sync("hy")

    assert _invoice(app) == {"status": "paid", "open_minor": 0, "total_minor": 2449}
