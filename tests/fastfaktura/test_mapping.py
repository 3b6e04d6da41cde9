"""The fastfaktura mapping and its transforms: cents, line money (decision 8), dates from the timeline."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.errors import MappingError
from connector.mapping import load_mapping
from connector.mapping.mapper import BoundMapper
from connector.mapping.transforms import get_transform
from connector.providers.fastfaktura.wire import derive_payments
from connector.sync.validate import check_record

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


@pytest.fixture(scope="module")
def mapper() -> BoundMapper:
    return load_mapping("fastfaktura", MAPPINGS).bind({})


def _inbound(name: str, **params: Any) -> Any:
    transform = get_transform(name)
    return transform.build(transform.resolve_params(params), {})[0]


def _outbound(name: str, **params: Any) -> Any:
    transform = get_transform(name)
    return transform.build(transform.resolve_params(params), {})[1]


DETAIL: dict[str, Any] = {
    "id": "3f6c8a8e-1b2c-4d5e-8f90-123456789abc", "number": "FF-2025-0042",
    "client_id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "currency": "SEK", "subtotal_cents": 142333,
    "tax_cents": 35632, "total_cents": 177965, "status": "opened", "due_date": "2025-03-31",
    "public_url": "https://app.fastfaktura.io/i/abc", "notes": None,
    "lines": [
        {"description": "Design", "quantity": Decimal("1.5"), "unit_price_cents": 95055, "tax_rate": 25},
        {"description": "Rabatt", "quantity": 1, "unit_price_cents": -250, "tax_rate": Decimal("5.5")},
    ],
    "events": [
        {"id": "e1", "type": "created", "created_at": "2025-03-01T09:00:00Z"},
        {"id": "e2", "type": "sent", "created_at": "2025-03-01T23:30:00Z", "channel": "email"},
        {"id": "e3", "type": "sent", "created_at": "2025-03-04T08:00:00Z", "channel": "sms"},
        {"id": "e4", "type": "opened", "created_at": "2025-03-05T10:00:00Z"},
    ],
}


@pytest.mark.parametrize(("values", "net", "tax"), [
    ((1, 1, 50), 1, 1),                                  # half a cent of tax rounds up
    ((Decimal("1.5"), 333, Decimal("5.5")), 500, 27),     # 499.5 -> 500; 27.4725 -> 27
    ((3, -250, 25), -750, -188),                         # -187.5 rounds away from zero
    ((Decimal("0.25"), 1999, 12), 500, 60),              # 499.75 -> 500; 59.97 -> 60
])
def test_line_money_is_rounded_half_up_per_line(values: tuple[Any, ...], net: int, tax: int) -> None:
    assert _inbound("fastfaktura_line_net")(values[:2]) == net
    assert _inbound("fastfaktura_line_tax")(values) == tax


@pytest.mark.parametrize("value", ["12,3a", Decimal("1.5"), True, "n/a"])
def test_cents_refuse_anything_but_whole_numbers(value: Any) -> None:
    with pytest.raises(ValueError):
        _inbound("cents")(value)


def test_cents_and_major_units_convert_exactly() -> None:
    assert _inbound("cents")(Decimal("1200")) == 1200
    assert _inbound("cents_to_major")(95055) == Decimal("950.55")
    assert _outbound("cents_to_major")(Decimal("950.55")) == 95055
    assert _outbound("cents_to_major")(Decimal("120")) == 12000
    with pytest.raises(ValueError, match="whole cents"):
        _outbound("cents_to_major")(Decimal("10.005"))
    assert _outbound("json_number")(Decimal("1.50")) == Decimal("1.50")


def test_dates_come_from_the_timeline_in_utc() -> None:
    first_sent = _inbound("fastfaktura_event_date", type="sent")
    assert first_sent(DETAIL["events"]) == date(2025, 3, 1)
    assert first_sent([{"type": "sent", "created_at": "2025-03-01T23:30:00-02:00"}]) == date(2025, 3, 2)
    assert first_sent([{"type": "created", "created_at": "2025-03-01T09:00:00Z"}]) is None
    last_paid = _inbound("fastfaktura_event_date", type="paid", pick="last", field="paid_at")
    assert last_paid([{"type": "paid", "created_at": "2025-04-02T00:00:00Z", "paid_at": "2025-04-01T22:00:00Z"},
                      {"type": "paid", "created_at": "2025-05-02T00:00:00Z", "paid_at": "2025-05-01T10:00:00Z"}]) \
        == date(2025, 5, 1)
    with pytest.raises(ValueError, match="ISO 8601"):
        first_sent([{"type": "sent", "created_at": "yesterday"}])


def test_an_invoice_detail_maps_with_totals_that_add_up(mapper: BoundMapper) -> None:
    invoice = mapper.inbound("invoice", DETAIL)

    assert (invoice.number, invoice.currency, invoice.status) == ("FF-2025-0042", "SEK", "sent")
    assert invoice.extra == {"remote_status": "opened", "public_url": "https://app.fastfaktura.io/i/abc"}
    assert (invoice.issued_on, invoice.due_on, invoice.paid_on) == (date(2025, 3, 1), date(2025, 3, 31), None)
    assert invoice.open_minor == invoice.total_minor == 177965
    assert [(ln.position, ln.quantity, ln.unit_price, ln.vat_rate, ln.line_total_minor, ln.tax_minor)
            for ln in invoice.lines] == [
        (1, Decimal("1.5"), Decimal("950.55"), Decimal(25), 142583, 35646),
        (2, Decimal(1), Decimal("-2.50"), Decimal("5.5"), -250, -14)]
    check_record(invoice)  # subtotal = the lines' nets, total = subtotal + tax
    assert sum(ln.tax_minor or 0 for ln in invoice.lines) == invoice.tax_minor


def test_a_paid_invoice_has_no_open_amount_and_its_payment_maps(mapper: BoundMapper) -> None:
    paid = {**DETAIL, "status": "paid", "events": [*DETAIL["events"], {
        "id": "e5", "type": "paid", "created_at": "2025-03-09T12:00:00Z", "amount_cents": 177965,
        "paid_at": "2025-03-09T11:59:58Z", "data": {"method": "card", "payment_intent": "pi_1"}}]}
    invoice = mapper.inbound("invoice", paid)
    assert (invoice.status, invoice.open_minor, invoice.paid_on) == ("paid", 0, date(2025, 3, 9))

    [raw] = derive_payments(paid)
    payment = mapper.inbound("payment", raw)

    assert (payment.remote_id, payment.invoice_remote_id, payment.amount_minor, payment.currency) == (
        "e5", DETAIL["id"], 177965, "SEK")
    assert payment.paid_on == date(2025, 3, 9) and payment.method == "card"
    assert payment.paid_at == datetime(2025, 3, 9, 11, 59, 58, tzinfo=UTC)
    assert mapper.inbound("invoice", {**paid, "status": "cancelled"}).open_minor == 0


def test_clients_map_archived_and_extras(mapper: BoundMapper) -> None:
    raw = {"id": "c1", "name": "Fjord AS", "email": None, "phone": "+4791234567", "address": "Storgata 1",
           "country": "NO", "locale": "nb", "external_id": None, "tags": ["vip"], "archived_at": "2025-01-01T10:00:00Z"}
    client = mapper.inbound("client", raw)
    assert (client.name, client.email, client.phone, client.street, client.country) == (
        "Fjord AS", None, "+4791234567", "Storgata 1", "NO")
    assert client.archived is True and client.extra == {"locale": "nb", "tags": ["vip"]}
    assert mapper.inbound("client", {**raw, "archived_at": None}).archived is False
    assert mapper.outbound("client", client)["email"] is None  # empty goes back as null, not ""


@pytest.mark.parametrize(("path", "value", "field"), [
    (("lines", 0, "unit_price_cents"), "12,3a", "lines[1].unit_price"),
    (("status",), "archived", "status"),
    (("total_cents",), Decimal("1.5"), "total_minor"),
    (("events",), "not a list", "issued_on"),
])
def test_unreadable_values_name_the_field(mapper: BoundMapper, path: tuple[Any, ...], value: Any, field: str) -> None:
    broken: Any = {**DETAIL, "lines": [dict(line) for line in DETAIL["lines"]]}
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(MappingError) as caught:
        mapper.inbound("invoice", broken)
    assert caught.value.field == field
