"""Money helpers: exact conversions, half-up rounding, floats refused."""

from decimal import Decimal

import pytest

from connector.money import currency_exponent, minor_to_decimal, parse_decimal, round_half_up, to_minor


@pytest.mark.parametrize(
    ("value", "expected"),
    [("62.92", 6292), ("0.005", 1), ("-0.005", -1), ("5.952", 595), ("1000000000.01", 100000000001), (3, 300)],
)
def test_to_minor_rounds_half_up(value: object, expected: int) -> None:
    assert to_minor(parse_decimal(value)) == expected


def test_currency_exponents() -> None:
    assert currency_exponent("EUR") == 2 and currency_exponent("jpy") == 0 and currency_exponent("KWD") == 3
    assert to_minor(Decimal("12.5"), "JPY") == 13
    assert minor_to_decimal(6292) == Decimal("62.92")
    assert str(minor_to_decimal(5, "KWD")) == "0.005"


@pytest.mark.parametrize("value", [1.5, "12,3a", "abc", "NaN", "Infinity", None, True])
def test_parse_decimal_refuses_floats_and_garbage(value: object) -> None:
    with pytest.raises(ValueError):
        parse_decimal(value)


def test_parse_decimal_accepts_a_decimal_comma() -> None:
    assert parse_decimal("12,30") == Decimal("12.30")
    assert round_half_up(Decimal("2.675")) == Decimal("2.68")
