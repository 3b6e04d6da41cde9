"""Decoded request bodies to typed values, with 422 ``fields`` naming every problem (dotted paths)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sandboxes._server import Request
from sandboxes.fastfaktura.errors import BadRequest, Unprocessable
from sandboxes.fastfaktura.records import CURRENCIES, LOCALES, Line, make_line

__all__ = ["CHANNELS", "NewInvoice", "SendCommand", "business_fields", "client_fields", "decode_body", "new_invoice",
           "send_command"]

CHANNELS = ("email", "sms", "link")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")  # E.164
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")  # ISO 3166-1 alpha-2
_MAX_TEXT = 2000


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def decode_body(request: Request) -> dict[str, Any]:
    """The JSON object of a request body (numbers with a fraction as Decimal).

    Raises:
        BadRequest: not JSON, or not an object.
    """
    try:
        value = json.loads(request.body or b"null", parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadRequest("The request body must be a JSON object")
    return value


def _number(value: Any) -> Decimal | None:
    """A JSON number (int or decimal, never a bool or a string) as Decimal; None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    number = Decimal(value)
    return number if number.is_finite() else None


def _text(body: dict[str, Any], name: str, problems: dict[str, str], out: dict[str, Any]) -> None:
    """A nullable text field: string or null; an empty string reads as null."""
    if name not in body:
        return
    value = body[name]
    if value is not None and not isinstance(value, str):
        problems[name] = "must be a string or null"
    elif value is not None and len(value) > _MAX_TEXT:
        problems[name] = f"must be at most {_MAX_TEXT} characters"
    else:
        out[name] = (value.strip() or None) if isinstance(value, str) else None


def _contact(body: dict[str, Any], problems: dict[str, str], out: dict[str, Any]) -> None:
    """email, phone (E.164), address, country (ISO 3166-1 alpha-2, upper-cased), each string or null."""
    for name in ("email", "phone", "address", "country"):
        _text(body, name, problems, out)
    if out.get("email") and not _EMAIL.match(out["email"]):
        problems["email"] = "must be an e-mail address"
    if out.get("phone") and not _PHONE.match(out["phone"]):
        problems["phone"] = "must be an E.164 phone number such as +4791234567"
    if out.get("country"):
        if not _COUNTRY.match(out["country"]):
            problems["country"] = "must be an ISO 3166-1 alpha-2 code such as NO"
        else:
            out["country"] = out["country"].upper()


def _name(body: dict[str, Any], partial: bool, problems: dict[str, str], out: dict[str, Any]) -> None:
    if "name" not in body:
        if not partial:
            problems["name"] = "is required"
        return
    name = body["name"]
    if not isinstance(name, str) or not name.strip():
        problems["name"] = "must be a non-empty string"
    elif len(name) > 200:
        problems["name"] = "must be at most 200 characters"
    else:
        out["name"] = name.strip()


def _choice(body: dict[str, Any], name: str, options: tuple[str, ...], problems: dict[str, str],
            out: dict[str, Any]) -> None:
    if name in body:
        if body[name] not in options:
            problems[name] = f"must be one of {', '.join(options)}"
        else:
            out[name] = body[name]


def client_fields(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The writable client fields present in `body` (``id`` and ``archived_at`` are read-only, ignored).

    Args:
        body: the decoded request body.
        partial: a PUT (only the given fields change) rather than a POST (``name`` required).

    Raises:
        Unprocessable: every problem at once, by field.
    """
    problems: dict[str, str] = {}
    out: dict[str, Any] = {}
    _name(body, partial, problems, out)
    _contact(body, problems, out)
    _text(body, "external_id", problems, out)
    _choice(body, "locale", LOCALES, problems, out)
    if "tags" in body:
        tags = body["tags"]
        if tags is None:
            out["tags"] = []
        elif not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
            problems["tags"] = "must be a list of non-empty strings"
        else:
            out["tags"] = list(dict.fromkeys(t.strip() for t in tags))
    if problems:
        raise Unprocessable("The client is invalid", problems)
    return out


def business_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The writable company-profile fields present in `body` (a partial update).

    Raises:
        Unprocessable: every problem at once, by field.
    """
    problems: dict[str, str] = {}
    out: dict[str, Any] = {}
    _name(body, True, problems, out)
    _contact(body, problems, out)
    _text(body, "vat_number", problems, out)
    _choice(body, "currency", CURRENCIES, problems, out)
    _choice(body, "locale", LOCALES, problems, out)
    if problems:
        raise Unprocessable("The business profile is invalid", problems)
    return out


@dataclass
class NewInvoice:
    """A POSTed invoice, typed but not yet checked against the state (the client must exist)."""

    client_id: str
    currency: str
    due_date: str | None
    notes: str | None
    lines: list[Line]


def _line(index: int, item: Any, problems: dict[str, str]) -> Line | None:
    where = f"lines.{index}"
    if not isinstance(item, dict):
        problems[where] = "must be an object"
        return None
    before = len(problems)
    description = item.get("description")
    if not isinstance(description, str) or not description.strip():
        problems[f"{where}.description"] = "is required (a non-empty string)"
    quantity = _number(item.get("quantity"))
    if quantity is None or quantity <= 0 or quantity > 10**9:
        problems[f"{where}.quantity"] = "must be a number above 0"
    price = item.get("unit_price_cents")
    if isinstance(price, bool) or not isinstance(price, int) or abs(price) > 10**12:
        problems[f"{where}.unit_price_cents"] = "must be an integer (cents)"
    rate = _number(item.get("tax_rate"))
    if rate is None or not 0 <= rate <= 100:
        problems[f"{where}.tax_rate"] = "must be a percentage from 0 to 100"
    if len(problems) > before:
        return None
    assert isinstance(description, str) and quantity is not None and rate is not None and isinstance(price, int)
    return make_line(description.strip(), quantity, price, rate)


def _date(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def new_invoice(body: dict[str, Any]) -> NewInvoice:
    """Check a POSTed invoice: client_id, currency and >= 1 line required; due_date YYYY-MM-DD or null.

    Raises:
        Unprocessable: every problem at once, by field (``lines.0.quantity``).
    """
    problems: dict[str, str] = {}
    client_id = body.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        problems["client_id"] = "is required (a client id)"
    currency = body.get("currency")
    if currency not in CURRENCIES:
        problems["currency"] = f"is required, one of {', '.join(CURRENCIES)}"
    due = body.get("due_date")
    due_date = _date(due) if due is not None else None
    if due is not None and due_date is None:
        problems["due_date"] = "must be a date (YYYY-MM-DD) or null"
    out: dict[str, Any] = {}
    _text(body, "notes", problems, out)
    raw_lines = body.get("lines")
    lines: list[Line] = []
    if not isinstance(raw_lines, list) or not raw_lines:
        problems["lines"] = "is required: at least one line"
    else:
        for index, item in enumerate(raw_lines):
            line = _line(index, item, problems)
            if line is not None:
                lines.append(line)
    if problems:
        raise Unprocessable("The invoice is invalid", problems)
    return NewInvoice(str(client_id), str(currency), due_date, out.get("notes"), lines)


@dataclass
class SendCommand:
    """A send request: channels (deduplicated, in the given order) and reminder mode."""

    channels: list[str]
    reminder: bool


def send_command(body: dict[str, Any]) -> SendCommand:
    """Check a send body: ``channels`` (non-empty, each email|sms|link) and optional boolean ``reminder``.

    Raises:
        Unprocessable: by field.
    """
    problems: dict[str, str] = {}
    channels = body.get("channels")
    if not isinstance(channels, list) or not channels or not all(c in CHANNELS for c in channels):
        problems["channels"] = f"is required: a non-empty list of {', '.join(CHANNELS)}"
    reminder = body.get("reminder", False)
    if reminder is None:
        reminder = False
    if not isinstance(reminder, bool):
        problems["reminder"] = "must be true or false"
    if problems:
        raise Unprocessable("The send request is invalid", problems)
    assert isinstance(channels, list)
    return SendCommand(list(dict.fromkeys(channels)), reminder)
