"""hydra transactions that are not ordinary payments: a refund, a zero amount, no amount (docs/decisions.md).

A negative amount is a refund, stored as a payment below zero; a zero amount is stored as a payment of zero (the
service holds it; it moves no money); a transaction without an amount is quarantined: what moved is unknown.
Before: the zero transaction was quarantined ("a payment of zero").
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from connector.store.tables import Link, Payment, Quarantine
from tests.hydra.harness import HydraHarness
from tests.support import make_app


def _payments(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Link.remote_id, Payment.amount_minor)  # type: ignore[call-overload]
            .join(Payment, (Link.entity_id == Payment.id) & (Link.entity_kind == "payment"))
        ).all()
    return {remote_id: amount for remote_id, amount in rows}


def test_refunds_zero_and_missing_amounts(database_url: str, hy: HydraHarness) -> None:
    hy.seed(clients=2, invoices=0)
    customer = hy.act("create_customer", name="Retour B.V.", email="retour@example.nl")
    invoice = hy.act("create_invoice", customer=customer["id"], rows=[
        {"productName": "Advies", "quantity": 2, "netPrice": "50.00", "vatRate": "21.00"}])
    made: dict[str, Any] = {
        "paid": hy.act("add_transaction", invoice=invoice["id"], amount="121.00"),
        "refund": hy.act("add_transaction", invoice=invoice["id"], amount="-21.00"),
        "zero": hy.act("add_transaction", invoice=invoice["id"], amount="0"),
        "unknown": hy.act("add_transaction", invoice=invoice["id"], amount="5.00"),
    }
    hy.act("corrupt_invoice", id=invoice["id"], field="amount", value=None, transaction=made["unknown"]["id"])
    app = make_app(database_url, hy.connection("hy"))

    app.sync("hy")

    ids = {name: str(record["id"]) for name, record in made.items()}
    assert _payments(app.engine) == {ids["paid"]: 12100, ids["refund"]: -2100, ids["zero"]: 0}
    with app.engine.connect() as conn:
        [(remote_id, error)] = conn.execute(select(Quarantine.remote_id, Quarantine.error)).all()
    assert remote_id == ids["unknown"] and error.startswith("payment.amount_minor: missing value")
