"""Wire input: JSON or PHP-style form bodies, and the loose value types clients send (strings, 1/0, ...)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from sandboxes._server import Request
from sandboxes.factuursturen.errors import BadRequest

__all__ = ["as_items", "clean", "decode_body", "php_form", "to_bool", "to_date", "to_decimal", "to_int",
           "to_paid_datetime"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_KEY = re.compile(r"\[([^\[\]]*)\]")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def clean(value: Any) -> str:
    """A string without control characters (tab and newlines kept)."""
    return _CONTROL.sub("", str(value))


def decode_body(request: Request) -> dict[str, Any]:
    """The request body as a dict: JSON when so labelled (numbers as Decimal), else PHP-style form.

    Raises:
        BadRequest: unreadable JSON, or JSON that is not an object.
    """
    raw = request.body
    ctype = (request.header("Content-Type") or "").lower()
    if not raw.strip():
        return {}
    if "json" in ctype or (not ctype and raw.lstrip()[:1] in (b"{", b"[")):
        try:
            value = json.loads(raw, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"Invalid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise BadRequest("Invalid JSON: expected an object")
        return value
    try:
        return php_form(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("Invalid form body: not UTF-8") from None


def php_form(body: str) -> dict[str, Any]:
    """Decode ``a[b][0][c]=1&a[b][]=2`` the way PHP builds $_POST (``[]`` appends)."""
    result: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head, _, rest = key.partition("[")
        parts = [head, *(_KEY.findall("[" + rest) if rest else [])]
        node = result
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                part = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
    return result


def as_items(value: Any, what: str) -> list[Any]:
    """A JSON array, or an object keyed "0", "1" / "line1", "line2" (numeric order), as a list.

    Raises:
        BadRequest: anything else.
    """
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        def order(key: str) -> tuple[int, str]:
            digits = "".join(ch for ch in key if ch.isdigit())
            return (int(digits) if digits else 0, key)
        return [value[k] for k in sorted(value, key=order)]
    raise BadRequest(f"Invalid {what}: expected a list")


def to_bool(value: Any, what: str) -> bool:
    """true/false, "true"/"false", 1/0, "1"/"0" (also yes/no, on/off).

    Raises:
        BadRequest: anything else.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadRequest(f"Invalid value for {what}: expected a boolean")


def to_decimal(value: Any, what: str) -> Decimal:
    """A finite decimal from a number or numeric string ("12.50"; a decimal comma is accepted).

    Raises:
        BadRequest: not a number.
    """
    if isinstance(value, bool):
        raise BadRequest(f"Invalid value for {what}: expected a number")
    text = str(value).strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise BadRequest(f"Invalid value for {what}: expected a number") from None
    if not number.is_finite():
        raise BadRequest(f"Invalid value for {what}: expected a number")
    return number


def to_int(value: Any, what: str) -> int:
    """An integer from a number or digits.

    Raises:
        BadRequest: not an integer.
    """
    number = to_decimal(value, what)
    if number != number.to_integral_value():
        raise BadRequest(f"Invalid value for {what}: expected an integer")
    return int(number)


def to_date(value: Any, what: str) -> str:
    """A YYYY-MM-DD date, checked.

    Raises:
        BadRequest: not such a date.
    """
    text = str(value).strip()
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise BadRequest(f"Invalid date for {what}: use YYYY-MM-DD") from None


def to_paid_datetime(value: Any, what: str) -> tuple[str, str | None]:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM[:SS]`` as (date, "HH:MM" or None).

    Raises:
        BadRequest: neither form.
    """
    text = str(value).strip()
    if len(text) == 10:
        return to_date(text, what), None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"Invalid date for {what}: use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS") from None
    return moment.date().isoformat(), moment.strftime("%H:%M")
