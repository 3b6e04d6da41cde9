"""Invoice-level discounts both ways (docs/decisions.md): read as FactuurSturen computes them, written only where
the target can carry them, refused with the reason elsewhere."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connector.domain import CanonicalInvoice, CanonicalLine
from connector.errors import MappingError
from connector.mapping import BoundMapper, get_transform, load_mapping
from tests.unit.mapping.conftest import MAPPINGS


def _discount(values: tuple[Any, ...]) -> int:
    transform = get_transform("factuursturen_invoice_discount")
    inbound, _ = transform.build(transform.resolve_params({}), {})
    return int(inbound(values))


LINES = {
    "line1": {"amount": Decimal(2), "linetotal": Decimal("122.70"), "tax_rate": 21},
    "line2": {"amount": 1, "linetotal": Decimal("19.99"), "tax_rate": 9},
    "line3": {"amount": 1, "linetotal": Decimal("7.5"), "tax_rate": 0},
    "line4": {"amount": 0, "description": "text only", "linetotal": 0, "tax_rate": 0},
}


@pytest.mark.parametrize(("discount", "kind", "expected"), [
    ("0", "percentage", 0),
    ("", "", 0),
    ("15.00", "amount", 1500),
    ("10", "percentage", 1227 + 200 + 75),  # per rate: 12.27, 2.00 (1.999), 0.75, each rounded half up
    ("10", "", 1502),  # an empty type reads as a percentage, as the service reads it
    ("12.5", "percentage", 1534 + 250 + 94),  # 15.3375 -> 15.34, 2.49875 -> 2.50, 0.9375 -> 0.94
])
def test_the_discount_is_read_as_the_service_computes_it(discount: str, kind: str, expected: int) -> None:
    assert _discount((discount, kind, LINES)) == expected


@pytest.mark.parametrize(("discount", "kind"), [("150", "percentage"), ("5", "fixed"), ("x", "amount")])
def test_a_discount_that_is_not_one_is_a_read_error(discount: str, kind: str) -> None:
    with pytest.raises(ValueError):
        _discount((discount, kind, LINES))


def _invoice(discount: int) -> CanonicalInvoice:
    line = CanonicalLine(position=1, description="Advies", quantity=Decimal(1), unit_price=Decimal(100),
                         vat_rate=Decimal(21), line_total_minor=10000)
    return CanonicalInvoice("1", "F1", "7", "EUR", "sent", subtotal_minor=10000 - discount,
                            tax_minor=(10000 - discount) * 21 // 100, total_minor=(10000 - discount) * 121 // 100,
                            discount_minor=discount, lines=[line])


@pytest.mark.parametrize("provider", ["hydra", "fastfaktura", "facturalia"])
def test_targets_without_an_invoice_discount_refuse_one_and_take_the_rest(provider: str) -> None:
    mapper = load_mapping(provider, MAPPINGS).bind({})
    with pytest.raises(MappingError) as caught:
        mapper.outbound("invoice", _invoice(1500))
    assert str(caught.value) == (f"invoice.discount_minor: 1500 in minor units, which {provider} cannot carry: "
                                 "its totals would come out wrong")
    assert "discount" not in mapper.outbound("invoice", _invoice(0))  # without one, the invoice goes as before


def test_factuursturen_writes_it_as_an_amount(fs: BoundMapper) -> None:
    assert fs.outbound("invoice", _invoice(1500))["discount"] == "15.00"
    assert fs.outbound("invoice", _invoice(0))["discount"] == "0.00"
