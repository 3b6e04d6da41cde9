"""Records to the service's wire shapes: string-typed top level, keyed lines, PHP-style JSON bytes (cached).

JSON numbers (inside `lines`, `taxes.rate`, history `amount`) are written from their Decimal text, never
through float: `num()` wraps the literal in control-character marks that `encode()` turns into a bare
number after `json.dumps` (input strings never hold control characters; `inputs.clean` strips them).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sandboxes.factuursturen.records import Client, Draft, HistoryItem, Invoice, Line, Product, TaxSum

__all__ = ["client_dict", "draft_dict", "encode", "invoice_dict", "money", "num", "plain", "product_dict",
           "strip_marks"]

_OPEN, _CLOSE = "\x00\x01", "\x01\x00"
_OPEN_JSON, _CLOSE_JSON = '"\\u0000\\u0001', '\\u0001\\u0000"'
_TRUE, _FALSE = "true", "false"


def plain(value: Decimal) -> str:
    """Shortest decimal text without exponent: 52.00 -> "52", 5.950 -> "5.95"."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def money(value: Decimal) -> str:
    """Two decimals: "62.92"."""
    return f"{value:.2f}"


def num(value: Decimal, fixed2: bool = False) -> str:
    """A JSON number placeholder (see the module docstring)."""
    return _OPEN + (f"{value:.2f}" if fixed2 else plain(value)) + _CLOSE


def strip_marks(text: str) -> str:
    """A placeholder's plain text (for XML)."""
    return text.replace(_OPEN, "").replace(_CLOSE, "")


def encode(value: Any) -> bytes:
    """PHP ``json_encode`` style: compact, ASCII with \\u escapes, slashes escaped as ``\\/``."""
    text = json.dumps(value, separators=(",", ":")).replace("/", "\\/")
    return text.replace(_OPEN_JSON, "").replace(_CLOSE_JSON, "").encode("ascii")


def _bool(value: bool) -> str:
    return _TRUE if value else _FALSE


def _keyed(prefix: str, items: list[Any]) -> dict[str, Any] | list[Any]:
    """PHP's keyed object ("line1", ...) or an empty array when there are none."""
    return {f"{prefix}{i}": item for i, item in enumerate(items, 1)} if items else []


def _line(line: Line) -> dict[str, Any]:
    amount = line.amount if line.amount is not None else Decimal(0)
    return {"amount": num(amount), "amount_desc": line.amount_desc, "description": line.description,
            "tax_rate": num(line.tax_rate), "price": num(line.price), "discount_pct": num(line.discount_pct),
            "linetotal": num(line.linetotal)}


def _tax(tax: TaxSum) -> dict[str, Any]:
    return {"rate": num(tax.rate), "sum": money(tax.sum), "sum_of": money(tax.sum_of)}


def _history(item: HistoryItem) -> dict[str, Any]:
    entry: dict[str, Any] = {"date": item.date, "time": item.time, "description": item.description}
    if item.amount is not None:
        entry["amount"] = num(item.amount, fixed2=True)
    return entry


def client_dict(c: Client) -> dict[str, Any]:
    """A client as the API shows it (field order of the recorded fixtures)."""
    return {
        "clientnr": str(c.clientnr), "contact": c.contact, "showcontact": _bool(c.showcontact),
        "company": c.company, "address": c.address, "zipcode": c.zipcode, "city": c.city,
        "country": str(c.country), "phone": c.phone, "mobile": c.mobile, "email": c.email,
        "bankcode": c.bankcode, "biccode": c.biccode, "taxnumber": c.taxnumber,
        "tax_shifted": _bool(c.tax_shifted), "lastinvoice": c.lastinvoice, "sendmethod": c.sendmethod,
        "paymentmethod": c.paymentmethod, "top": str(c.top), "stddiscount": plain(c.stddiscount),
        "mailintro": c.mailintro, "reference": dict(c.reference), "notes": c.notes,
        "notes_on_invoice": _bool(c.notes_on_invoice), "active": _bool(c.active),
        "default_doclang": c.default_doclang, "default_email": str(c.default_email), "currency": c.currency,
        "mandate_id": c.mandate_id, "mandate_date": c.mandate_date, "collecttype": c.collecttype,
        "timestamp": c.timestamp, "tax_type": c.tax_type, "default_category": str(c.default_category),
        # keys the live service was seen sending by 2017 [C rb]; values not recorded: flags as "true"/"false"
        "email_reminder": "false", "custom_1": "", "custom_2": "", "custom_3": "",
    }


def invoice_dict(inv: Invoice) -> dict[str, Any]:
    """A sent invoice as the API shows it (fixture field order, newer fields last)."""
    snap = inv.snapshot
    out: dict[str, Any] = {
        "id": str(inv.id), "invoicenr_full": inv.invoicenr, "invoicenr": inv.invoicenr,
        "reference": dict(inv.reference), "lines": _keyed("line", [_line(x) for x in inv.lines]),
        "profile": str(inv.profile), "discounttype": inv.discounttype, "discount": plain(inv.discount),
        "paymentcondition": inv.paymentcondition, "paymentperiod": str(inv.paymentperiod),
        "collection": "1" if inv.collection else "0", "tax": money(inv.tax), "totalintax": money(inv.totalintax),
        "clientnr": str(inv.clientnr), "company": snap.company, "contact": snap.contact,
        "address": snap.address, "zipcode": snap.zipcode, "city": snap.city, "country": snap.country,
        "phone": snap.phone, "mobile": snap.mobile, "email": snap.email, "taxnumber": snap.taxnumber,
        "invoicenote": inv.invoicenote, "sent": inv.sent, "uncollectible": inv.uncollectible,
        "lastreminder": inv.lastreminder, "open": money(inv.open), "paiddate": inv.paiddate,
        "taxes": _keyed("tax", [_tax(t) for t in inv.taxes]), "payment_url": inv.payment_url,
        "duedate": inv.duedate, "history": _keyed("item", [_history(h) for h in inv.history]),
        "tax_type": inv.tax_type, "language": inv.language, "tax_shifted": _bool(inv.tax_shifted),
        "category": str(inv.category),
    }
    if inv.overrides:
        out.update(inv.overrides)
    return out


def product_dict(p: Product) -> dict[str, Any]:
    """A product; prices without zero padding ("120", "145.2")."""
    return {"id": str(p.id), "code": p.code, "name": p.name, "price": plain(p.price), "taxes": str(p.taxes),
            "priceintax": plain(p.priceintax)}


def draft_dict(d: Draft) -> dict[str, Any]:
    """A saved or repeating invoice, with the fields the doc lists for its kind."""
    snap = d.snapshot
    out: dict[str, Any] = {
        "id": str(d.id), "name": d.name, "reference": dict(d.reference),
        "lines": _keyed("line", [_line(x) for x in d.lines]), "profile": str(d.profile),
        "discounttype": d.discounttype, "discount": plain(d.discount), "paymentcondition": d.paymentcondition,
        "paymentperiod": str(d.paymentperiod),
    }
    if d.kind == "saved":
        out.update({"totaldiscount": money(d.totaldiscount), "totalintax": money(d.totalintax),
                    "alreadypaid": money(d.alreadypaid), "alreadypaidmethod": d.alreadypaidmethod})
    else:
        out.update({"datesaved": d.datesaved, "totalintax": money(d.totalintax), "initialdate": d.initialdate,
                    "nextsenddate": d.nextsenddate, "finalsenddate": d.finalsenddate, "frequency": d.frequency,
                    "repeattype": d.repeattype})
    out.update({"clientnr": str(d.clientnr), "contact": snap.contact, "company": snap.company,
                "address": snap.address, "zipcode": snap.zipcode, "city": snap.city,
                "country": snap.country})
    if d.kind == "saved":
        out["datesaved"] = d.datesaved
    return out
