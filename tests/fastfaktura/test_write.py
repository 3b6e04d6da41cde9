"""Writes against the sandbox: payloads from the mapping's outbound direction, sent by `provider.write`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connector.domain import CanonicalClient, CanonicalInvoice, CanonicalLine
from connector.errors import Rejected, Unavailable, Unsupported
from connector.providers.base import Provider
from tests.fastfaktura.harness import FastFakturaHarness
from tests.fastfaktura.truth import assert_store_matches
from tests.support import make_app


@pytest.fixture
def setup(sqlite_url: str, ff: FastFakturaHarness) -> Iterator[tuple[Any, Provider, Any]]:
    app = make_app(sqlite_url, ff.connection("ff"))
    provider = app.provider(app.connection("ff"))
    yield app, provider, app.mapping("fastfaktura").bind({})
    provider.close()


def _client() -> CanonicalClient:
    return CanonicalClient(remote_id="", name="Havblikk Studio AS", email="post@havblikk.no", phone="+4798765432",
                           street="Strandkaien 3, Bergen", country="NO", external_id="CRM-77",
                           extra={"locale": "nb", "tags": ["retainer"]})


def test_clients_are_created_updated_and_archived(setup: Any, ff: FastFakturaHarness) -> None:
    app, provider, mapper = setup
    payload = mapper.outbound("client", _client())
    assert payload == {"name": "Havblikk Studio AS", "email": "post@havblikk.no", "phone": "+4798765432",
                       "address": "Strandkaien 3, Bergen", "country": "NO", "external_id": "CRM-77",
                       "locale": "nb", "tags": ["retainer"]}

    client_id = provider.write("client", "create", payload, None)

    assert client_id is not None
    stored = ff.get("/state")["clients"][0]
    assert stored == {"id": client_id, **payload, "archived_at": None}

    changed = _client()
    changed.email = None
    assert provider.write("client", "update", mapper.outbound("client", changed), client_id) == client_id
    assert ff.state()["clients"][0]["email"] is None

    assert provider.write("client", "delete", {}, client_id) == client_id
    assert provider.write("client", "delete", {}, client_id) == client_id  # archiving twice is harmless
    assert ff.state()["clients"][0]["archived_at"] is not None
    app.sync("ff")
    assert_store_matches(app.engine, "ff", ff.state())


def test_invoices_are_created_and_sent_and_read_back_exactly(setup: Any, ff: FastFakturaHarness) -> None:
    app, provider, mapper = setup
    client_id = provider.write("client", "create", mapper.outbound("client", _client()), None)
    due = date.today() + timedelta(days=30)
    invoice = CanonicalInvoice(
        remote_id="", number=None, client_remote_id=client_id, currency="NOK", status="draft", due_on=due,
        lines=[CanonicalLine(1, "Design", quantity=Decimal("1.5"), unit_price=Decimal("950.55"), vat_rate=Decimal(25)),
               CanonicalLine(2, "Travel", quantity=Decimal(1), unit_price=Decimal("120"), vat_rate=Decimal("5.5"))],
        extra={"notes": "PO 7"})
    payload = mapper.outbound("invoice", invoice)
    assert payload == {
        "client_id": client_id, "currency": "NOK", "due_date": due.isoformat(), "notes": "PO 7", "status": "draft",
        "lines": [
            {"description": "Design", "quantity": Decimal("1.5"), "unit_price_cents": 95055, "tax_rate": Decimal(25)},
            {"description": "Travel", "quantity": Decimal(1), "unit_price_cents": 12000, "tax_rate": Decimal("5.5")},
        ]}

    invoice_id = provider.write("invoice", "create", payload, None)
    assert provider.write("invoice", "send", {"channels": ["email", "sms"]}, invoice_id) == invoice_id

    detail = ff.state()["invoices"][0]
    assert detail["id"] == invoice_id and detail["status"] == "sent"
    assert [e["channel"] for e in detail["events"] if e["type"] == "sent"] == ["email", "sms"]
    # 1.5 x 95055 = 142582.5 -> 142583 net, tax 35645.625 -> 35646; 12000 net, tax 660.
    assert (detail["subtotal_cents"], detail["tax_cents"]) == (154583, 36306)
    app.sync("ff")
    assert_store_matches(app.engine, "ff", ff.state())
    back = app.mapping("fastfaktura").bind({}).inbound("invoice", ff.state()["invoices"][0])
    assert [(ln.quantity, ln.unit_price, ln.vat_rate) for ln in back.lines] == [
        (Decimal("1.5"), Decimal("950.55"), Decimal(25)), (Decimal(1), Decimal(120), Decimal("5.5"))]
    assert back.issued_on == date.today() and back.status == "sent"


def test_a_pushed_invoice_past_draft_is_sent_over_the_link_channel(setup: Any, ff: FastFakturaHarness) -> None:
    _app, provider, mapper = setup
    client_id = provider.write("client", "create", mapper.outbound("client", _client()), None)
    invoice = CanonicalInvoice(
        remote_id="", number="F-1", client_remote_id=client_id, currency="NOK", status="paid",
        lines=[CanonicalLine(1, "Design", quantity=Decimal(1), unit_price=Decimal("100"), vat_rate=Decimal(25))])
    payload = mapper.outbound("invoice", invoice)
    assert payload["status"] == "sent"  # paid is the service's to derive; the push can only send

    invoice_id = provider.write("invoice", "create", payload, None)

    [detail] = ff.state()["invoices"]
    assert detail["id"] == invoice_id and detail["status"] == "sent"
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in ff.requests()[-2:]] == [
        ("POST", "invoices"), ("POST", "send")]
    assert [e["channel"] for e in detail["events"] if e["type"] == "sent"] == ["link"], "no e-mail to the client"


def test_what_the_service_cannot_do_is_unsupported(setup: Any) -> None:
    _, provider, _ = setup
    with pytest.raises(Unsupported, match="update invoice"):
        provider.write("invoice", "update", {}, "some-id")
    with pytest.raises(Unsupported, match="payment"):
        provider.write("payment", "create", {}, None)
    with pytest.raises(Unsupported):
        provider.write("client", "merge", {}, "x")


def test_a_refused_payload_is_rejected_with_the_field_details(setup: Any, ff: FastFakturaHarness) -> None:
    _, provider, _ = setup
    with pytest.raises(Rejected) as caught:
        provider.write("client", "create", {"name": "", "phone": "12"}, None)
    assert caught.value.status == 422 and caught.value.code == "validation_failed"
    assert set(caught.value.details) == {"name", "phone"}
    with pytest.raises(Rejected) as refused:
        provider.write("invoice", "create", {"client_id": "nope", "currency": "NOK", "lines": []}, None)
    assert refused.value.details == {"lines": "is required: at least one line"}
    with pytest.raises(Rejected) as unknown:
        provider.write("invoice", "create", {"client_id": "nope", "currency": "NOK", "lines": [
            {"description": "x", "quantity": 1, "unit_price_cents": 1, "tax_rate": 0}]}, None)
    assert unknown.value.details == {"client_id": "no such client"} and "[ff]" in str(unknown.value)


def test_a_create_whose_answer_is_lost_is_not_sent_twice(setup: Any, ff: FastFakturaHarness) -> None:
    _, provider, mapper = setup
    ff.faults([{"kind": "drop_after_commit", "method": "POST", "path_prefix": "/api/v1/clients"}])

    with pytest.raises(Unavailable, match="not retried"):
        provider.write("client", "create", mapper.outbound("client", _client()), None)

    assert [r["method"] for r in ff.requests()] == ["POST"]
    assert len(ff.state()["clients"]) == 1  # it happened once; the caller must look before creating again
