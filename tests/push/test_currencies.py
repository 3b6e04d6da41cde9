"""A JPY invoice and a KWD invoice (three decimals) pulled from one hydra account and pushed to another keep their
exact amounts: the canonical store holds them in the currency's own minor unit (yen; fils, thousandths of a dinar),
and the receiving account ends up with the same amounts in the same currency.

The receiver is a second hydra account: of the four services only hydra takes these currencies (FastFaktura's
currency is one of EUR, USD, GBP, NOK, SEK and DKK; Facturalia invoices in EUR only; FactuurSturen's invoices carry
no currency). hydra keeps amounts with two decimals (decision 36), so the dinar amounts end in a zero there; the
three-decimal reading itself is pinned in tests/unit/mapping/test_currency_exponents.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import select

from connector.store.tables import Invoice, InvoiceLine, Link
from tests.hydra.harness import HydraHarness
from tests.support import make_app


@pytest.fixture
def hy_source() -> Iterator[HydraHarness]:
    """A second hydra account, where the invoices originate."""
    harness = HydraHarness.start()
    harness.reset()
    yield harness
    harness.stop()


def _invoice(harness: HydraHarness, customer: int, currency: str, price: str, reference: str) -> dict[str, object]:
    rows = [{"productName": "Consult", "quantity": 3, "netPrice": price, "vatRate": "10.00"},
            {"productName": "Reis", "quantity": 1, "netPrice": price, "vatRate": "0.00"}]
    return dict(harness.act("create_invoice", customer=customer, currency=currency, rows=rows, reference=reference,
                            date="2026-12-01", dueDate="2026-12-31"))


def test_jpy_and_kwd_invoices_keep_their_exact_amounts_from_one_service_to_another(
    database_url: str, hy_source: HydraHarness, hy: HydraHarness
) -> None:
    customer = hy_source.act("create_customer", name="Tanaka Shoji K.K.", email="ap@tanaka.example")["id"]
    _invoice(hy_source, customer, "JPY", "41250.00", "yen")
    _invoice(hy_source, customer, "KWD", "12.35", "dinar")
    source = {i["reference"]: i for i in hy_source.state()["invoices"]}
    app = make_app(database_url, hy_source.connection("src"), hy.connection("dst", receives=["client", "invoice"]))
    app.sync("src")

    with app.engine.connect() as conn:
        stored = {
            row.currency: row
            for row in conn.execute(
                select(Invoice.currency, Invoice.subtotal_minor, Invoice.tax_minor, Invoice.total_minor, Invoice.id)  # type: ignore[call-overload]
                .join(Link, Link.entity_id == Invoice.id)
                .where(Link.connection == "src", Link.entity_kind == "invoice")
            )
        }
        lines = {
            invoice_id: sorted(total for (total,) in rows)
            for invoice_id, rows in (
                (row.id, conn.execute(select(InvoiceLine.line_total_minor).where(InvoiceLine.invoice_id == row.id)))
                for row in stored.values()
            )
        }
    # 3 x 41250 yen + 41250 yen = 165000 yen, 10 % VAT on 123750 = 12375 yen: whole yen, no cents.
    assert (stored["JPY"].subtotal_minor, stored["JPY"].tax_minor, stored["JPY"].total_minor) == (165000, 12375, 177375)
    assert lines[stored["JPY"].id] == [41250, 123750]
    # 3 x 12.35 + 12.35 = 49.40 dinar = 49400 fils; VAT 10 % of 37.05 = 3.705, kept at hydra's two decimals: 3.71.
    assert (stored["KWD"].subtotal_minor, stored["KWD"].tax_minor, stored["KWD"].total_minor) == (49400, 3710, 53110)
    assert lines[stored["KWD"].id] == [12350, 37050]

    [pushed] = app.push("dst")
    assert pushed.drain is not None and pushed.drain.failed == 0, pushed
    received = {i["reference"].split()[0]: i for i in hy.state()["invoices"]}  # after it, the connector's marker
    for reference, currency in (("yen", "JPY"), ("dinar", "KWD")):
        origin, copy = source[reference], received[reference]
        assert copy["currency"] == currency
        for amount in ("netAmount", "vatAmount", "grossAmount"):
            assert Decimal(str(copy[amount])) == Decimal(str(origin[amount])), (currency, amount)
