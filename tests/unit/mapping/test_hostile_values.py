"""No transform lets hostile wire values escape as anything but a read error (which the mapper names as a
`MappingError`), nor spends unbounded time on a giant exponent, and no mapped record escapes the fit check."""

from __future__ import annotations

import contextlib
import time
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connector.domain import CanonicalInvoice, CanonicalLine, CanonicalPayment
from connector.errors import MappingError
from connector.mapping import get_transform, known_transforms
from connector.mapping.steps import READ_ERRORS
from connector.sync.validate import check_record
from tests.unit.mapping.test_transforms import COUNTRIES

HOSTILE: list[Any] = [
    float("inf"), float("-inf"), float("nan"), 1e308, Decimal("Infinity"), Decimal("NaN"), Decimal("sNaN"),
    Decimal("1E+999999999"), Decimal("-1E+999999999"), Decimal("1E-999999999"), "1e999999999", "-1e999",
    "1e-999999999", 10**5000, -(10**5000), "9" * 5000, "9" * 5000 + ".00", True, [], {}, ["1"], {"a": 1},
    object(), "\x00", "nan", "Infinity",
]
_PARAMS: dict[str, dict[str, Any]] = {"flag_when": {"equals": "-1"}, "fastfaktura_event_date": {"type": "paid"}}


@pytest.mark.parametrize("name", known_transforms())
def test_every_transform_refuses_hostile_values_with_a_read_error(name: str) -> None:
    transform = get_transform(name)
    inbound, _ = transform.build(transform.resolve_params(_PARAMS.get(name, {})), {"countrylist": COUNTRIES})
    for value in HOSTILE:
        for given in (value, (value, value, value)):  # transforms reading several values take a tuple
            started = time.monotonic()
            with contextlib.suppress(READ_ERRORS):
                inbound(given)
            assert time.monotonic() - started < 5, f"{name} spent {time.monotonic() - started:.1f} s on {value!r:.40}"


def _invoice(**changes: Any) -> CanonicalInvoice:
    line = CanonicalLine(position=1, description="x", quantity=Decimal(1), unit_price=Decimal(10),
                         line_total_minor=1000)
    fields: dict[str, Any] = {"remote_id": "1", "number": "F1", "client_remote_id": "7", "currency": "EUR",
                              "status": "sent", "subtotal_minor": 1000, "tax_minor": 210, "total_minor": 1210,
                              "lines": [line]}
    return CanonicalInvoice(**{**fields, **changes})


@pytest.mark.parametrize(("changes", "problem"), [
    ({"open_minor": 2**63}, "invoice.open_minor: 9223372036854775808 is out of range"),
    ({"open_minor": 10**5000}, "invoice.open_minor: a number of 16610 bits is out of range"),
    ({"open_minor": Decimal(12)}, "invoice.open_minor: expected a whole number, got Decimal"),
    ({"currency": "5"}, "invoice.currency: '5' is not an ISO 4217 code"),
    ({"currency": "EURO"}, "invoice.currency: 'EURO' is longer than 3 characters"),
    ({"client_remote_id": None}, "invoice.client_remote_id: a value is required"),
    ({"remote_id": ""}, "invoice.remote_id: a value is required"),
    ({"status": "x" * 21}, "invoice.status:"),
    ({"extra": {"n": Decimal("1.5")}}, "invoice.extra: not storable as JSON"),
    ({"extra": {"n": float("nan")}}, "invoice.extra: not storable as JSON"),
    ({"lines": [CanonicalLine(position=1, description="x", quantity=Decimal("1E+40"), line_total_minor=1000)]},
     "invoice.lines[1].quantity: Decimal('1E+40') does not fit 40 characters"),
    ({"lines": [CanonicalLine(position=1, description="x", unit_price=Decimal("NaN"), line_total_minor=1000)]},
     "invoice.lines[1].unit_price: NaN is not a finite number"),
])
def test_a_record_the_store_cannot_take_is_refused_naming_the_field(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(MappingError) as caught:
        check_record(_invoice(**changes))
    assert str(caught.value).startswith(problem)


def test_records_that_fit_pass() -> None:
    check_record(_invoice(open_minor=2**63 - 1, extra={"reference": "x", "n": 3}))
    check_record(CanonicalPayment("p1", "1", -(2**63), "EUR", date(2025, 1, 1)))
