"""Money without floats: integer minor units, `Decimal` for prices and quantities, ISO 4217 exponents.

The one place amounts are converted and rounded: every mapping transform that turns a wire amount into minor units
(or back), or rounds a price, calls these. The number of decimals of an amount's minor unit comes from its
currency (`currency_exponent`: EUR 2, JPY 0, KWD 3), never from a constant; rounding is half away from zero, the
rule invoicing services use.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "DEFAULT_EXPONENT",
    "currency_exponent",
    "major_units",
    "minor_text",
    "minor_to_decimal",
    "minor_units",
    "parse_decimal",
    "plain_text_minor",
    "round_half_up",
    "to_minor",
    "whole_units",
]

DEFAULT_EXPONENT = 2
"""The exponent of a currency ISO 4217 gives two decimals, and of an amount whose currency is not known."""

# ISO 4217 (list one, 2024): the currencies whose minor unit is not 2 decimals. Everything else uses 2.
_EXPONENTS = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF",
         "XOF", "XPF"),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
_ONE = Decimal(1)


def currency_exponent(currency: str | None) -> int:
    """Return the number of decimals of the currency's minor unit (EUR -> 2, JPY -> 0, KWD -> 3).

    An unknown or missing currency gets `DEFAULT_EXPONENT`.
    """
    return _EXPONENTS.get(currency.strip().upper(), DEFAULT_EXPONENT) if currency else DEFAULT_EXPONENT


def parse_decimal(value: object) -> Decimal:
    """Parse a wire value (string or int, or a JSON number already read as Decimal) into a `Decimal`.

    Raises:
        ValueError: the value is not a finite decimal number (floats are refused on purpose).
    """
    if isinstance(value, (bool, float)):
        raise ValueError(f"refusing binary float {value!r}; decode JSON with parse_float=Decimal")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", ".") if value.count(",") == 1 and "." not in value else value.strip()
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    else:
        raise ValueError(f"not a decimal number: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def round_half_up(value: Decimal, places: int = 2) -> Decimal:
    """Round half away from zero to `places` decimals (the rule invoicing services use)."""
    return value.quantize(_ONE.scaleb(-places), rounding=ROUND_HALF_UP)


def whole_units(value: Decimal) -> int:
    """Round an amount already in minor units (quantity x a price in cents) half up to a whole number of them.

    Raises:
        decimal.InvalidOperation: a result past the decimal context's precision (a product of absurd inputs).
    """
    return int(value.quantize(_ONE, ROUND_HALF_UP))


def minor_units(amount: Decimal, exponent: int) -> int:
    """Convert an amount in major units to integer minor units of `exponent` decimals (62.92 -> 6292 at 2,
    1234 -> 1234 at 0, 12.345 -> 12345 at 3); more decimals than that round half up. A whole result is taken as
    it is, however long (the store's fit check judges it)."""
    shifted = amount.scaleb(exponent)
    minor = int(shifted)
    return minor if minor == shifted else whole_units(shifted)


def plain_text_minor(text: str, exponent: int) -> int | None:
    """The minor units of an amount written plainly with exactly `exponent` decimals ("62.92" at 2, "1234" at 0),
    read without a Decimal; None for any other spelling (the caller then parses it)."""
    if exponent:
        head, dot, tail = text.partition(".")
        if not (dot and len(tail) == exponent and tail.isdigit()):
            return None
    else:
        head, tail = text, ""
    if head.isdigit() or (head[:1] == "-" and head[1:].isdigit()):
        return int(head + tail)
    return None


def major_units(minor: int, exponent: int) -> Decimal:
    """Integer minor units back to an exact amount in major units (6292 at 2 -> 62.92; 1234 at 0 -> 1234)."""
    return Decimal(minor).scaleb(-exponent)


def minor_text(minor: int, exponent: int) -> str:
    """Integer minor units as plain text with exactly `exponent` decimals (6292 at 2 -> "62.92", 1234 at 0 ->
    "1234", 12345 at 3 -> "12.345")."""
    return f"{major_units(minor, exponent):.{exponent}f}"


def to_minor(value: Decimal, currency: str = "EUR") -> int:
    """Convert a decimal amount to integer minor units of `currency`, rounding half up."""
    return minor_units(value, currency_exponent(currency))


def minor_to_decimal(minor: int, currency: str = "EUR") -> Decimal:
    """Convert integer minor units back to a decimal amount with the currency's scale."""
    exp = currency_exponent(currency)
    return round_half_up(major_units(minor, exp), exp)
