"""User override files: field-by-field changes, custom fields into `extra`, and errors naming the user's file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.errors import MappingSpecError
from connector.mapping import check_mappings, load_mapping
from tests.unit.mapping.conftest import MAPPINGS, write_yaml

OVERRIDE = """
provider: factuursturen
client:
  fields:
    external_id: { from: bankcode, transform: empty_to_none }    # added
    email:       { from: email, transform: string }              # changed: None stays None outbound
  extra:
    fields:
      category: { from: default_category, transform: int_str }
      notes:    { from: reference.line1 }
invoice:
  extra:
    fields:
      category: { from: category, readonly: true }
  items:
    lines:
      fields:
        unit: { from: amount_desc, default: pcs }
"""


def test_override_changes_and_adds_fields(
    tmp_path: Path, fs_clients: list[dict[str, Any]], countrylist: list[dict[str, Any]]
) -> None:
    write_yaml(tmp_path, "factuursturen", OVERRIDE)
    mapper = load_mapping("factuursturen", MAPPINGS, tmp_path)
    assert mapper.files == (str(MAPPINGS / "factuursturen.yaml"), str(tmp_path / "factuursturen.yaml"))
    bound = mapper.bind({"countrylist": countrylist})

    client = bound.inbound("client", fs_clients[1])
    assert client.external_id is None and client.name == "Mary Smith"  # the rest of the base mapping still applies
    assert client.extra == {"send_method": "mail", "payment_method": "bank", "category": 3, "notes": "PO 77"}
    out = bound.outbound("client", client)
    assert out["email"] is None  # `string` leaves None as None; the base `empty_to_none` would send ""
    assert (out["default_category"], out["reference"]) == ("3", {"line1": "PO 77"})

    first = bound.inbound("client", fs_clients[0])
    assert first.external_id == "NL91ABNA0417164300"


def test_override_reaches_invoice_extra_and_lines(
    tmp_path: Path, fs_invoices: dict[str, dict[str, Any]], countrylist: list[dict[str, Any]]
) -> None:
    write_yaml(tmp_path, "factuursturen", OVERRIDE)
    bound = load_mapping("factuursturen", MAPPINGS, tmp_path).bind({"countrylist": countrylist})
    invoice = bound.inbound("invoice", fs_invoices["20250001"])
    assert invoice.extra == {"category": "Consultancy"}
    assert [line.unit for line in invoice.lines] == ["panels", "pcs", "hours", "pcs"]
    assert [line.line_total_minor for line in invoice.lines] == [29760, 37500, 62500, 0]  # untouched fields stay
    assert "category" not in bound.outbound("invoice", invoice)  # readonly extra


def test_include_unmapped_keeps_every_other_key(
    tmp_path: Path, fs_clients: list[dict[str, Any]], countrylist: list[dict[str, Any]]
) -> None:
    write_yaml(tmp_path, "factuursturen", "client:\n  extra:\n    include_unmapped: true\n")
    bound = load_mapping("factuursturen", MAPPINGS, tmp_path).bind({"countrylist": countrylist})
    client = bound.inbound("client", fs_clients[0])
    assert client.extra["top"] == "30" and client.extra["reference"] == {"line1": "", "line2": "", "line3": ""}
    assert client.extra["send_method"] == "email"  # the base extra fields still apply
    assert not {"clientnr", "company", "email", "timestamp", "sendmethod"} & set(client.extra)  # consumed
    assert "top" not in bound.outbound("client", client)  # unmapped extras are never pushed


def test_errors_in_the_override_name_the_users_file(tmp_path: Path) -> None:
    text = "invoice:\n  fields:\n    total_minor: { from: x, transform: money }\n"
    path = write_yaml(tmp_path, "factuursturen", text)
    with pytest.raises(MappingSpecError) as caught:
        load_mapping("factuursturen", MAPPINGS, tmp_path)
    assert (caught.value.file, caught.value.entity, caught.value.field) == (str(path), "invoice", "total_minor")
    assert "unknown transform 'money'" in caught.value.problem


def test_errors_in_untouched_fields_name_the_base_file(tmp_path: Path) -> None:
    base = write_yaml(
        tmp_path / "base",
        "acme",
        "provider: acme\nclient:\n  fields:\n    remote_id: { from: id }\n"
        "    name: { from: n }\n    country: { from: c, transform: iso }\n",
    )
    write_yaml(tmp_path / "user", "acme", "client:\n  fields:\n    email: { from: mail }\n")
    with pytest.raises(MappingSpecError) as caught:
        load_mapping("acme", tmp_path / "base", tmp_path / "user")
    assert (caught.value.file, caught.value.field) == (str(base), "country")


def test_override_for_another_provider_is_refused(tmp_path: Path) -> None:
    write_yaml(tmp_path, "factuursturen", "provider: hydra\n")
    with pytest.raises(MappingSpecError, match="names provider 'hydra', but the file is for 'factuursturen'"):
        load_mapping("factuursturen", MAPPINGS, tmp_path)


def test_missing_user_dir_or_file_is_fine(tmp_path: Path) -> None:
    mapper = load_mapping("factuursturen", MAPPINGS, tmp_path / "nothing")
    assert mapper.files == (str(MAPPINGS / "factuursturen.yaml"),)


def test_check_mappings_reports_every_file(tmp_path: Path) -> None:
    write_yaml(
        tmp_path / "base",
        "acme",
        "provider: acme\npayment:\n  fields:\n    remote_id: { from: id }\n"
        "    invoice_remote_id: { from: inv }\n    amount_minor: { from: amount, "
        "transform: decimal_str_to_minor }\n    currency: { from: cur }\n"
        "    paid_on: { from: date }\n",
    )
    write_yaml(tmp_path / "base", "factuursturen", (MAPPINGS / "factuursturen.yaml").read_text(encoding="utf-8"))
    write_yaml(tmp_path / "user", "factuursturen", OVERRIDE)
    lines = check_mappings(tmp_path / "base", tmp_path / "user")
    assert lines[0] == f"ok  acme: payment 5 fields  ({tmp_path / 'base' / 'acme.yaml'})"
    assert lines[1].startswith("ok  factuursturen: client 15 fields, extra 5;")
    assert lines[1].endswith(f"+ {tmp_path / 'user' / 'factuursturen.yaml'})")


def test_check_mappings_refuses_an_orphan_override(tmp_path: Path) -> None:
    write_yaml(tmp_path / "user", "nobody", "provider: nobody\n")
    with pytest.raises(MappingSpecError, match="overrides provider 'nobody', which has no base mapping"):
        check_mappings(MAPPINGS, tmp_path / "user")
