"""Amounts are read and written in the minor unit of the record's own currency (ISO 4217: JPY 0, EUR 2, KWD 3),
through the shipped mappings; a transform built outside a mapper uses two decimals, and a mapping file can pin one."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.domain import CanonicalInvoice
from connector.mapping import load_mapping
from connector.mapping.transforms import get_transform
from tests.unit.mapping.conftest import MAPPINGS, write_yaml


def _hydra_invoice(currency: str, net: str, vat: str, row_net: str, price: str) -> dict[str, Any]:
    gross = str(Decimal(net) + Decimal(vat))
    return {
        "id": 7, "number": "2026-0007", "customer": "/api/customers/3", "currency": currency, "status": "sent",
        "date": "2026-12-01T00:00:00+00:00", "dueDate": "2026-12-31T00:00:00+00:00", "netAmount": net,
        "vatAmount": vat, "grossAmount": gross, "openAmount": gross, "updatedAt": "2026-12-01T10:00:00+00:00",
        "invoiceRows": [{"productName": "Advies", "quantity": 1, "netPrice": price, "vatRate": "10.00",
                         "netAmount": row_net, "vatAmount": vat}],
    }


@pytest.mark.parametrize(
    ("currency", "net", "vat", "minor_net", "minor_vat"),
    [
        ("EUR", "1234.50", "123.45", 123450, 12345),
        ("JPY", "1234.00", "123.00", 1234, 123),  # yen have no minor unit: 1234 yen are 1234, not 123400
        ("KWD", "12.35", "1.24", 12350, 1240),  # fils are thousandths: 12.35 dinar are 12350 fils
        ("kwd", "12.345", "1.235", 12345, 1235),
    ],
)
def test_hydra_amounts_are_read_in_the_minor_unit_of_the_invoice_currency(
    currency: str, net: str, vat: str, minor_net: int, minor_vat: int
) -> None:
    mapper = load_mapping("hydra", MAPPINGS).bind({})
    invoice = mapper.inbound("invoice", _hydra_invoice(currency, net, vat, net, net))
    assert isinstance(invoice, CanonicalInvoice)
    assert (invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor) == (minor_net, minor_vat,
                                                                                minor_net + minor_vat)
    assert invoice.lines[0].line_total_minor == minor_net
    row = mapper.outbound("invoice", invoice)["invoiceRows"][0]
    assert Decimal(row["netAmount"]) == Decimal(net), "written back as the same amount"


def test_a_fastfaktura_line_price_in_minor_units_follows_the_invoice_currency() -> None:
    mapper = load_mapping("fastfaktura", MAPPINGS).bind({})
    base = {"id": "i1", "number": "FF-1", "client_id": "c1", "status": "sent", "subtotal_cents": 1234,
            "tax_cents": 0, "total_cents": 1234, "due_date": None, "events": [],
            "lines": [{"description": "x", "quantity": 1, "unit_price_cents": 1234, "tax_rate": 0}]}
    eur = mapper.inbound("invoice", {**base, "currency": "EUR"})
    nok = mapper.inbound("invoice", {**base, "currency": "NOK"})
    assert isinstance(eur, CanonicalInvoice) and isinstance(nok, CanonicalInvoice)
    assert eur.lines[0].unit_price == Decimal("12.34") == nok.lines[0].unit_price
    jpy = mapper.inbound("invoice", {**base, "currency": "JPY"})
    assert isinstance(jpy, CanonicalInvoice) and jpy.lines[0].unit_price == Decimal(1234)
    assert mapper.outbound("invoice", jpy)["lines"][0]["unit_price_cents"] == 1234


def test_outside_a_mapper_two_decimals_and_a_mapping_file_can_pin_the_exponent(tmp_path: Path) -> None:
    transform = get_transform("decimal_str_to_minor")
    inbound, outbound = transform.build(transform.resolve_params({}), {})
    assert inbound("62.92") == 6292 and outbound(6292) == "62.92"
    write_yaml(tmp_path, "hydra", """
        provider: hydra
        version: 1
        invoice:
          fields:
            total_minor: { from: grossAmount, transform: { name: decimal_str_to_minor, exponent: 2 }, readonly: true }
    """)
    pinned = load_mapping("hydra", MAPPINGS, tmp_path).bind({})
    invoice = pinned.inbound("invoice", _hydra_invoice("JPY", "1234.00", "0.00", "1234.00", "1234.00"))
    assert isinstance(invoice, CanonicalInvoice)
    assert invoice.total_minor == 123400 and invoice.subtotal_minor == 1234
