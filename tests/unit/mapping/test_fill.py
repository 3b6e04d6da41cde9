"""The compiled record filler reads exactly what the closure-per-field reference reads, and fails the same way."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.errors import MappingError
from connector.mapping import BoundMapper, load_mapping
from connector.mapping import mapper as mapper_module
from connector.mapping.fill import Fill, compile_fill
from tests.unit.mapping.conftest import MAPPINGS, write_yaml

ODD_VALUES: tuple[Any, ...] = (
    "", "  ", None, "abc", "2024-13-45", "-5.00", [], {}, {"x": "1"}, Decimal("1.5"), Decimal(0), 0, 7, True, False
)


def _outcome(mapper: BoundMapper, entity: str, raw: dict[str, Any]) -> Any:
    try:
        return ("ok", mapper.inbound(entity, raw))
    except MappingError as exc:
        return ("error", exc.entity, exc.field, exc.problem)


def _variants(raw: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The record itself, then each key removed or set to each odd value, at the top and in the first line."""
    yield raw
    for key in raw:
        gone = copy.deepcopy(raw)
        del gone[key]
        yield gone
        for value in ODD_VALUES:
            yield {**copy.deepcopy(raw), key: value}
    lines = raw.get("lines")
    if isinstance(lines, dict) and lines:
        first = next(iter(lines))
        for key in lines[first]:
            for value in (*ODD_VALUES, "missing"):
                changed = copy.deepcopy(raw)
                if value == "missing":
                    del changed["lines"][first][key]
                else:
                    changed["lines"][first][key] = value
                yield changed


def _both(
    path: Path, provider: str, references: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> tuple[BoundMapper, BoundMapper, list[dict[str, Any]]]:
    """The compiled mapper, the reference one, and the records the compiled one handed to its reference."""
    handed: list[dict[str, Any]] = []

    def counting(fields: Any, extras: Any, unmapped: bool, consumed: frozenset[str], slow: Fill) -> Fill:
        def reference(raw: dict[str, Any], kw: dict[str, Any]) -> dict[str, Any]:
            handed.append(raw)
            return slow(raw, kw)

        return compile_fill(fields, extras, unmapped, consumed, reference)

    with monkeypatch.context() as patch:
        patch.setattr(mapper_module, "compile_fill", counting)
        compiled = load_mapping(provider, path).bind(references)
    with monkeypatch.context() as patch:
        patch.setattr(mapper_module, "compile_fill", lambda fields, extras, unmapped, consumed, slow: slow)
        reference = load_mapping(provider, path).bind(references)
    return compiled, reference, handed


def test_factuursturen_records_and_every_broken_variant_map_alike(
    monkeypatch: pytest.MonkeyPatch,
    countrylist: list[dict[str, Any]],
    fs_clients: list[dict[str, Any]],
    fs_invoices: dict[str, dict[str, Any]],
) -> None:
    compiled, reference, handed = _both(MAPPINGS, "factuursturen", {"countrylist": countrylist}, monkeypatch)
    for entity, samples in (("client", fs_clients), ("invoice", list(fs_invoices.values()))):
        for sample in samples:
            assert _outcome(compiled, entity, sample) == _outcome(reference, entity, sample)
    assert not handed, "a readable record is read by the compiled code alone"
    compared = errors = 0
    for entity, samples in (("client", fs_clients), ("invoice", list(fs_invoices.values()))):
        for sample in samples:
            for raw in _variants(sample):
                expected = _outcome(reference, entity, copy.deepcopy(raw))
                assert _outcome(compiled, entity, raw) == expected, (entity, raw)
                compared += 1
                errors += expected[0] == "error"
    assert compared > 1000 and errors > 100  # the broken variants did reach the error path


def test_nested_paths_maps_extras_and_unmapped_keys_map_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_yaml(
        tmp_path,
        "acme",
        """
        provider: acme
        version: 1
        client:
          fields:
            remote_id: { from: id }
            name: { from: [company, person.name], transform: first_non_empty }
            email: { from: contact.email, transform: empty_to_none }
            city: { from: city, default: Amsterdam }
            country: { from: land, map: { nl: NL, be: BE }, default: NL }
            archived: { from: active, transform: not_bool_str, default: false }
          extra:
            fields:
              tier: { from: tier, transform: empty_to_none }
              since: { from: since, transform: date }
            include_unmapped: true
        """,
    )
    compiled, reference, handed = _both(tmp_path, "acme", {}, monkeypatch)
    sample = {
        "id": "7",
        "company": "",
        "person": {"name": "Ada"},
        "contact": {"email": "ada@example.nl"},
        "city": "",
        "land": "be",
        "active": "true",
        "tier": "gold",
        "since": "2024-02-29",
        "custom": {"a": 1},
    }
    assert _outcome(compiled, "client", sample) == _outcome(reference, "client", sample)
    assert not handed
    for raw in _variants(sample):
        assert _outcome(compiled, "client", copy.deepcopy(raw)) == _outcome(reference, "client", raw), raw
