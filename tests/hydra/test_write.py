"""Writes: payloads from the mapping's outbound direction, sent by `HydraProvider.write` to the sandbox."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.domain import CanonicalClient, CanonicalInvoice, CanonicalLine, CanonicalPayment
from connector.errors import Rejected, Unavailable, Unsupported
from connector.mapping import BoundMapper, load_mapping
from connector.providers.base import NoStamps
from connector.providers.hydra import HydraProvider
from tests.hydra.harness import HydraHarness
from tests.support import make_app

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


@pytest.fixture
def mapper() -> BoundMapper:
    """The hydra mapping, bound (it needs no reference lists)."""
    return load_mapping("hydra", MAPPINGS, None).bind({})


@pytest.fixture
def provider(hy: HydraHarness, sqlite_url: str) -> HydraProvider:
    """A provider built the way the app builds it (Bearer token from the environment)."""
    app = make_app(sqlite_url, hy.connection("hy", max_attempts=2))
    built = app.provider(app.connection("hy"))
    assert isinstance(built, HydraProvider)
    return built


def _line(position: int, description: str, quantity: str, price: str, rate: str) -> CanonicalLine:
    return CanonicalLine(position=position, description=description, quantity=Decimal(quantity),
                         unit_price=Decimal(price), vat_rate=Decimal(rate), unit="uur")


def _by_id(hy: HydraHarness, table: str, key: str) -> dict[str, Any]:
    return next(r for r in hy.state()[table] if str(r["id"]) == key)


def test_customer_create_update_delete(hy: HydraHarness, provider: HydraProvider, mapper: BoundMapper) -> None:
    client = CanonicalClient(remote_id="", name="Groen & Zn. B.V.", email="info@groen.nl", phone="+31 20 123 4567",
                             street="Kade 1", postal_code="1011 AA", city="Amsterdam", country="NL",
                             vat_number="NL001122334B01", external_id="CRM-9")
    payload = mapper.outbound("client", client)
    assert payload["postalCode"] == "1011 AA" and "id" not in payload and "updatedAt" not in payload
    remote = provider.write("client", "create", payload, None)
    assert remote is not None
    stored = _by_id(hy, "customers", remote)
    assert (stored["name"], stored["country"], stored["externalId"]) == ("Groen & Zn. B.V.", "NL", "CRM-9")

    client.email, client.city = None, "Haarlem"
    assert provider.write("client", "update", mapper.outbound("client", client), remote) == remote
    stored = _by_id(hy, "customers", remote)
    assert "email" not in stored and stored["city"] == "Haarlem"  # null cleared it (merge-patch)

    assert provider.write("client", "delete", {}, remote) == remote
    assert _by_id(hy, "customers", remote)["deleted"] is True
    assert provider.write("client", "delete", {}, remote) == remote  # already gone counts as done


def test_invoice_with_rows_update_and_delete(hy: HydraHarness, provider: HydraProvider, mapper: BoundMapper) -> None:
    customer = hy.act("create_customer", name="Klant B.V.")
    invoice = CanonicalInvoice(remote_id="", number=None, client_remote_id=str(customer["id"]), currency="EUR",
                               status="draft", issued_on=date(2025, 6, 2), due_on=date(2025, 7, 2),
                               lines=[_line(1, "Advies", "2.5", "95.50", "21"), _line(2, "Reis", "1", "12.10", "0")],
                               extra={"reference": "PO-77"})
    payload = mapper.outbound("invoice", invoice)
    assert payload["customer"] == str(customer["id"]) and payload["invoiceRows"][0]["vatRate"] == "21.00"
    assert payload["invoiceRows"][0]["quantity"] == Decimal("2.5")  # a JSON number on the wire
    remote = provider.write("invoice", "create", payload, None)
    assert remote is not None
    stored = _by_id(hy, "invoices", remote)
    assert stored["customer"] == f"/api/customers/{customer['id']}" and stored["reference"] == "PO-77"
    assert [(r["productName"], r["netAmount"], r["vatAmount"]) for r in stored["rows"]] == [
        ("Advies", "238.75", "50.14"), ("Reis", "12.10", "0.00")]
    assert stored["grossAmount"] == "300.99"

    invoice.lines[1] = _line(2, "Reiskosten", "2", "12.10", "9")
    invoice.lines.append(_line(3, "Materiaal", "1", "5.00", "21"))
    invoice.due_on = date(2025, 8, 1)
    provider.write("invoice", "update", mapper.outbound("invoice", invoice), remote)
    stored = _by_id(hy, "invoices", remote)
    assert [r["productName"] for r in stored["rows"]] == ["Advies", "Reiskosten", "Materiaal"]
    assert stored["dueDate"].startswith("2025-08-01") and stored["grossAmount"] == "321.32"

    invoice.lines = invoice.lines[:1]
    with pytest.raises(Unsupported):
        provider.write("invoice", "update", mapper.outbound("invoice", invoice), remote)
    provider.write("invoice", "delete", {}, remote)
    assert _by_id(hy, "invoices", remote)["deleted"] is True


def test_payment_create_and_delete_moves_the_open_amount(hy: HydraHarness, provider: HydraProvider,
                                                         mapper: BoundMapper) -> None:
    hy.seed(clients=2, invoices=30)
    target = next(i for i in hy.state()["invoices"] if i["status"] in ("sent", "overdue"))
    payment = CanonicalPayment(remote_id="", invoice_remote_id=str(target["id"]), amount_minor=1250,
                               currency="EUR", paid_on=date(2025, 6, 3))
    payload = mapper.outbound("payment", payment)
    assert payload == {"invoice": str(target["id"]), "amount": Decimal("12.50"), "date": "2025-06-03"}
    remote = provider.write("payment", "create", payload, None)
    after = _by_id(hy, "invoices", str(target["id"]))
    assert Decimal(after["openAmount"]) == Decimal(target["openAmount"]) - Decimal("12.50")
    assert [t["amount"] for t in after["transactions"] if str(t["id"]) == remote] == [Decimal("12.5")]
    provider.write("payment", "delete", {}, remote)
    assert _by_id(hy, "invoices", str(target["id"]))["openAmount"] == target["openAmount"]


@pytest.mark.parametrize("flavour", ["3", "4"])
def test_a_refused_payload_is_rejected_with_the_violations(hy: HydraHarness, provider: HydraProvider,
                                                           flavour: str) -> None:
    hy.flavour(flavour)
    with pytest.raises(Rejected) as caught:
        provider.write("client", "create", {"name": "", "email": "not-an-email"}, None)
    assert caught.value.status == 422
    assert caught.value.details == {"name": "This value should not be blank.",
                                    "email": "This value is not a valid email address."}
    with pytest.raises(Rejected) as bad_iri:
        provider.write("invoice", "create", {"customer": "424242"}, None)
    assert bad_iri.value.status == 400 and 'Item not found for "/api/customers/424242".' in str(bad_iri.value)


def test_a_create_whose_answer_is_lost_is_not_retried(hy: HydraHarness, provider: HydraProvider) -> None:
    hy.faults([{"kind": "drop_after_commit", "method": "POST", "times": 1}])
    with pytest.raises(Unavailable, match="not retried"):
        provider.write("client", "create", {"name": "Eenmalig B.V."}, None)
    assert [c["name"] for c in hy.state()["customers"]] == ["Eenmalig B.V."]  # made once, not twice


def test_what_was_written_is_read_back_the_same(hy: HydraHarness, provider: HydraProvider, mapper: BoundMapper,
                                               sqlite_url: str) -> None:
    client = CanonicalClient(remote_id="", name="Terug B.V.", email="t@terug.nl", country="DE")
    client_id = provider.write("client", "create", mapper.outbound("client", client), None)
    lines = [_line(1, "Uren", "3", "72.50", "21"), _line(2, "Km", "40", "0.23", "21")]
    invoice = CanonicalInvoice(remote_id="", number=None, client_remote_id=client_id, currency="EUR",
                               status="draft", issued_on=date(2025, 2, 3), due_on=date(2025, 3, 5), lines=lines)
    invoice_id = provider.write("invoice", "create", mapper.outbound("invoice", invoice), None)
    payment = CanonicalPayment(remote_id="", invoice_remote_id=str(invoice_id), amount_minor=5000, currency="EUR",
                               paid_on=date(2025, 2, 20))
    provider.write("payment", "create", mapper.outbound("payment", payment), None)

    app = make_app(sqlite_url, hy.connection("hy"))
    reader = app.provider(app.connection("hy"))
    pulled = [mapper.inbound("invoice", r.data) for p in reader.pull("invoices", None, None, {}, NoStamps())
              for r in p.records if r.kind == "invoice"]
    assert len(pulled) == 1
    back = pulled[0]
    assert (back.client_remote_id, back.issued_on, back.due_on) == (client_id, invoice.issued_on, invoice.due_on)
    assert [(ln.description, ln.quantity, ln.unit_price, ln.vat_rate) for ln in back.lines] == [
        (ln.description, ln.quantity, ln.unit_price, ln.vat_rate) for ln in lines]
    assert (back.subtotal_minor, back.tax_minor, back.open_minor) == (22670, 4761, 22670 + 4761 - 5000)
