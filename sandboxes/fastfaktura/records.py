"""Records of one FastFaktura account and the money rule that ties lines to totals (decision 8, Decimal only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["CURRENCIES", "LOCALES", "STATUSES", "Business", "Client", "Event", "Invoice", "Line", "make_line",
           "round_half_up", "totals"]

CURRENCIES = ("EUR", "USD", "GBP", "NOK", "SEK", "DKK")
LOCALES = ("fr", "en", "nb", "sv")
STATUSES = ("draft", "sent", "opened", "paid", "overdue", "cancelled")
_ONE = Decimal(1)
_HUNDRED = Decimal(100)


def round_half_up(value: Decimal) -> int:
    """Round to a whole number of cents, halves away from zero."""
    return int(value.quantize(_ONE, rounding=ROUND_HALF_UP))


@dataclass(slots=True)
class Line:
    """An invoice line as posted, plus what the service derives from it (not on the wire)."""

    description: str
    quantity: Decimal
    unit_price_cents: int
    tax_rate: Decimal
    net_cents: int
    tax_cents: int


def make_line(description: str, quantity: Decimal, unit_price_cents: int, tax_rate: Decimal) -> Line:
    """A line with net = round_half_up(qty x price) and tax = round_half_up(qty x price x rate / 100)."""
    gross = quantity * unit_price_cents
    return Line(description, quantity, unit_price_cents, tax_rate, round_half_up(gross),
                round_half_up(gross * tax_rate / _HUNDRED))


def totals(lines: list[Line]) -> tuple[int, int, int]:
    """(subtotal, tax, total) in cents: sums over the lines; total = subtotal + tax."""
    subtotal = sum(line.net_cents for line in lines)
    tax = sum(line.tax_cents for line in lines)
    return subtotal, tax, subtotal + tax


@dataclass(slots=True)
class Event:
    """One entry of an invoice's timeline (decision 7); optional keys are left out of the JSON when None."""

    id: str
    type: str
    created_at: str
    channel: str | None = None
    amount_cents: int | None = None
    paid_at: str | None = None
    data: dict[str, Any] | None = None


@dataclass(slots=True, eq=False)
class Client:
    """A client of the account; `seq` is its creation order (lists show the newest first)."""

    id: str
    seq: int
    name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    country: str | None = None
    locale: str = "en"
    external_id: str | None = None
    tags: list[str] = field(default_factory=list)
    archived_at: str | None = None
    rev: int = 0
    cache_rev: int = -1
    cache_json: bytes = b""


@dataclass(slots=True, eq=False)
class Invoice:
    """An invoice with its lines and timeline; totals are derived from the lines when it is made."""

    id: str
    seq: int
    number: str
    client_id: str
    currency: str
    lines: list[Line]
    subtotal_cents: int
    tax_cents: int
    total_cents: int
    status: str
    due_date: str | None
    public_url: str
    notes: str | None = None
    events: list[Event] = field(default_factory=list)
    overrides: dict[str, Any] | None = None
    rev: int = 0
    cache_rev: int = -1
    entry_json: bytes = b""
    detail_json: bytes = b""


@dataclass(slots=True)
class Business:
    """The account's company profile (GET/PUT /business)."""

    id: str = "7c1e2d3f-5a4b-4c6d-8e9f-0a1b2c3d4e5f"
    name: str = "Nordlys Consulting AS"
    email: str | None = "post@nordlys.example"
    phone: str | None = "+4722334455"
    address: str | None = "Karl Johans gate 1, 0154 Oslo"
    country: str | None = "NO"
    currency: str = "NOK"
    locale: str = "nb"
    vat_number: str | None = "NO999888777MVA"
