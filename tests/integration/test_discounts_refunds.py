"""FactuurSturen's invoice-level discounts: stored with exact money, refused by targets that cannot carry them.

A discount (``discounttype`` percentage|amount and ``discount``, or the client's ``stddiscount``) lowers each VAT
rate's base below the sum of its lines. Before: every such invoice was quarantined ("subtotal_minor: 18000 differs
from the sum of lines 20000"), so a client with a standard discount lost all its invoices.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from connector.store.tables import Invoice, Link, Outbox, Payment, Quarantine
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox, make_app

LINES = [
    {"amount": 2, "description": "Advies", "price": "61.35", "tax_rate": 21},
    {"amount": 1, "description": "Boek", "price": "19.99", "tax_rate": 9},
    {"amount": 1, "description": "Reiskosten", "price": "7.50", "tax_rate": 0},
]


def _cents(text: Any) -> int:
    return int(Decimal(str(text)) * 100)


def _discounted(fs: FsSandbox) -> list[dict[str, Any]]:
    """Three invoices: the client's standard 10 %, an own amount of 15.00, and an own 12.5 %."""
    client = fs.act("create_client", company="Vaste Korting B.V.", email="korting@example.nl", stddiscount="10")
    return [
        fs.act("create_invoice", clientnr=client["clientnr"], lines=LINES),
        fs.act("create_invoice", clientnr=client["clientnr"], lines=LINES, discounttype="amount", discount="15.00"),
        fs.act("create_invoice", clientnr=client["clientnr"], lines=LINES, discounttype="percentage",
               discount="12.5"),
    ]


def _stored(app: Any, remote_id: str) -> dict[str, Any]:
    with app.engine.connect() as conn:
        row = conn.execute(
            select(Invoice.subtotal_minor, Invoice.tax_minor, Invoice.total_minor, Invoice.discount_minor)  # type: ignore[call-overload]
            .join(Link, (Link.entity_id == Invoice.id) & (Link.entity_kind == "invoice"))
            .where(Link.remote_id == remote_id, Link.connection == "fs")
        ).mappings().one()
    return dict(row)


def test_discounted_invoices_are_stored_with_exact_money(database_url: str, fs: FsSandbox) -> None:
    invoices = _discounted(fs)
    app = make_app(database_url, fs.connection())

    report = app.sync("fs")

    assert report.totals.quarantined == 0
    with app.engine.connect() as conn:
        assert conn.execute(select(Quarantine.error)).all() == []
    for wire in invoices:
        lines = sum(_cents(line["linetotal"]) for line in wire["lines"].values())
        total, tax = _cents(wire["totalintax"]), _cents(wire["tax"])
        stored = _stored(app, wire["id"])
        assert stored == {"subtotal_minor": total - tax, "tax_minor": tax, "total_minor": total,
                          "discount_minor": lines - (total - tax)}
        assert stored["discount_minor"] > 0
    assert _stored(app, invoices[1]["id"])["discount_minor"] == 1500


def test_a_target_that_cannot_carry_a_discount_refuses_it_with_the_reason(
    database_url: str, fs: FsSandbox, hy: HydraHarness
) -> None:
    client = fs.act("create_client", company="Geen Korting B.V.", email="geen@example.nl")
    plain = fs.act("create_invoice", clientnr=client["clientnr"], lines=LINES)
    discounted = _discounted(fs)
    app = make_app(database_url, fs.connection(), hy.connection("hy", receives=["client", "invoice"]))
    app.sync("fs")

    app.push()

    with app.engine.connect() as conn:
        failed = conn.execute(select(Outbox.status, Outbox.last_error).where(Outbox.entity_kind == "invoice")).all()
    refused = [error for status, error in failed if status == "failed"]
    assert len(refused) == len(discounted)
    assert all("discount_minor" in error and "cannot carry" in error for error in refused)
    copies = hy.state()["invoices"]
    assert [_cents(c["grossAmount"]) for c in copies] == [_cents(plain["totalintax"])]  # no copy with wrong totals


def test_factuursturen_as_a_target_carries_the_discount_as_an_amount(database_url: str, fs: FsSandbox) -> None:
    """The copy keeps the totals: the discount goes as discounttype=amount, and an invoice without one says 0.00,
    so the receiving client's standard discount is not taken off totals made elsewhere."""
    originals = _discounted(fs)
    app = make_app(database_url, fs.connection(), fs.connection("fs2", receives=["client", "invoice"]))
    app.sync("fs")

    for result in app.push():
        assert result.drain is not None and result.drain.failed == 0, (result.target, result.drain.errors)

    ids = {i["id"] for i in originals}
    copies = [i for i in fs.state()["invoices"] if i["id"] not in ids]
    assert sorted(i["totalintax"] for i in copies) == sorted(i["totalintax"] for i in originals)
    assert sorted(i["tax"] for i in copies) == sorted(i["tax"] for i in originals)


def test_a_refund_is_stored_as_a_negative_payment(database_url: str, fs: FsSandbox) -> None:
    """Before: quarantined ("negative amount '-20.00' is not accepted here"), so the store's payments summed to more
    than the service says was paid."""
    client = fs.act("create_client", company="Retour B.V.", email="retour@example.nl")
    invoice = fs.act("create_invoice", clientnr=client["clientnr"], lines=LINES)
    fs.act("register_payment", invoice=invoice["id"], amount=invoice["totalintax"])
    fs.act("register_payment", invoice=invoice["id"], amount="-20.00")
    app = make_app(database_url, fs.connection())

    report = app.sync("fs")

    assert report.totals.quarantined == 0
    with app.engine.connect() as conn:
        amounts = sorted(conn.execute(select(Payment.amount_minor)).scalars())
        open_minor = conn.execute(select(Invoice.open_minor)).scalar_one()
    assert amounts == [-2000, _cents(invoice["totalintax"])]
    assert open_minor == 2000  # the service's own open amount, which the payments now explain
