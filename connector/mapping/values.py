"""Reading wire numbers as Decimal and writing Decimals back as plain text, without floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from connector.money import parse_decimal

__all__ = ["decimal_text", "to_decimal"]


def to_decimal(value: Any) -> Decimal:
    """Read a wire number (str, int or Decimal; "1,5" allowed) as a finite Decimal.

    Raises:
        ValueError: not a finite number; floats and booleans are refused, naming the value.
    """
    kind = type(value)
    if kind is Decimal:
        if value.is_finite():
            return value
    elif kind is str and "_" not in value:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return parse_decimal(value)  # "12,5" -> 12.5; anything else raises ValueError naming the value
        if number.is_finite():
            return number
    elif kind is int:
        return Decimal(value)
    elif kind is float:
        raise ValueError(f"refusing binary float {value!r}; decode JSON with parse_float=Decimal")
    raise ValueError(f"not a decimal number: {value!r}")


def decimal_text(value: Decimal | int) -> str:
    """Write a Decimal as plain text without exponent ("5.952", "500", "-1.5")."""
    return format(value, "f") if isinstance(value, Decimal) else str(value)
