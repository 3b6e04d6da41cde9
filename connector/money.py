"""Money without floats: integer minor units, `Decimal` for prices and quantities, ISO 4217 exponents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = ["currency_exponent", "minor_to_decimal", "parse_decimal", "round_half_up", "to_minor"]

# Currencies whose minor unit is not 2 decimals; everything else uses 2.
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}


def currency_exponent(currency: str) -> int:
    """Return the number of decimals of the currency's minor unit (EUR -> 2, JPY -> 0)."""
    return _EXPONENTS.get(currency.upper(), 2)


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
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def to_minor(value: Decimal, currency: str = "EUR") -> int:
    """Convert a decimal amount to integer minor units, rounding half up."""
    exp = currency_exponent(currency)
    return int(round_half_up(value, exp).scaleb(exp))


def minor_to_decimal(minor: int, currency: str = "EUR") -> Decimal:
    """Convert integer minor units back to a decimal amount with the currency's scale."""
    exp = currency_exponent(currency)
    return Decimal(minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))
