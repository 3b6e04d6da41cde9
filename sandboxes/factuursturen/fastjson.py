"""JSON bytes per record, cached by revision; invoices written straight from the record (the hot path).

Serving 100,000 invoices quickly needs each invoice serialized once in about 10 us; building the dict
and running `json.dumps` takes four times that. Strings go through the C escaper json uses itself, so
the output equals ``wire.encode(wire.invoice_dict(inv))`` (a test checks this for seeded invoices).
"""

from __future__ import annotations

from decimal import Decimal
from json.encoder import encode_basestring_ascii as _q

from sandboxes.factuursturen.invoicing import PAYMENT_CONDITION
from sandboxes.factuursturen.records import (
    Client,
    Draft,
    HistoryItem,
    Invoice,
    Line,
    Product,
    Snapshot,
    TaxSum,
)
from sandboxes.factuursturen.wire import client_dict, draft_dict, encode, invoice_dict, plain, product_dict

__all__ = ["invoice_json", "record_json"]

_PLAIN: dict[Decimal, str] = {}


def _num(value: Decimal) -> str:
    """`wire.plain`, memoized: line amounts, prices and rates repeat a lot."""
    text = _PLAIN.get(value)
    if text is None:
        text = plain(value)
        if len(_PLAIN) < 200_000:
            _PLAIN[value] = text
    return text


def _money(value: Decimal) -> str:
    """Two decimals; amounts are stored with exponent -2, so `str` usually already is the answer."""
    text = str(value)
    return text if text[-3:-2] == "." else f"{value:.2f}"


def _cents(value: Decimal) -> str:
    """`wire.plain` for a two-decimal amount (linetotal), without the Decimal round trip."""
    text = str(value)
    if text[-3:-2] != ".":
        return plain(value)
    if text.endswith(".00"):
        return text[:-3] if text not in ("-0.00",) else "0"
    return text[:-1] if text[-1] == "0" else text


def _line(line: Line) -> str:
    if line.amount is None:
        return (f'{{"amount":0,"amount_desc":{_q(line.amount_desc)},"description":{_q(line.description)},'
                f'"tax_rate":0,"price":0,"discount_pct":0,"linetotal":0}}')
    return (f'{{"amount":{_num(line.amount)},"amount_desc":{_q(line.amount_desc)},'
            f'"description":{_q(line.description)},"tax_rate":{_num(line.tax_rate)},"price":{_num(line.price)},'
            f'"discount_pct":{_num(line.discount_pct)},"linetotal":{_cents(line.linetotal)}}}')


def _tax(tax: TaxSum) -> str:
    return f'{{"rate":{_num(tax.rate)},"sum":"{_money(tax.sum)}","sum_of":"{_money(tax.sum_of)}"}}'


def _history(item: HistoryItem) -> str:
    head = f'{{"date":{_q(item.date)},"time":{_q(item.time)},"description":{_q(item.description)}'
    return head + ("}" if item.amount is None else f',"amount":{_money(item.amount)}}}')


def _keyed(prefix: str, fragments: list[str]) -> str:
    if not fragments:
        return "[]"
    return "{" + ",".join(f'"{prefix}{i}":{text}' for i, text in enumerate(fragments, 1)) + "}"


_EMPTY_REFERENCE = '{"line1":"","line2":"","line3":""}'
_CONDITION = _q(PAYMENT_CONDITION)


def _reference(values: dict[str, str]) -> str:
    if not any(values.values()) and len(values) == 3:
        return _EMPTY_REFERENCE
    return "{" + ",".join(f"{_q(k)}:{_q(v)}" for k, v in values.items()) + "}"


def _condition(text: str) -> str:
    return _CONDITION if text is PAYMENT_CONDITION else _q(text)


def _snapshot(snap: Snapshot) -> str:
    """The client part ("company" .. "taxnumber"), built once per snapshot (invoices may share one)."""
    if not snap.cache_json:
        snap.cache_json = (
            f'"company":{_q(snap.company)},"contact":{_q(snap.contact)},"address":{_q(snap.address)},'
            f'"zipcode":{_q(snap.zipcode)},"city":{_q(snap.city)},"country":{_q(snap.country)},'
            f'"phone":{_q(snap.phone)},"mobile":{_q(snap.mobile)},"email":{_q(snap.email)},'
            f'"taxnumber":{_q(snap.taxnumber)}')
    return snap.cache_json


def invoice_json(inv: Invoice) -> bytes:
    """The invoice as PHP-style JSON bytes (without overrides; `record_json` handles those)."""
    # Dates, times, numbers, the payment URL and checked choices need no escaping; free text does.
    text = (
        f'{{"id":"{inv.id}","invoicenr_full":"{inv.invoicenr}","invoicenr":"{inv.invoicenr}",'
        f'"reference":{_reference(inv.reference)},"lines":{_keyed("line", [_line(x) for x in inv.lines])},'
        f'"profile":"{inv.profile}","discounttype":"{inv.discounttype}","discount":"{_num(inv.discount)}",'
        f'"paymentcondition":{_condition(inv.paymentcondition)},"paymentperiod":"{inv.paymentperiod}",'
        f'"collection":"{"1" if inv.collection else "0"}","tax":"{_money(inv.tax)}",'
        f'"totalintax":"{_money(inv.totalintax)}","clientnr":"{inv.clientnr}",{_snapshot(inv.snapshot)},'
        f'"invoicenote":{_q(inv.invoicenote)},"sent":"{inv.sent}","uncollectible":"{inv.uncollectible}",'
        f'"lastreminder":"{inv.lastreminder}","open":"{_money(inv.open)}","paiddate":"{inv.paiddate}",'
        f'"taxes":{_keyed("tax", [_tax(t) for t in inv.taxes])},"payment_url":"{inv.payment_url}",'
        f'"duedate":"{inv.duedate}","history":{_keyed("item", [_history(h) for h in inv.history])},'
        f'"tax_type":"{inv.tax_type}","language":"{inv.language}",'
        f'"tax_shifted":"{"true" if inv.tax_shifted else "false"}","category":"{inv.category}"}}'
    )
    return text.replace("/", "\\/").encode("ascii")


def record_json(record: Client | Invoice | Product | Draft) -> bytes:
    """The record's JSON bytes, re-serialized only when its revision changed (call with the state lock)."""
    if record.cache_rev != record.rev:
        if isinstance(record, Invoice):
            record.cache_json = encode(invoice_dict(record)) if record.overrides else invoice_json(record)
        elif isinstance(record, Client):
            record.cache_json = encode(client_dict(record))
        elif isinstance(record, Product):
            record.cache_json = encode(product_dict(record))
        else:
            record.cache_json = encode(draft_dict(record))
        record.cache_rev = record.rev
    return record.cache_json
