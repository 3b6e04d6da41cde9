"""Records to FastFaktura's JSON: bare objects, exact numbers (never float), bytes cached per revision.

An invoice has two shapes: the *list entry* (exactly the documented Invoice schema: id, number,
client_id, currency, subtotal_cents, tax_cents, total_cents, status, due_date, public_url) and the
*detail* (the entry plus ``notes``, ``lines`` and ``events``). Both are written straight from the record
with f-strings (the hot path: a few microseconds each); a corrupted record (`Invoice.overrides`) goes
through dicts and `dumps` instead, and a test checks both paths agree on seeded data.
"""

from __future__ import annotations

from decimal import Decimal
from json.encoder import encode_basestring as _q
from typing import Any

from sandboxes.fastfaktura.records import Business, Client, Event, Invoice, Line

__all__ = ["ENTRY_KEYS", "business_dict", "client_dict", "client_json", "dumps", "entry_json", "event_dict",
           "invoice_detail_dict", "invoice_entry_dict", "invoice_json", "line_dict", "plain"]

ENTRY_KEYS = ("id", "number", "client_id", "currency", "subtotal_cents", "tax_cents", "total_cents", "status",
              "due_date", "public_url")
_PLAIN: dict[Decimal, str] = {}


def plain(value: Decimal) -> str:
    """Shortest decimal text without exponent: 2.00 -> "2", 5.50 -> "5.5" (memoized: rates repeat)."""
    text = _PLAIN.get(value)
    if text is None:
        text = str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")
        if len(_PLAIN) < 100_000:
            _PLAIN[value] = text
    return text


def dumps(value: Any) -> str:
    """Compact JSON (UTF-8 text, not ASCII-escaped) with Decimals written as exact numbers.

    Raises:
        TypeError: a value JSON cannot hold (a float included: the sandbox never makes one).
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _q(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_q(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise TypeError(f"not JSON: {type(value).__name__}")


def _opt(text: str | None) -> str:
    return "null" if text is None else _q(text)


# -- dict shapes (truth, slow path) ------------------------------------------------------------------------


def business_dict(b: Business) -> dict[str, Any]:
    """The company profile."""
    return {"id": b.id, "name": b.name, "email": b.email, "phone": b.phone, "address": b.address,
            "country": b.country, "currency": b.currency, "locale": b.locale, "vat_number": b.vat_number}


def client_dict(c: Client) -> dict[str, Any]:
    """A client, documented field order."""
    return {"id": c.id, "name": c.name, "email": c.email, "phone": c.phone, "address": c.address,
            "country": c.country, "locale": c.locale, "external_id": c.external_id, "tags": list(c.tags),
            "archived_at": c.archived_at}


def line_dict(line: Line) -> dict[str, Any]:
    """A line exactly as documented (InvoiceLine): the derived net and tax are not shown."""
    return {"description": line.description, "quantity": line.quantity, "unit_price_cents": line.unit_price_cents,
            "tax_rate": line.tax_rate}


def event_dict(e: Event) -> dict[str, Any]:
    """A timeline entry; optional keys only when set."""
    out: dict[str, Any] = {"id": e.id, "type": e.type, "created_at": e.created_at}
    if e.channel is not None:
        out["channel"] = e.channel
    if e.amount_cents is not None:
        out["amount_cents"] = e.amount_cents
    if e.paid_at is not None:
        out["paid_at"] = e.paid_at
    if e.data is not None:
        out["data"] = dict(e.data)
    return out


def _override(out: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path (numeric parts index lists); a path that does not exist is created on dicts."""
    parts = path.split(".")
    target: Any = out
    for part in parts[:-1]:
        if isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        elif isinstance(target, dict):
            target = target.setdefault(part, {})
        else:
            return
    last = parts[-1]
    if isinstance(target, list) and last.isdigit() and int(last) < len(target):
        target[int(last)] = value
    elif isinstance(target, dict):
        target[last] = value


def invoice_entry_dict(inv: Invoice) -> dict[str, Any]:
    """The list entry (overrides of its own keys applied)."""
    out: dict[str, Any] = {"id": inv.id, "number": inv.number, "client_id": inv.client_id, "currency": inv.currency,
                           "subtotal_cents": inv.subtotal_cents, "tax_cents": inv.tax_cents,
                           "total_cents": inv.total_cents, "status": inv.status, "due_date": inv.due_date,
                           "public_url": inv.public_url}
    for path, value in (inv.overrides or {}).items():
        if path in ENTRY_KEYS:
            out[path] = value
    return out


def invoice_detail_dict(inv: Invoice) -> dict[str, Any]:
    """The detail: the entry plus notes, lines and events (every override applied)."""
    out = invoice_entry_dict(inv)
    out["notes"] = inv.notes
    out["lines"] = [line_dict(line) for line in inv.lines]
    out["events"] = [event_dict(e) for e in inv.events]
    for path, value in (inv.overrides or {}).items():
        _override(out, path, value)
    return out


# -- cached bytes (the hot path) -----------------------------------------------------------------------------


def client_json(c: Client) -> bytes:
    """The client's JSON bytes, rebuilt only after it changed (call with the state lock held)."""
    if c.cache_rev != c.rev:
        c.cache_json = (
            f'{{"id":"{c.id}","name":{_q(c.name)},"email":{_opt(c.email)},"phone":{_opt(c.phone)},'
            f'"address":{_opt(c.address)},"country":{_opt(c.country)},"locale":{_q(c.locale)},'
            f'"external_id":{_opt(c.external_id)},"tags":[{",".join(_q(t) for t in c.tags)}],'
            f'"archived_at":{_opt(c.archived_at)}}}'
        ).encode()
        c.cache_rev = c.rev
    return c.cache_json


def _line(line: Line) -> str:
    return (f'{{"description":{_q(line.description)},"quantity":{plain(line.quantity)},'
            f'"unit_price_cents":{line.unit_price_cents},"tax_rate":{plain(line.tax_rate)}}}')


def _event(e: Event) -> str:
    text = f'{{"id":"{e.id}","type":"{e.type}","created_at":"{e.created_at}"'
    if e.channel is not None:
        text += f',"channel":{_q(e.channel)}'
    if e.amount_cents is not None:
        text += f',"amount_cents":{e.amount_cents}'
    if e.paid_at is not None:
        text += f',"paid_at":{_q(e.paid_at)}'
    if e.data is not None:
        text += f',"data":{dumps(e.data)}'
    return text + "}"


def _refresh(inv: Invoice) -> None:
    if inv.cache_rev == inv.rev:
        return
    if inv.overrides:
        inv.entry_json = dumps(invoice_entry_dict(inv)).encode()
        inv.detail_json = dumps(invoice_detail_dict(inv)).encode()
    else:
        due = "null" if inv.due_date is None else f'"{inv.due_date}"'
        entry = (
            f'{{"id":"{inv.id}","number":"{inv.number}","client_id":"{inv.client_id}","currency":"{inv.currency}",'
            f'"subtotal_cents":{inv.subtotal_cents},"tax_cents":{inv.tax_cents},"total_cents":{inv.total_cents},'
            f'"status":"{inv.status}","due_date":{due},"public_url":"{inv.public_url}"'
        )
        inv.entry_json = (entry + "}").encode()
        inv.detail_json = (
            f'{entry},"notes":{_opt(inv.notes)},"lines":[{",".join(_line(x) for x in inv.lines)}],'
            f'"events":[{",".join(_event(e) for e in inv.events)}]}}'
        ).encode()
    inv.cache_rev = inv.rev


def entry_json(inv: Invoice) -> bytes:
    """The invoice's list-entry bytes (call with the state lock held)."""
    _refresh(inv)
    return inv.entry_json


def invoice_json(inv: Invoice) -> bytes:
    """The invoice's detail bytes (call with the state lock held)."""
    _refresh(inv)
    return inv.detail_json
