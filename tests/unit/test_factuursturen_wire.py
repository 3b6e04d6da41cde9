"""Payment events derived from a FactuurSturen invoice's history."""

from decimal import Decimal

from connector.providers.factuursturen.wire import derive_payments, keyed_values


def _invoice(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "20250007",
        "invoicenr_full": "F20250007",
        "totalintax": "121.00",
        "open": "121.00",
        "paiddate": "",
        "history": [],
    }
    base.update(kw)
    return base


def test_no_history_no_payment() -> None:
    assert derive_payments(_invoice()) == []


def test_one_payment_per_history_event_in_order() -> None:
    history = {
        "item2": {
            "date": "2025-02-01",
            "time": "09:00",
            "description": "Betaling ontvangen",
            "amount": Decimal("21.00"),
        },
        "item1": {"date": "2025-01-10", "time": "10:56", "description": "Factuur verstuurd"},
        "item3": {
            "date": "2025-03-01",
            "time": "09:00",
            "description": "Betaling ontvangen",
            "amount": Decimal("120.00"),
        },
    }
    payments = derive_payments(_invoice(open="-20.00", paiddate="2025-03-01", history=history))
    assert [(p["id"], p["date"], p["amount"]) for p in payments] == [
        ("20250007:1", "2025-02-01", "21.00"),
        ("20250007:2", "2025-03-01", "120.00"),
    ]


def test_paid_amount_beyond_history_becomes_a_rest_payment() -> None:
    payments = derive_payments(_invoice(open="21.00", paiddate="2025-01-05"))
    assert [(p["id"], p["amount"], p["date"]) for p in payments] == [("20250007:rest", "100.00", "2025-01-05")]


def test_keyed_values_orders_numerically() -> None:
    assert keyed_values({"line10": 10, "line2": 2, "line1": 1}) == [1, 2, 10]
    assert keyed_values([]) == [] and keyed_values(None) == []
