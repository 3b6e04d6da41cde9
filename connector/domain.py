"""Canonical shapes: what a client, an invoice (with lines) and a payment are, whatever the service.

These are plain records that the mapping produces from wire payloads and consumes to build them; the
store persists them. Amounts are integer minor units with an ISO 4217 currency; prices, quantities and
rates are `Decimal`; dates are `date`, instants are timezone-aware `datetime` (UTC in the store).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.vocabulary import (
    ENTITY_KINDS,
    KIND_ORDER,
    EntityKind,
    JobStatus,
    OutboxStatus,
    PushOperation,
    PushOutcome,
    RunStatus,
)

__all__ = [
    "ENTITY_KINDS",
    "KIND_ORDER",
    "CanonicalClient",
    "CanonicalInvoice",
    "CanonicalLine",
    "CanonicalPayment",
    "CanonicalRecord",
    "EntityKind",
    "InvoiceStatus",
    "JobStatus",
    "OutboxStatus",
    "PushOperation",
    "PushOutcome",
    "RunStatus",
]


class InvoiceStatus(enum.StrEnum):
    """Canonical invoice life cycle; each mapping translates the service's own statuses into these."""

    DRAFT = "draft"
    SENT = "sent"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERPAID = "overpaid"
    OVERDUE = "overdue"
    UNCOLLECTIBLE = "uncollectible"
    CANCELLED = "cancelled"


@dataclass(slots=True)
class CanonicalClient:
    """A customer of the business, as the canonical store knows it."""

    remote_id: str
    name: str
    contact_name: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    vat_number: str | None = None
    external_id: str | None = None
    currency: str | None = None
    archived: bool = False
    remote_updated_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CanonicalLine:
    """One invoice line; `line_total_minor` excludes tax, `tax_minor` is the line's own tax if known."""

    position: int
    description: str
    quantity: Decimal = Decimal(0)
    unit_price: Decimal = Decimal(0)  # major units, up to 3+ decimals
    vat_rate: Decimal = Decimal(0)  # percent, e.g. Decimal("21")
    discount_percent: Decimal = Decimal(0)
    unit: str | None = None
    line_total_minor: int = 0
    tax_minor: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CanonicalPayment:
    """One payment event on an invoice; `remote_id` is stable per event at its service."""

    remote_id: str
    invoice_remote_id: str
    amount_minor: int
    currency: str
    paid_on: date
    paid_at: datetime | None = None
    method: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CanonicalInvoice:
    """An invoice with its lines; totals are checked against the lines (less `discount_minor`) by the sync engine."""

    remote_id: str
    number: str | None
    client_remote_id: str | None
    currency: str
    status: str
    issued_on: date | None = None
    due_on: date | None = None
    subtotal_minor: int = 0
    tax_minor: int = 0
    total_minor: int = 0
    # An invoice-level discount (FactuurSturen's `discounttype`/`discount`), excluding tax: subtotal_minor is the
    # sum of the lines' totals minus it. Zero for services whose discounts live on the lines.
    discount_minor: int = 0
    open_minor: int | None = None
    paid_on: date | None = None
    lines: list[CanonicalLine] = field(default_factory=list)
    remote_updated_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


CanonicalRecord = CanonicalClient | CanonicalInvoice | CanonicalPayment
