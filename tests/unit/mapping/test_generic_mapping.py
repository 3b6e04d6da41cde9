"""Vocabulary semantics on an invented provider: nested paths, maps both ways, `to`, defaults, readonly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.domain import CanonicalInvoice, CanonicalLine
from connector.errors import MappingError
from connector.mapping import BoundMapper, load_mapping
from tests.unit.mapping.conftest import write_yaml

ACME = """
provider: acme
version: 1
invoice:
  fields:
    remote_id:        { from: id, readonly: true }
    number:           { from: invoiceNo }
    client_remote_id: { from: customer.id }
    issued_on:        { from: dates.issued, to: issueDate }
    currency:         { from: currency, default: EUR }
    total_minor:      { from: grandTotal, transform: decimal_str_to_minor, readonly: true }
    status:
      from: state
      map: { concept: draft, open: sent, settled: paid, closed: paid, voided: cancelled }
      reverse: { draft: concept, sent: open, paid: settled, cancelled: voided }
  items:
    lines:
      from: rows
      fields:
        description:      { from: text }
        quantity:         { from: qty }
        unit_price:       { from: unitPrice }
        vat_rate:         { from: vat.pct }
  extra:
    fields:
      channel: { from: meta.channel, map: { web: online, shop: offline } }
"""

RAW: dict[str, Any] = {
    "id": "A-1",
    "invoiceNo": "2025-001",
    "customer": {"id": 77, "name": "x"},
    "dates": {"issued": "2025-03-01"},
    "currency": "",
    "grandTotal": "121.00",
    "state": "closed",
    "meta": {"channel": "web"},
    "rows": [{"text": "Widget", "qty": "2", "unitPrice": "50.5", "vat": {"pct": 21}}, {"text": "Note"}],
}


@pytest.fixture
def acme(tmp_path: Path) -> BoundMapper:
    write_yaml(tmp_path, "acme", ACME)
    return load_mapping("acme", tmp_path).bind({})


def test_inbound(acme: BoundMapper) -> None:
    invoice = acme.inbound("invoice", RAW)
    assert invoice == CanonicalInvoice(
        remote_id="A-1",
        number="2025-001",
        client_remote_id="77",
        currency="EUR",
        status="paid",
        issued_on=date(2025, 3, 1),
        total_minor=12100,
        lines=[CanonicalLine(1, "Widget", Decimal(2), Decimal("50.5"), Decimal(21)), CanonicalLine(2, "Note")],
        extra={"channel": "online"},
    )


def test_outbound_uses_reverse_to_and_nested_paths(acme: BoundMapper) -> None:
    out = acme.outbound("invoice", acme.inbound("invoice", RAW))
    assert out == {
        "invoiceNo": "2025-001",
        "customer": {"id": "77"},
        "issueDate": "2025-03-01",
        "currency": "EUR",
        "state": "settled",
        "meta": {"channel": "web"},
        "rows": [
            {"text": "Widget", "qty": "2", "unitPrice": "50.5", "vat": {"pct": "21"}},
            {"text": "Note", "qty": "0", "unitPrice": "0", "vat": {"pct": "0"}},
        ],
    }


def test_unknown_enum_value(acme: BoundMapper) -> None:
    with pytest.raises(MappingError) as caught:
        acme.inbound("invoice", {**RAW, "state": "archived"})
    assert (caught.value.field, caught.value.problem) == (
        "status",
        "no canonical value for 'archived'; known: 'concept', 'open', 'settled', 'closed', 'voided'",
    )


def test_unknown_extra_enum_value_names_the_extra_field(acme: BoundMapper) -> None:
    with pytest.raises(MappingError, match=r"invoice\.extra\.channel: no canonical value for 'phone'"):
        acme.inbound("invoice", {**RAW, "meta": {"channel": "phone"}})


def test_outbound_status_without_a_wire_value(acme: BoundMapper) -> None:
    invoice = acme.inbound("invoice", RAW)
    invoice.status = "overdue"
    with pytest.raises(MappingError, match=r"invoice\.status: no wire value for 'overdue'"):
        acme.outbound("invoice", invoice)


def test_map_default_covers_unknown_values(tmp_path: Path) -> None:
    write_yaml(tmp_path, "acme", ACME.replace("voided: cancelled }\n", "voided: cancelled }\n      default: sent\n"))
    bound = load_mapping("acme", tmp_path).bind({})
    assert bound.inbound("invoice", {**RAW, "state": "archived"}).status == "sent"
    assert bound.inbound("invoice", {**RAW, "state": ""}).status == "sent"


def test_missing_required_nested_value(acme: BoundMapper) -> None:
    with pytest.raises(MappingError, match=r"invoice\.lines\[2\]\.description: missing value at 'text'"):
        acme.inbound("invoice", {**RAW, "rows": [RAW["rows"][0], {"qty": 1}]})


def test_items_must_be_objects(acme: BoundMapper) -> None:
    with pytest.raises(MappingError, match=r"invoice\.lines\[1\]: expected an object, got str"):
        acme.inbound("invoice", {**RAW, "rows": ["Widget"]})
    with pytest.raises(MappingError, match=r"invoice\.lines: expected a list, got dict"):
        acme.inbound("invoice", {**RAW, "rows": {"row1": {"text": "x"}}})  # no keyed_list transform declared
