"""The transform registry: each pair read and written on its own, and the helpful miss."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from connector.mapping import get_transform, known_transforms
from connector.mapping.registry import Inbound, Outbound, UnknownName


def pair(
    name: str, refs: Mapping[str, list[dict[str, Any]]] | None = None, **params: Any
) -> tuple[Inbound, Outbound | None]:
    """Build a transform the way the mapper does: params checked, then bound to reference data."""
    transform = get_transform(name)
    return transform.build(transform.resolve_params(params), refs or {})


def test_unknown_transform_lists_known_names() -> None:
    with pytest.raises(UnknownName) as caught:
        get_transform("decimal_to_minor")
    assert str(caught.value) == f"unknown transform 'decimal_to_minor'; known: {', '.join(known_transforms())}"


def test_registry_has_the_documented_transforms() -> None:
    assert set(known_transforms()) >= {
        "string",
        "empty_to_none",
        "decimal",
        "decimal_str_to_minor",
        "price_decimal",
        "date",
        "datetime_local",
        "bool_str",
        "not_bool_str",
        "int_str",
        "country_id_to_iso",
        "keyed_list",
        "first_non_empty",
        "difference_to_minor",
        "vat_rate",
        "factuursturen_invoice_status",
        "flag_when",
    }


@pytest.mark.parametrize(
    ("name", "wire", "canonical", "back"),
    [
        ("string", "  Acme  ", "Acme", "Acme"),
        ("string", 42, "42", "42"),
        ("empty_to_none", "   ", None, ""),
        ("decimal", "1.50", Decimal("1.50"), "1.50"),
        ("decimal", Decimal("5.952"), Decimal("5.952"), "5.952"),
        ("decimal", 4, Decimal(4), "4"),
        ("decimal", "1,5", Decimal("1.5"), "1.5"),
        ("price_decimal", "5.952", Decimal("5.952"), "5.952"),
        ("price_decimal", Decimal("13"), Decimal("13"), "13"),
        ("decimal_str_to_minor", "62.92", 6292, "62.92"),
        ("decimal_str_to_minor", "-10.50", -1050, "-10.50"),
        ("decimal_str_to_minor", Decimal("297.6"), 29760, "297.60"),
        ("decimal_str_to_minor", 52, 5200, "52.00"),
        ("decimal_str_to_minor", "0.005", 1, "0.01"),  # half up
        ("decimal_str_to_minor", " 7 ", 700, "7.00"),
        ("int_str", "30", 30, "30"),
        ("bool_str", "true", True, "true"),
        ("bool_str", "0", False, "false"),
        ("bool_str", False, False, "false"),
        ("not_bool_str", "true", False, "true"),
        ("not_bool_str", "false", True, "false"),
        ("date", "2024-02-29", date(2024, 2, 29), "2024-02-29"),
        ("date", "2024-02-29 10:00:00", date(2024, 2, 29), "2024-02-29"),
        ("date", "0000-00-00", None, None),
        ("vat_rate", 21, Decimal(21), "21"),
        ("vat_rate", Decimal("5.50"), Decimal("5.50"), "5.5"),
    ],
)
def test_pairs(name: str, wire: Any, canonical: Any, back: Any) -> None:
    inbound, outbound = pair(name)
    assert inbound(wire) == canonical
    assert type(inbound(wire)) is type(canonical)
    assert outbound is not None
    assert outbound(canonical) == back


@pytest.mark.parametrize(
    ("name", "wire", "problem"),
    [
        ("decimal", "12,3a", "not a decimal number: '12,3a'"),
        ("decimal", "NaN", "not a decimal number: 'NaN'"),
        ("decimal", "1_000", "not a decimal number: '1_000'"),
        ("decimal", 1.5, "refusing binary float 1.5"),
        ("decimal", True, "not a decimal number: True"),
        ("decimal_str_to_minor", "12,3a", "not a decimal number: '12,3a'"),
        ("decimal_str_to_minor", 0.1, "refusing binary float 0.1"),
        ("int_str", "3.5", "not a whole number: '3.5'"),
        ("bool_str", "maybe", "not a boolean: 'maybe'"),
        ("date", "2024-13-45", "not a date (YYYY-MM-DD): '2024-13-45'"),
        ("date", "20240101", "not a date (YYYY-MM-DD): '20240101'"),
        ("datetime_local", "yesterday", "not a date-time (YYYY-MM-DD HH:MM:SS): 'yesterday'"),
        ("vat_rate", "-6", "negative tax rate '-6'"),
        ("string", {"a": 1}, "expected text, got dict"),
    ],
)
def test_unreadable_values_raise_value_error_naming_the_value(name: str, wire: Any, problem: str) -> None:
    inbound, _ = pair(name)
    with pytest.raises(ValueError) as caught:
        inbound(wire)
    assert str(caught.value) == problem or str(caught.value).startswith(problem)


def test_minor_units_with_another_exponent_and_no_negatives() -> None:
    inbound, outbound = pair("decimal_str_to_minor", exponent=0, allow_negative=False)
    assert inbound("1500") == 1500
    assert outbound is not None and outbound(1500) == "1500"
    with pytest.raises(ValueError, match="negative amount"):
        inbound("-1")


@pytest.mark.parametrize(
    ("wire", "utc"),
    [
        ("2025-01-02 10:56:00", datetime(2025, 1, 2, 9, 56, tzinfo=UTC)),  # CET
        ("2025-07-02 10:56:00", datetime(2025, 7, 2, 8, 56, tzinfo=UTC)),  # CEST
        ("2025-07-02T10:56:00+00:00", datetime(2025, 7, 2, 10, 56, tzinfo=UTC)),  # an explicit offset wins
        ("1735811760", datetime(2025, 1, 2, 9, 56, tzinfo=UTC)),  # Unix seconds
    ],
)
def test_datetime_local(wire: str, utc: datetime) -> None:
    inbound, outbound = pair("datetime_local")
    moment = inbound(wire)
    assert moment == utc and moment.tzinfo is UTC
    assert outbound is not None
    assert inbound(outbound(moment)) == utc


def test_datetime_local_in_another_zone() -> None:
    inbound, outbound = pair("datetime_local", zone="America/New_York")
    assert inbound("2025-01-02 10:00:00") == datetime(2025, 1, 2, 15, 0, tzinfo=UTC)
    assert outbound is not None and outbound(datetime(2025, 1, 2, 15, 0, tzinfo=UTC)) == "2025-01-02 10:00:00"


def test_keyed_list_orders_by_number() -> None:
    inbound, outbound = pair("keyed_list")
    keyed = {"line10": "j", "line2": "b", "line1": "a", "line9": "i"}
    assert inbound(keyed) == ["a", "b", "i", "j"]
    assert inbound(["x", "y"]) == ["x", "y"]
    assert inbound({"item1": "only"}) == ["only"]
    assert outbound is not None and outbound(["a"]) == ["a"]
    with pytest.raises(ValueError, match="expected a keyed object or a list, got str"):
        inbound("line1")


def test_first_non_empty() -> None:
    inbound, _ = pair("first_non_empty")
    assert inbound(("", None, "  Jan ", "Piet")) == "Jan"
    assert inbound((None, 42)) == "42"
    assert inbound(("", " ", None)) is None


def test_difference_to_minor() -> None:
    inbound, outbound = pair("difference_to_minor")
    assert inbound(("62.92", "10.92")) == 5200
    assert inbound((Decimal("0.30"), "0.1")) == 20
    assert outbound is None
    with pytest.raises(ValueError, match="needs both amounts"):
        inbound(("62.92", ""))


def test_vat_rate_no_tax_and_flag() -> None:
    inbound, _ = pair("vat_rate", no_tax=-1)
    assert inbound(-1) == Decimal(0)
    assert inbound("-1") == Decimal(0)
    flag, none = pair("flag_when", equals=-1)
    assert none is None
    assert (flag(-1), flag(Decimal("-1")), flag("-1"), flag(21), flag("21")) == (True, True, True, None, None)


COUNTRIES: list[Any] = [
    {"id": "146", "name": "Netherlands"},
    {"id": "21", "name": "Belgium"},
    {"id": "7", "name": "Narnia"},
    {"id": "147", "name": "The Netherlands"},
    {"name": "no id"},
    "junk",
]


def test_country_id_to_iso() -> None:
    inbound, outbound = pair("country_id_to_iso", {"countrylist": COUNTRIES})
    assert (inbound("146"), inbound(21), inbound("0")) == ("NL", "BE", None)
    assert inbound("Nederland") == "NL"  # a name instead of an id
    assert outbound is not None
    assert (outbound("NL"), outbound("be"), outbound(None)) == ("146", "21", "")  # first id of a country wins
    with pytest.raises(ValueError, match="country id '7' \\('Narnia'\\) has no known ISO 3166 code"):
        inbound("7")
    with pytest.raises(ValueError, match="unknown country id '999'"):
        inbound("999")
    with pytest.raises(ValueError, match="country 'DE' is not in the service's country list"):
        outbound("DE")


def test_params_are_checked() -> None:
    transform = get_transform("decimal_str_to_minor")
    with pytest.raises(ValueError, match="has no parameter 'places'; allowed: allow_negative, exponent, send_zero"):
        transform.resolve_params({"places": 2})
    with pytest.raises(ValueError, match=r"parameter 'exponent': expected a whole number 0\.\.6"):
        transform.resolve_params({"exponent": "two"})
