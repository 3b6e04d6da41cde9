"""The wire form of every record: API Platform's JSON (PHP-encoded), cached per record revision.

API Platform's JsonEncoder uses ``JSON_HEX_TAG | JSON_HEX_APOS | JSON_HEX_AMP | JSON_HEX_QUOT |
JSON_UNESCAPED_UNICODE``: slashes come out as ``\\/``, ``<>'&"`` inside strings as ``\\u003C``..., other
non-ASCII text raw. Null properties are left out (``skip_null_values``). A record's properties are
serialized once into `Record.cache_body` (the text between the braces, without ``@`` keys); JSON-LD
members, JSON-LD items and plain JSON objects are cheap concatenations around it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from json.encoder import encode_basestring as _c_quote
from typing import Any

from sandboxes.hydra.records import Customer, Invoice, PaymentMethod, Record, Row, Transaction

__all__ = ["API_PREFIX", "RESOURCES", "Resource", "body", "dumps", "iri_of", "item_json", "member_json", "number",
           "plain_json", "q", "rfc3339", "truth_json"]

API_PREFIX = "/api"


class Resource:
    """Static facts of one exposed resource: its collection path, JSON-LD type and record class."""

    def __init__(self, collection: str, type_name: str, cls: type[Record]) -> None:
        """Args: collection: path segment (``invoice-rows``). type_name: ``@type``. cls: the record class."""
        self.collection = collection
        self.type_name = type_name
        self.cls = cls
        self.path = f"{API_PREFIX}/{collection}"
        self.iri_prefix = f"{self.path}/"
        self.escaped_prefix = self.iri_prefix.replace("/", "\\/")
        self.context = f"{API_PREFIX}/contexts/{type_name}"


RESOURCES: dict[str, Resource] = {r.collection: r for r in (
    Resource("customers", "Customer", Customer),
    Resource("invoices", "Invoice", Invoice),
    Resource("invoice-rows", "InvoiceRow", Row),
    Resource("invoice-transactions", "InvoiceTransaction", Transaction),
    Resource("payment-methods", "PaymentMethod", PaymentMethod),
)}
_BY_CLASS = {r.cls: r for r in RESOURCES.values()}


def q(text: str) -> str:
    """A JSON string literal the way API Platform's encoder writes it."""
    out: str = _c_quote(text)
    if "/" in text or "&" in text or "'" in text or '"' in text or "<" in text or ">" in text:
        inner = out[1:-1].replace('\\"', "\\u0022").replace("/", "\\/").replace("&", "\\u0026")
        out = '"' + inner.replace("'", "\\u0027").replace("<", "\\u003C").replace(">", "\\u003E") + '"'
    return out


def dumps(value: Any) -> str:
    """PHP-flavoured compact JSON of plain values (dict, list, str, int, Decimal, bool, None)."""
    if isinstance(value, str):
        return q(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, Decimal)):
        return number(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{q(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__}")


def number(value: int | Decimal) -> str:
    """A PHP float/int as JSON: shortest form, no trailing zeros, no exponent (121, 60.5, 0.75)."""
    if isinstance(value, int):
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


_STAMPS: dict[int, str] = {}


def rfc3339(epoch: int) -> str:
    """Epoch seconds as ``2024-03-01T10:15:00+00:00`` (PHP's DateTime::RFC3339 in UTC), memoized."""
    text = _STAMPS.get(epoch)
    if text is None:
        t = time.gmtime(epoch)
        text = (f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
                "+00:00")
        if len(_STAMPS) < 500_000:
            _STAMPS[epoch] = text
    return text


def _day(value: date) -> str:
    """A Doctrine ``date`` column comes out as a full date-time at midnight."""
    return f"{value.isoformat()}T00:00:00+00:00"


def _money(value: Decimal) -> str:
    """Scale 2 as a string; stored amounts already have exponent -2, so `str` is usually the answer."""
    text = str(value)
    return f'"{text}"' if text[-3:-2] == "." and "E" not in text else f'"{value:.2f}"'


def _iri(resource: str, key: object) -> str:
    return f'"{RESOURCES[resource].escaped_prefix}{key}"'


def _text(value: str | None) -> str | None:
    return None if value is None else q(value)


def _customer(c: Customer) -> list[tuple[str, str | None]]:
    return [("id", str(c.id)), ("name", q(c.name)), ("email", _text(c.email)), ("phone", _text(c.phone)),
            ("vatNumber", _text(c.vat_number)), ("street", _text(c.street)), ("postalCode", _text(c.postal_code)),
            ("city", _text(c.city)), ("country", _text(c.country)), ("externalId", _text(c.external_id)),
            ("createdAt", f'"{rfc3339(c.created)}"'), ("updatedAt", f'"{rfc3339(c.updated)}"')]


def _invoice(i: Invoice) -> list[tuple[str, str | None]]:
    rows = ",".join(_iri("invoice-rows", r) for r in i.row_ids)
    return [("id", str(i.id)), ("number", _text(i.number)), ("status", q(i.status)),
            ("customer", _iri("customers", i.customer_id)),
            ("date", f'"{_day(i.issued)}"' if i.issued else None), ("dueDate", f'"{_day(i.due)}"' if i.due else None),
            ("currency", q(i.currency)), ("reference", _text(i.reference)), ("netAmount", _money(i.net)),
            ("vatAmount", _money(i.vat)), ("grossAmount", _money(i.gross)), ("openAmount", _money(i.open)),
            ("invoiceRows", f"[{rows}]"), ("createdAt", f'"{rfc3339(i.created)}"'),
            ("updatedAt", f'"{rfc3339(i.updated)}"'), *_deleted(i)]


def _row(r: Row) -> list[tuple[str, str | None]]:
    children = ",".join(_iri("invoice-rows", c) for c in r.children)
    return [("id", str(r.id)), ("invoice", _iri("invoices", r.invoice_id)),
            ("classificationNumber", _text(r.classification_number)), ("unit", _text(r.unit)),
            ("quantity", number(r.quantity)), ("vatRate", _money(r.vat_rate)), ("netPrice", _money(r.net_price)),
            ("netDiscountAmount", None if r.net_discount is None else _money(r.net_discount)),
            ("productName", q(r.product_name)),
            ("parentInvoiceRow", None if r.parent_id is None else _iri("invoice-rows", r.parent_id)),
            ("invoiceChildrenRows", f"[{children}]"), ("netAmount", _money(r.net_amount)),
            ("vatAmount", _money(r.vat_amount)), ("createdAt", f'"{rfc3339(r.created)}"'),
            ("updatedAt", f'"{rfc3339(r.updated)}"')]


def _transaction(t: Transaction) -> list[tuple[str, str | None]]:
    return [("id", str(t.id)), ("invoice", _iri("invoices", t.invoice_id)),
            ("amount", None if t.amount is None else number(t.amount)), ("date", f'"{rfc3339(t.date)}"'),
            ("createdAt", f'"{rfc3339(t.created)}"'), ("updatedAt", f'"{rfc3339(t.updated)}"')]


def _payment_method(p: PaymentMethod) -> list[tuple[str, str | None]]:
    return [("id", q(p.key)), ("type", q(p.type)), ("ccBrand", _text(p.cc_brand)),
            ("ccLastDigits", _text(p.cc_last_digits)), ("ccExpMonth", str(p.cc_exp_month)),
            ("ccExpYear", str(p.cc_exp_year)), ("externalId", _text(p.external_id)),
            ("createdAt", f'"{rfc3339(p.created)}"'), ("updatedAt", f'"{rfc3339(p.updated)}"'), *_deleted(p)]


def _deleted(record: Record) -> list[tuple[str, str | None]]:
    at = record.deleted_at
    return [("deletedAt", None if at is None else f'"{rfc3339(at)}"'), ("deleted", "false" if at is None else "true")]


_FIELDS: dict[type, Callable[[Any], list[tuple[str, str | None]]]] = {
    Customer: _customer, Invoice: _invoice, Row: _row, Transaction: _transaction, PaymentMethod: _payment_method}


def body(record: Record) -> str:
    """The record's properties as JSON text without braces, rebuilt only when its revision changed.

    Call with the state lock held (the record must not change while it is read).
    """
    if record.cache_rev != record.rev:
        pairs = _FIELDS[type(record)](record)
        if record.overrides:
            pairs = [(k, dumps(record.overrides[k]) if k in record.overrides else v) for k, v in pairs]
        record.cache_body = ",".join(f'"{k}":{v}' for k, v in pairs if v is not None)
        record.cache_rev = record.rev
    return record.cache_body


def _key(record: Record) -> object:
    return record.key if isinstance(record, PaymentMethod) else record.id


def member_json(record: Record) -> str:
    """The record as a JSON-LD collection member: ``@id``, ``@type``, then its properties."""
    res = _BY_CLASS[type(record)]
    return f'{{"@id":"{res.escaped_prefix}{_key(record)}","@type":"{res.type_name}",{body(record)}}}'


def item_json(record: Record) -> str:
    """The record as a JSON-LD document of its own (``@context`` first)."""
    res = _BY_CLASS[type(record)]
    context = res.context.replace("/", "\\/")
    return (f'{{"@context":"{context}","@id":"{res.escaped_prefix}{_key(record)}","@type":"{res.type_name}",'
            f"{body(record)}}}")


def plain_json(record: Record) -> str:
    """The record as plain JSON (``Accept: application/json``): properties only."""
    return "{" + body(record) + "}"


def truth_json(record: Record) -> str:
    """The record for ``/_sandbox/state``: plain JSON plus ``deleted`` (and ``deletedAt``) always."""
    text = body(record)
    if isinstance(record, (Invoice, PaymentMethod)):
        return "{" + text + "}"
    return "{" + text + "," + ",".join(f'"{k}":{v}' for k, v in _deleted(record) if v is not None) + "}"


def iri_of(record: Record) -> str:
    """The record's IRI (``/api/invoices/12``)."""
    return f"{_BY_CLASS[type(record)].iri_prefix}{_key(record)}"

