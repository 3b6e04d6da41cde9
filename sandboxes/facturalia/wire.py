"""JSON on the wire: compact encoding with exact Decimal numbers, strict decoding, canonical comparison."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

__all__ = ["JSON_TYPE", "MalformedJson", "canonical", "decode", "encode", "money"]

JSON_TYPE = "application/json; charset=utf-8"
_CENT = Decimal("0.01")
_encode_str = json.JSONEncoder(ensure_ascii=False).encode


class MalformedJson(ValueError):
    """The body is not a JSON document (bad UTF-8, bad syntax, NaN/Infinity)."""


def money(value: Decimal) -> Decimal:
    """An amount with exactly two decimals (the caller has rounded it already)."""
    return value.quantize(_CENT)


def _write(value: Any, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(_encode_str(value))
    elif value is None:
        out.append("null")
    elif kind is bool:
        out.append("true" if value else "false")
    elif kind is int:
        out.append(str(value))
    elif kind is Decimal:
        out.append(format(value, "f"))  # exact digits as stored: 120.00 stays 120.00
    elif kind is dict:
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(_encode_str(key))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif kind is list or kind is tuple:
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {kind.__name__}")


def encode(value: Any) -> bytes:
    """Compact UTF-8 JSON; a `Decimal` is written with its own digits, never through float."""
    out: list[str] = []
    _write(value, out)
    return "".join(out).encode("utf-8")


def _refuse(name: str) -> Any:
    raise MalformedJson(f"{name} is not JSON")


def decode(body: bytes) -> Any:
    """Decode a request body; fractions become `Decimal`.

    Raises:
        MalformedJson: not UTF-8, not JSON, or a NaN/Infinity constant.
    """
    try:
        return json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=_refuse)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedJson(str(exc)) from None


def canonical(value: Any) -> Any:
    """A hashable form for comparing two bodies: key order and number spelling (120 vs 120.0) ignored.

    Booleans stay distinct from the numbers 0 and 1, and strings from numbers.
    """
    kind = type(value)
    if kind is dict:
        return ("o", tuple(sorted((key, canonical(item)) for key, item in value.items())))
    if kind is list:
        return ("a", tuple(canonical(item) for item in value))
    if kind is bool:
        return ("b", value)
    if kind is int or kind is Decimal:
        number = Decimal(value)
        return ("n", number.normalize() if number else Decimal(0))
    return ("s", value) if kind is str else ("z", None)
