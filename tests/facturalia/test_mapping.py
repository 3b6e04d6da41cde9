"""mappings/facturalia.yaml: canonical invoice + client -> the create payload, checked before any request."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connector.app import App
from connector.domain import CanonicalClient, CanonicalInvoice, CanonicalLine
from connector.errors import MappingError
from connector.mapping import BoundMapper, load_mapping
from connector.providers.facturalia import FacturaliaProvider
from connector.settings import Settings
from tests.facturalia.harness import FacturaliaHarness

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


@pytest.fixture(scope="module")
def mapper() -> BoundMapper:
    return load_mapping("facturalia", MAPPINGS).bind({})


def invoice(**changes: object) -> CanonicalInvoice:
    lines = [
        CanonicalLine(1, "Advies", Decimal("2"), Decimal("95.50"), Decimal("21.00"), line_total_minor=19100,
                      extra={"product_code": "CONSULT"}),
        CanonicalLine(2, "Boek", Decimal("1"), Decimal("12.345"), Decimal("6"), line_total_minor=1235),
    ]
    record = CanonicalInvoice("fs-17", "F20250017", "c-3", "EUR", "sent", issued_on=date(2025, 9, 26),
                              due_on=date(2025, 10, 10), subtotal_minor=20335, tax_minor=4085, total_minor=24420,
                              lines=lines, extra={"language": "fr", "reference": "PO-9", "colour": "blue"})
    for name, value in changes.items():
        setattr(record, name, value)
    return record


def client(**changes: object) -> CanonicalClient:
    record = CanonicalClient("c-3", "Bakkerij Peeters BV", email="boekhouding@peeters.be", street="Kerkstraat 1",
                             postal_code="9000", city="Gent", country="be", vat_number="BE0123456749",
                             external_id="K00003", mobile="+32 470 00 00 00")
    for name, value in changes.items():
        setattr(record, name, value)
    return record


def test_outbound_invoice_and_client_shapes(mapper: BoundMapper) -> None:
    wire = mapper.outbound("invoice", invoice())
    assert wire["invoice"] == {"number": "F20250017", "date": "2025-09-26", "due_date": "2025-10-10",
                               "language": "fr", "reference": "PO-9"}
    assert wire["currency"] is None  # EUR: not sent
    assert wire["lines"][0] == {"description": "Advies", "quantity": Decimal("2"), "unit_price": Decimal("95.50"),
                                "vat_rate": 21, "discount_percent": None, "product_code": "CONSULT"}
    assert "product_code" not in wire["lines"][1]  # the provider fills in the connection's default
    assert mapper.outbound("client", client()) == {
        "name": "Bakkerij Peeters BV", "vat_number": "BE0123456749", "street": "Kerkstraat 1", "postal_code": "9000",
        "city": "Gent", "country": "BE", "email": "boekhouding@peeters.be", "phone": None,
        "external_customer_no": "K00003"}


@pytest.mark.parametrize(("record", "field"), [
    (lambda: invoice(lines=[CanonicalLine(1, "x", Decimal(1), Decimal(10), Decimal(9))]), "lines[1].vat_rate"),
    (lambda: invoice(currency="USD"), "currency"),
    (lambda: invoice(lines=[CanonicalLine(1, "x", Decimal(1), Decimal(10), Decimal(21), Decimal(5))]),
     "lines[1].discount_percent"),
])
def test_what_facturalia_cannot_take_fails_in_the_mapping(mapper: BoundMapper, record: object, field: str) -> None:
    with pytest.raises(MappingError) as caught:
        mapper.outbound("invoice", record())  # type: ignore[operator]
    assert caught.value.field == field


def test_a_country_that_is_not_iso2_fails_in_the_mapping(mapper: BoundMapper) -> None:
    with pytest.raises(MappingError, match="alpha-2") as caught:
        mapper.outbound("client", client(country="Belgium"))
    assert caught.value.field == "country"


def test_a_pushed_invoice_arrives_with_the_totals_the_store_holds(fac: FacturaliaHarness, mapper: BoundMapper) -> None:
    conn = fac.connection(options={"default_product_code": "LICENSE"})
    provider = App(Settings(), connections=[conn]).provider(conn)
    assert isinstance(provider, FacturaliaProvider)
    canonical = invoice()
    payload = {**mapper.outbound("invoice", canonical), "customer": mapper.outbound("client", client())}
    remote_id = provider.write("invoice", "create", payload, None, idempotency_key="fs-17:v1")
    stored = fac.state()["invoices"][0]
    assert str(stored["id"]) == remote_id and stored["number"] == "F20250017"
    assert stored["request"]["invoice"]["due_days"] == 14
    assert [line["product_code"] for line in stored["request"]["lines"]] == ["CONSULT", "LICENSE"]
    answer = stored["response"]
    assert (answer["due_date"], answer["customer"]["country"], answer["language"]) == ("2025-10-10", "BE", "fr")
    assert provider.last_created is not None
    back = mapper.inbound("invoice", provider.last_created.body)  # what the service made of it
    assert (back.subtotal_minor, back.tax_minor, back.total_minor) == (
        canonical.subtotal_minor, canonical.tax_minor, canonical.total_minor)
    assert [line.line_total_minor for line in back.lines] == [line.line_total_minor for line in canonical.lines]
    assert back.remote_id == remote_id and back.extra == {"language": "fr", "reference": "PO-9"}


def test_the_mapping_refusal_means_no_request(fac: FacturaliaHarness, mapper: BoundMapper) -> None:
    bad = invoice(lines=[CanonicalLine(1, "x", Decimal(1), Decimal(10), Decimal(9))])
    with pytest.raises(MappingError):
        mapper.outbound("invoice", bad)
    assert fac.requests() == []
