"""The shipped FactuurSturen mapping against realistic wire payloads, both ways, with exact minor units."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from connector.domain import CanonicalClient, CanonicalInvoice, CanonicalLine, CanonicalPayment
from connector.errors import MappingError, MappingSpecError
from connector.mapping import BoundMapper, Mapper, check_mappings
from tests.unit.mapping.conftest import MAPPINGS

WRITABLE_CLIENT_KEYS = (
    "company",
    "contact",
    "email",
    "phone",
    "mobile",
    "address",
    "zipcode",
    "city",
    "country",
    "taxnumber",
    "currency",
    "active",
)


def test_shipped_mapping_loads(fs_mapper: Mapper) -> None:
    assert fs_mapper.provider == "factuursturen"
    assert fs_mapper.entities == {"client", "invoice", "payment"}
    assert fs_mapper.references_needed == {"countrylist"}
    lines = check_mappings(MAPPINGS, None)
    assert any(line.startswith("ok  factuursturen: client 14 fields") for line in lines), lines


def test_bind_without_the_country_list_names_the_field(fs_mapper: Mapper) -> None:
    with pytest.raises(
        MappingSpecError,
        match=r"client\.country: transform 'country_id_to_iso' needs "
        r"reference list 'countrylist'",
    ):
        fs_mapper.bind({})


def test_client_inbound(fs: BoundMapper, fs_clients: list[dict[str, Any]]) -> None:
    client = fs.inbound("client", fs_clients[0])
    assert client == CanonicalClient(
        remote_id="1",
        name="Bakkerij Jansen B.V.",
        contact_name="Jan Jansen",
        email="jan@bakkerij.nl",
        phone="030-1234567",
        mobile=None,
        street="Dorpsstraat 1",
        postal_code="1234 AB",
        city="Utrecht",
        country="NL",
        vat_number="NL001234567B01",
        currency="EUR",
        archived=False,
        remote_updated_at=datetime(2025, 1, 2, 9, 56, tzinfo=UTC),  # 10:56 in Amsterdam (CET)
        extra={"doc_language": "nl", "send_method": "email", "payment_method": "bank"},
    )


def test_client_without_company_is_named_after_its_contact(fs: BoundMapper, fs_clients: list[dict[str, Any]]) -> None:
    client = fs.inbound("client", fs_clients[1])
    assert (client.name, client.contact_name) == ("Mary Smith", "Mary Smith")
    assert (client.country, client.archived) == ("GB", True)
    assert client.remote_updated_at == datetime(2024, 7, 1, 21, 30, tzinfo=UTC)  # CEST in summer
    assert client.currency == "GBP"
    assert client.extra == {"send_method": "mail", "payment_method": "bank"}  # "" doclang left out


@pytest.mark.parametrize("index", [0, 1])
def test_client_round_trip_keeps_writable_fields(fs: BoundMapper, fs_clients: list[dict[str, Any]], index: int) -> None:
    raw = fs_clients[index]
    out = fs.outbound("client", fs.inbound("client", raw))
    expected = {k: raw[k] for k in WRITABLE_CLIENT_KEYS}
    if not raw["company"]:  # the canonical name is written to `company` (first path of first_non_empty)
        expected["company"] = raw["contact"]
    assert {k: out[k] for k in WRITABLE_CLIENT_KEYS} == expected
    assert "clientnr" not in out and "timestamp" not in out  # readonly
    assert fs.inbound("client", {**raw, **out}) == fs.inbound("client", raw)


def test_invoice_inbound_with_keyed_lines(fs: BoundMapper, fs_invoices: dict[str, dict[str, Any]]) -> None:
    invoice = fs.inbound("invoice", fs_invoices["20250001"])
    assert isinstance(invoice, CanonicalInvoice)
    assert (invoice.remote_id, invoice.number, invoice.client_remote_id, invoice.currency) == (
        "20250001",
        "F20250001",
        "1",
        "EUR",
    )
    assert invoice.status == "partially_paid"
    assert (invoice.issued_on, invoice.due_on, invoice.paid_on) == (
        date(2025, 1, 2),
        date(2025, 2, 1),
        date(2025, 1, 10),
    )
    assert (invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor, invoice.open_minor) == (
        129760,
        17875,
        147635,
        97635,
    )
    assert invoice.lines == [
        CanonicalLine(
            1, "Sound buttons", Decimal(50), Decimal("5.952"), Decimal(21), Decimal(0), "panels", 29760, extra={}
        ),
        CanonicalLine(2, "Wooden case", Decimal(1), Decimal(500), Decimal(21), Decimal(25), None, 37500, extra={}),
        CanonicalLine(3, "Support", Decimal(10), Decimal("62.5"), Decimal(6), Decimal(0), "hours", 62500, extra={}),
        CanonicalLine(4, "This is a textline", extra={}),  # text-only "line10" sorts last, numbers default to 0
    ]
    assert sum(line.line_total_minor for line in invoice.lines) == invoice.subtotal_minor


def test_invoice_with_empty_lines_and_empty_dates(fs: BoundMapper, fs_invoices: dict[str, dict[str, Any]]) -> None:
    invoice = fs.inbound("invoice", fs_invoices["20250002"])
    assert invoice.lines == []
    assert invoice.number == "F20250002"  # invoicenr_full "" falls back to invoicenr
    assert (invoice.due_on, invoice.paid_on) == (None, None)
    assert (invoice.total_minor, invoice.open_minor, invoice.status) == (0, 0, "paid")


def test_overpaid_invoice_and_no_tax_line(fs: BoundMapper, fs_invoices: dict[str, dict[str, Any]]) -> None:
    invoice = fs.inbound("invoice", fs_invoices["20250003"])
    assert (invoice.status, invoice.open_minor, invoice.total_minor, invoice.subtotal_minor) == (
        "overpaid",
        -400,
        10000,
        10000,
    )
    [line] = invoice.lines
    assert (line.vat_rate, line.extra) == (Decimal(0), {"no_tax": True})  # -1 = "no tax", kept as a flag


def test_uncollectible_invoice(fs: BoundMapper, fs_invoices: dict[str, dict[str, Any]]) -> None:
    assert fs.inbound("invoice", fs_invoices["20250004"]).status == "uncollectible"


@pytest.mark.parametrize(
    ("open_", "total", "status"),
    [
        ("62.92", "62.92", "sent"),
        ("10.00", "62.92", "partially_paid"),
        ("0.00", "62.92", "paid"),
        ("-0.01", "62.92", "overpaid"),
        ("-20.00", "-20.00", "sent"),
        ("-5.00", "-20.00", "partially_paid"),
    ],
)
def test_invoice_status_from_open_amount(
    fs: BoundMapper, fs_invoices: dict[str, dict[str, Any]], open_: str, total: str, status: str
) -> None:
    raw = {**fs_invoices["20250002"], "open": open_, "totalintax": total, "tax": "0.00"}
    assert fs.inbound("invoice", raw).status == status


def test_three_decimal_price_and_float_noise(fs: BoundMapper, fs_invoices: dict[str, dict[str, Any]]) -> None:
    raw = copy.deepcopy(fs_invoices["20250001"])
    raw["lines"]["line1"]["price"] = Decimal("5.9520000000000001")
    assert fs.inbound("invoice", raw).lines[0].unit_price == Decimal("5.952")


@pytest.mark.parametrize(
    ("field", "value", "where", "problem"),
    [
        ("tax", "12,3a", "invoice.tax_minor", "not a decimal number: '12,3a'"),
        ("sent", "2024-13-45", "invoice.issued_on", "not a date (YYYY-MM-DD): '2024-13-45'"),
        ("totalintax", "", "invoice.status", "needs both amounts"),
    ],
)
def test_unreadable_invoice_values_name_entity_and_field(
    fs: BoundMapper, fs_invoices: dict[str, dict[str, Any]], field: str, value: str, where: str, problem: str
) -> None:
    with pytest.raises(MappingError) as caught:
        fs.inbound("invoice", {**fs_invoices["20250002"], field: value})
    assert f"{caught.value.entity}.{caught.value.field}" == where
    assert problem in caught.value.problem


def test_unreadable_line_names_its_position(fs: BoundMapper, fs_invoices: dict[str, dict[str, Any]]) -> None:
    raw = copy.deepcopy(fs_invoices["20250001"])
    raw["lines"]["line3"]["amount"] = "ten"
    with pytest.raises(MappingError, match=r"invoice\.lines\[3\]\.quantity: not a decimal number: 'ten'"):
        fs.inbound("invoice", raw)


def test_floats_are_refused(fs: BoundMapper, fs_invoices: dict[str, dict[str, Any]]) -> None:
    raw = copy.deepcopy(fs_invoices["20250001"])
    raw["lines"]["line1"]["linetotal"] = 297.6
    with pytest.raises(MappingError, match=r"lines\[1\]\.line_total_minor: .*float"):
        fs.inbound("invoice", raw)


def test_missing_required_value(fs: BoundMapper, fs_clients: list[dict[str, Any]]) -> None:
    with pytest.raises(MappingError, match=r"client\.name: missing value at 'company, contact'"):
        fs.inbound("client", {**fs_clients[0], "company": "", "contact": " "})


def test_unknown_country_id(fs: BoundMapper, fs_clients: list[dict[str, Any]]) -> None:
    with pytest.raises(MappingError, match=r"client\.country: unknown country id '999'"):
        fs.inbound("client", {**fs_clients[0], "country": "999"})
    with pytest.raises(MappingError, match=r"country id '998' \('Atlantis'\) has no known ISO 3166 code"):
        fs.inbound("client", {**fs_clients[0], "country": "998"})


def test_not_an_object(fs: BoundMapper) -> None:
    with pytest.raises(MappingError, match="expected an object, got list"):
        fs.inbound("invoice", [])  # type: ignore[call-overload]


def test_invoice_outbound_is_the_post_body(fs: BoundMapper, fs_invoices: dict[str, dict[str, Any]]) -> None:
    out = fs.outbound("invoice", fs.inbound("invoice", fs_invoices["20250001"]))
    assert out == {
        "clientnr": "1",
        "discount": "0.00",  # always an amount: no client standard discount on totals made elsewhere
        "lines": [
            {
                "description": "Sound buttons",
                "amount": "50",
                "amount_desc": "panels",
                "price": "5.952",
                "tax_rate": "21",
                "discount_pct": "0",
            },
            {
                "description": "Wooden case",
                "amount": "1",
                "amount_desc": "",
                "price": "500",
                "tax_rate": "21",
                "discount_pct": "25",
            },
            {
                "description": "Support",
                "amount": "10",
                "amount_desc": "hours",
                "price": "62.5",
                "tax_rate": "6",
                "discount_pct": "0",
            },
            {
                "description": "This is a textline",
                "amount": "0",
                "amount_desc": "",
                "price": "0",
                "tax_rate": "0",
                "discount_pct": "0",
            },
        ],
    }


PAYMENT = {
    "id": "20250001:1",
    "invoice_id": "20250001",
    "invoicenr": "F20250001",
    "date": "2025-01-02",
    "time": "10:56",
    "amount": "12.34",
    "method": "",
    "currency": "EUR",
}


def test_payment_both_ways(fs: BoundMapper) -> None:
    payment = fs.inbound("payment", PAYMENT)
    assert payment == CanonicalPayment("20250001:1", "20250001", 1234, "EUR", date(2025, 1, 2), method=None)
    # invoice_id goes out too: the provider takes it into the URL (POST invoices_payment/{id}).
    assert fs.outbound("payment", payment) == {"invoice_id": "20250001", "date": "2025-01-02", "amount": "12.34"}


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        ("12,3a", "not a decimal number: '12,3a'"),
    ],
)
def test_bad_payment_amount(fs: BoundMapper, amount: str, problem: str) -> None:
    with pytest.raises(MappingError) as caught:
        fs.inbound("payment", {**PAYMENT, "amount": amount})
    assert (caught.value.entity, caught.value.field, caught.value.problem) == ("payment", "amount_minor", problem)


def test_a_refund_is_a_negative_payment_and_zero_is_not_sent(fs: BoundMapper) -> None:
    refund = fs.inbound("payment", {**PAYMENT, "amount": "-5.00"})
    assert refund.amount_minor == -500
    assert fs.outbound("payment", refund)["amount"] == "-5.00"  # the service books negative amounts
    zero = fs.inbound("payment", {**PAYMENT, "amount": "0.00"})
    with pytest.raises(MappingError, match=r"payment\.amount_minor: an amount of zero"):
        fs.outbound("payment", zero)


def test_payment_amount_with_comma(fs: BoundMapper) -> None:
    assert fs.inbound("payment", {**PAYMENT, "amount": "12,5"}).amount_minor == 1250


def test_unknown_entity(fs: BoundMapper) -> None:
    with pytest.raises(MappingError, match="has no 'product'; mapped: client, invoice, payment"):
        fs.inbound("product", {})


def test_outbound_refuses_the_wrong_record(fs: BoundMapper) -> None:
    with pytest.raises(MappingError, match="expected a CanonicalClient, got CanonicalPayment"):
        fs.outbound("client", fs.inbound("payment", PAYMENT))


def test_outbound_country_not_in_the_list(fs: BoundMapper, fs_clients: list[dict[str, Any]]) -> None:
    client = fs.inbound("client", fs_clients[0])
    client.country = "FR"
    with pytest.raises(MappingError, match=r"client\.country: country 'FR' is not in the service's country list"):
        fs.outbound("client", client)
    client.country = None
    assert fs.outbound("client", client)["country"] == ""
