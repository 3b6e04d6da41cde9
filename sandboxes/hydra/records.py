"""Records of one Hydra account and the money rules that tie rows to invoice totals (Decimal only).

Every record carries `rev` (bumped on each change; its cached JSON fragment is rebuilt when it differs
from `cache_rev`), second-precision `created`/`updated` epoch times and a Gedmo-style `deleted_at`.
`overrides` replaces wire values of named fields (``corrupt_invoice``) without touching the real ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["ZERO", "Customer", "Invoice", "PaymentMethod", "Record", "Row", "Transaction", "round2", "row_amounts",
           "settle"]

ZERO = Decimal("0.00")
_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)


def round2(value: Decimal) -> Decimal:
    """Round half up to cents."""
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass(slots=True, kw_only=True, eq=False)
class Record:
    """What every stored resource has: identity, timestamps, soft deletion and cache bookkeeping."""

    id: int
    created: int
    updated: int
    deleted_at: int | None = None
    rev: int = 0
    cache_rev: int = -1
    cache_body: str = ""
    overrides: dict[str, Any] | None = None

    def touch(self, now: int) -> None:
        """Mark a change made at epoch second `now`."""
        self.updated = max(self.updated, now)
        self.rev += 1


@dataclass(slots=True, kw_only=True, eq=False)
class Customer(Record):
    """A customer (the resource the seed does not show; fields decided in the package docstring)."""

    name: str
    email: str | None = None
    phone: str | None = None
    vat_number: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    external_id: str | None = None


@dataclass(slots=True, kw_only=True, eq=False)
class Row(Record):
    """An invoice row; `net_amount`/`vat_amount` are derived by `row_amounts`."""

    invoice_id: int
    product_name: str
    quantity: Decimal
    vat_rate: Decimal
    net_price: Decimal
    unit: str | None = None
    net_discount: Decimal | None = None
    classification_number: str | None = None
    parent_id: int | None = None
    children: list[int] = field(default_factory=list)
    net_amount: Decimal = ZERO
    vat_amount: Decimal = ZERO


def row_amounts(row: Row) -> None:
    """Derive a row's money: net = round_half_up(quantity x netPrice, 2) - netDiscountAmount; VAT per row.

    vat = round_half_up(net x vatRate / 100, 2). Invoice totals are plain sums of these (`settle`).
    """
    row.net_amount = round2(row.quantity * row.net_price) - (row.net_discount or ZERO)
    row.vat_amount = round2(row.net_amount * row.vat_rate / _HUNDRED)


@dataclass(slots=True, kw_only=True, eq=False)
class Transaction(Record):
    """A payment on an invoice; `amount` may be null (the seed allows it) and then counts as zero."""

    invoice_id: int
    date: int
    amount: Decimal | None = None


@dataclass(slots=True, kw_only=True, eq=False)
class Invoice(Record):
    """An invoice; `number` is None for drafts; totals follow its rows and live transactions (`settle`)."""

    customer_id: int
    status: str = "draft"
    number: str | None = None
    issued: date | None = None
    due: date | None = None
    currency: str = "EUR"
    reference: str | None = None
    row_ids: list[int] = field(default_factory=list)
    net: Decimal = ZERO
    vat: Decimal = ZERO
    gross: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def open(self) -> Decimal:
        """Gross minus paid (negative when over-paid)."""
        return self.gross - self.paid


def settle(invoice: Invoice, rows: list[Row], transactions: list[Transaction], today: date) -> None:
    """Recompute an invoice's totals from its rows and live transactions, and its derived status.

    Drafts and cancelled invoices keep their status. Otherwise: paid when gross > 0 and paid >= gross,
    partially_paid when something (but not all) is paid, else overdue when past due, else sent.
    """
    invoice.net = sum((r.net_amount for r in rows), ZERO)
    invoice.vat = sum((r.vat_amount for r in rows), ZERO)
    invoice.gross = invoice.net + invoice.vat
    invoice.paid = sum((t.amount for t in transactions if t.amount is not None and t.deleted_at is None), ZERO)
    if invoice.status in ("draft", "cancelled"):
        return
    if invoice.gross > 0 and invoice.paid >= invoice.gross:
        invoice.status = "paid"
    elif invoice.paid > 0:
        invoice.status = "partially_paid"
    elif invoice.due is not None and invoice.due < today:
        invoice.status = "overdue"
    else:
        invoice.status = "sent"


@dataclass(slots=True, kw_only=True, eq=False)
class PaymentMethod(Record):
    """A stored card or mandate of the account (Stripe-like); `key` is its string id."""

    key: str
    type: str
    cc_brand: str | None = None
    cc_last_digits: str | None = None
    cc_exp_month: int = 1
    cc_exp_year: int = 2030
    external_id: str | None = None
