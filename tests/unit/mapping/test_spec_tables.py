"""Mapping specs as VALID/INVALID tables with the expected messages (dlt `source_configs.py` style)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from connector.errors import MappingSpecError
from connector.mapping import known_transforms, load_mapping

# The smallest invoice mapping that loads; cases replace or add fields through {fields} / {top}.
BASE = """\
provider: acme
version: 1
{top}
invoice:
  fields:
    remote_id:        {{ from: id }}
    number:           {{ from: invoiceNo }}
    client_remote_id: {{ from: customer.id }}
    currency:         {{ from: currency, default: EUR }}
    status:           {{ from: state, map: {{ concept: draft, open: sent, settled: paid, voided: cancelled }} }}
{fields}
"""


def spec(fields: str = "", top: str = "") -> str:
    """Build a spec from BASE with extra invoice field lines (already indented by 4) and top-level lines."""
    return BASE.format(fields=fields, top=top)


@dataclass(frozen=True)
class SpecCase:
    """One table row: a spec text and, for invalid ones, where the error points and what it says."""

    id: str
    text: str
    entity: str = ""
    field: str = ""
    message: str = ""


VALID = [
    SpecCase("minimal", spec()),
    SpecCase(
        "acme-example",
        spec(
            "    issued_on:   { from: issueDate, transform: date }\n"
            "    total_minor: { from: grandTotal, transform: decimal_str_to_minor, readonly: true }\n"
            "  items:\n"
            "    lines:\n"
            "      from: rows\n"
            "      fields:\n"
            "        description: { from: text }\n"
            "        quantity:    { from: qty, transform: decimal }\n"
            "        unit_price:  { from: unitPrice, transform: decimal }\n"
            "        vat_rate:    { from: vatPct, transform: decimal }\n"
        ),
    ),
    SpecCase(
        "many-to-one-map-readonly",
        spec().replace("voided: cancelled }", "voided: cancelled, closed: paid }, readonly: true"),
    ),
    SpecCase(
        "many-to-one-map-with-reverse",
        spec().replace(
            "voided: cancelled }",
            "voided: cancelled, closed: paid }, reverse: { draft: concept, sent: open, "
            "paid: settled, cancelled: voided }",
        ),
    ),
    SpecCase(
        "transform-with-params",
        spec(
            "    remote_updated_at: { from: changed, transform: { name: datetime_local, zone: UTC }, readonly: true }\n"
        ),
    ),
    SpecCase("constant-default", spec().replace("{ from: currency, default: EUR }", "{ default: EUR }")),
    SpecCase("to-path", spec("    due_on: { from: dueDate, to: payment.due, transform: date }\n")),
    SpecCase(
        "extra-fields", spec("  extra:\n    fields:\n      category: { from: category }\n    include_unmapped: true\n")
    ),
]

INVALID = [
    SpecCase(
        "unknown-transform",
        spec("    total_minor: { from: t, transform: decimal_to_minor }\n"),
        "invoice",
        "total_minor",
        "unknown transform 'decimal_to_minor'; known: " + ", ".join(known_transforms()),
    ),
    SpecCase(
        "unknown-canonical-field",
        spec("    totl_minor: { from: t }\n"),
        "invoice",
        "totl_minor",
        "unknown field of CanonicalInvoice; valid fields: client_remote_id, currency, discount_minor, due_on, "
        "issued_on, number, open_minor, paid_on, remote_id, remote_updated_at, status, subtotal_minor, "
        "tax_minor, total_minor",
    ),
    SpecCase(
        "unknown-field-key",
        spec("    issued_on: { from: d, transfrom: date }\n"),
        "invoice",
        "issued_on",
        "unknown key 'transfrom'; allowed keys: default, from, map, readonly, reverse, to, transform",
    ),
    SpecCase(
        "unknown-top-key",
        spec(top="invoices: {}"),
        "",
        "",
        "unknown key 'invoices'; allowed keys: client, invoice, payment, provider, version",
    ),
    SpecCase(
        "unknown-entity-key",
        spec("  item:\n    lines: {}\n"),
        "invoice",
        "",
        "unknown key 'item'; allowed keys: extra, fields, items",
    ),
    SpecCase(
        "map-not-one-to-one",
        spec().replace("voided: cancelled }", "voided: cancelled, closed: paid }"),
        "invoice",
        "status",
        "`map` is not one-to-one ('paid' comes from 'settled' and 'closed'); add a `reverse`",
    ),
    SpecCase(
        "reverse-incomplete",
        spec().replace("voided: cancelled }", "voided: cancelled }, reverse: { draft: concept }"),
        "invoice",
        "status",
        "`reverse` has no wire value for 'cancelled', 'paid', 'sent'",
    ),
    SpecCase(
        "map-value-not-a-status",
        spec().replace("open: sent", "open: opened"),
        "invoice",
        "status",
        "'opened' is not a canonical status; valid: draft, sent, partially_paid, paid",
    ),
    SpecCase(
        "map-number-key",
        spec().replace("concept: draft", "1: draft"),
        "invoice",
        "status",
        "map: key 1: Input should be a valid string (quote numbers",
    ),
    SpecCase("bad-yaml", "provider: acme\ninvoice: { fields: [\n", "", "", "not valid YAML at line"),
    SpecCase("duplicate-key", spec("    number: { from: other }\n"), "", "", "duplicate key 'number'"),
    SpecCase("not-a-mapping", "- a\n- b\n", "", "", "expected a mapping at the top, got list"),
    SpecCase(
        "required-field-missing",
        spec().replace("    status:", "    #status:"),
        "invoice",
        "status",
        "CanonicalInvoice requires 'status'; map it or give it a `default`",
    ),
    SpecCase(
        "type-mismatch",
        spec("    total_minor: { from: t, transform: decimal }\n"),
        "invoice",
        "total_minor",
        "field type is int, but 'decimal' produces Decimal",
    ),
    SpecCase(
        "several-paths-one-value",
        spec("    issued_on: { from: [a, b], transform: date }\n"),
        "invoice",
        "issued_on",
        "transform 'date' reads one value; `from` must be a single path",
    ),
    SpecCase(
        "one-path-several-values",
        spec("    subtotal_minor: { from: a, transform: difference_to_minor, readonly: true }\n"),
        "invoice",
        "subtotal_minor",
        "reads several values; `from` must be a list of paths",
    ),
    SpecCase(
        "wrong-arity",
        spec("    subtotal_minor: { from: [a, b, c], transform: difference_to_minor, readonly: true }\n"),
        "invoice",
        "subtotal_minor",
        "transform 'difference_to_minor' reads 2 values; `from` lists 3",
    ),
    SpecCase(
        "list-without-transform",
        spec("    number2: { from: [a, b] }\n").replace("number2", "tax_minor"),
        "invoice",
        "tax_minor",
        "a list in `from` needs a transform",
    ),
    SpecCase(
        "one-way-not-readonly",
        spec("    subtotal_minor: { from: [a, b], transform: difference_to_minor }\n"),
        "invoice",
        "subtotal_minor",
        "transform 'difference_to_minor' only reads; mark the field `readonly: true`",
    ),
    SpecCase(
        "unknown-param",
        spec("    remote_updated_at: { from: c, transform: { name: datetime_local, zon: UTC } }\n"),
        "invoice",
        "remote_updated_at",
        "transform 'datetime_local' has no parameter 'zon'; allowed: dates, zone",
    ),
    SpecCase(
        "bad-zone",
        spec("    remote_updated_at: { from: c, transform: { name: datetime_local, zone: Mars/Base } }\n"),
        "invoice",
        "remote_updated_at",
        "unknown time zone 'Mars/Base'",
    ),
    SpecCase(
        "missing-param",
        spec("    total_minor: { from: c, transform: flag_when, readonly: true }\n"),
        "invoice",
        "total_minor",
        "transform 'flag_when' needs parameter 'equals'",
    ),
    SpecCase(
        "version",
        spec().replace("version: 1", "version: 2"),
        "",
        "",
        "version: version 2 is not supported; this connector reads version 1",
    ),
    SpecCase(
        "position-mapped",
        spec(
            "  items:\n    lines:\n      from: rows\n      fields:\n"
            "        description: { from: text }\n        position: { from: pos }\n"
        ),
        "invoice",
        "lines.position",
        "position is set by the mapper from the order of the items",
    ),
    SpecCase(
        "lines-as-field", spec("    lines: { from: rows }\n"), "invoice", "lines", "it is a list: map it under `items`"
    ),
    SpecCase(
        "unknown-items",
        spec("  items:\n    rows:\n      from: rows\n"),
        "invoice",
        "rows",
        "unknown item list for invoice; valid: lines",
    ),
    SpecCase(
        "items-without-from",
        spec("  items:\n    lines:\n      fields:\n        description: { from: t }\n"),
        "invoice",
        "lines",
        "needs `from`: the wire path of the list",
    ),
    SpecCase(
        "line-description-missing",
        spec("  items:\n    lines:\n      from: rows\n      fields:\n        quantity: { from: qty }\n"),
        "invoice",
        "lines.description",
        "CanonicalLine requires 'description'",
    ),
    SpecCase(
        "bad-default",
        spec("    total_minor: { from: t, transform: decimal_str_to_minor, default: lots }\n"),
        "invoice",
        "total_minor",
        "default 'lots' is not a valid int",
    ),
    SpecCase(
        "null-default-required",
        spec().replace("{ from: currency, default: EUR }", "{ from: currency, default: null }"),
        "invoice",
        "currency",
        "default null for a field that cannot be empty",
    ),
    SpecCase(
        "status-default",
        spec().replace("voided: cancelled }", "voided: cancelled }, default: unknown"),
        "invoice",
        "status",
        "'unknown' is not a canonical status",
    ),
    SpecCase(
        "no-from-no-default",
        spec("    due_on: { transform: date }\n"),
        "invoice",
        "due_on",
        "needs `from` (a wire path) or a constant `default`",
    ),
    SpecCase(
        "reverse-without-map",
        spec("    due_on: { from: d, reverse: { a: b } }\n"),
        "invoice",
        "due_on",
        "`reverse` only makes sense together with `map`",
    ),
    SpecCase(
        "bad-path", spec("    due_on: { from: 'a..b' }\n"), "invoice", "due_on", "from: 'a..b' is not a dotted path"
    ),
    SpecCase(
        "to-on-readonly",
        spec("    due_on: { from: d, to: e, readonly: true }\n"),
        "invoice",
        "due_on",
        "`to` on a readonly field is never used",
    ),
    SpecCase(
        "provider-mismatch",
        spec().replace("provider: acme", "provider: other"),
        "",
        "provider",
        "names provider 'other', but the file is for 'acme'",
    ),
    SpecCase(
        "extra-name",
        spec("  extra:\n    fields:\n      my-field: { from: x }\n"),
        "invoice",
        "extra",
        "extra field name 'my-field' must be an identifier",
    ),
    SpecCase(
        "map-on-number",
        spec("    total_minor: { from: t, transform: decimal_str_to_minor, map: { a: b } }\n"),
        "invoice",
        "total_minor",
        "`map` needs text, but transform 'decimal_str_to_minor' produces int",
    ),
    SpecCase(
        "items-on-client",
        "provider: acme\nclient:\n  fields:\n    remote_id: { from: id }\n"
        "    name: { from: n }\n  items:\n    lines: { from: rows }\n",
        "client",
        "lines",
        "unknown item list for client; valid: none",
    ),
]


@pytest.mark.parametrize("case", VALID, ids=lambda c: c.id)
def test_valid_specs_load(case: SpecCase, tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(case.text, encoding="utf-8")
    mapper = load_mapping("acme", tmp_path)
    assert mapper.entities == {"invoice"}


@pytest.mark.parametrize("case", INVALID, ids=lambda c: c.id)
def test_invalid_specs_name_file_entity_and_field(case: SpecCase, tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(case.text, encoding="utf-8")
    with pytest.raises(MappingSpecError) as caught:
        load_mapping("acme", tmp_path)
    err = caught.value
    assert err.file == str(tmp_path / "acme.yaml")
    assert (err.entity, err.field) == (case.entity, case.field), err
    assert case.message in err.problem, err


def test_missing_file_lists_known_providers(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(spec(), encoding="utf-8")
    with pytest.raises(MappingSpecError, match="no mapping file for provider 'nope'; known: acme"):
        load_mapping("nope", tmp_path)


def test_loading_does_not_depend_on_case_order(tmp_path: Path) -> None:
    """Two loads of one file give mappers with equal summaries (nothing global is mutated)."""
    (tmp_path / "acme.yaml").write_text(VALID[1].text, encoding="utf-8")
    assert load_mapping("acme", tmp_path).summary() == load_mapping("acme", tmp_path).summary()
