"""Reading wire numbers as Decimal and writing Decimals back as plain text, without floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from connector.money import parse_decimal

__all__ = ["MAX_DIGITS", "decimal_text", "to_decimal"]

MAX_DIGITS = 60
"""No wire number has more digits than this before or after its point; past it, it is no amount at all. The
bound keeps a giant exponent (``1e999999999``) from ever reaching an ``int()`` or a text of its digits."""


def to_decimal(value: Any) -> Decimal:
    """Read a wire number (str, int or Decimal; "1,5" allowed) as a finite Decimal.

    Raises:
        ValueError: not a finite number, or one with more than `MAX_DIGITS` digits before or after its point;
            floats and booleans are refused, naming the value.
    """
    kind = type(value)
    if kind is Decimal:
        if value.is_finite():
            return _sane(value, value)
    elif kind is str and "_" not in value:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return _sane(parse_decimal(value), value)  # "12,5" -> 12.5; anything else raises ValueError
        if number.is_finite():
            return _sane(number, value)
    elif kind is int:
        return _sane(Decimal(value), value)
    elif kind is float:
        raise ValueError(f"refusing binary float {value!r}; decode JSON with parse_float=Decimal")
    raise ValueError(f"not a decimal number: {value!r}")


def _sane(number: Decimal, value: Any) -> Decimal:
    exponent = number.as_tuple().exponent
    if number.adjusted() < MAX_DIGITS and (not isinstance(exponent, int) or exponent >= -MAX_DIGITS):
        return number
    text = str(number)  # never str() of a huge int: Python refuses past 4,300 digits
    if type(value) is str and len(value) <= 40:
        text = value
    elif len(text) > 40:
        text = f"{text[:20]}... ({len(number.as_tuple().digits)} digits)"
    raise ValueError(f"{text} is beyond {MAX_DIGITS} digits before or after the point: not an amount")


def decimal_text(value: Decimal | int) -> str:
    """Write a Decimal as plain text without exponent ("5.952", "500", "-1.5")."""
    return format(value, "f") if isinstance(value, Decimal) else str(value)
