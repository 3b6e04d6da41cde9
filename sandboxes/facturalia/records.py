"""The account's records (customers, products, invoices, remembered keys) and their JSON views."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["CUSTOMER_FIELDS", "Customer", "Invoice", "KeyEntry", "Product"]

CUSTOMER_FIELDS = ("name", "vat_number", "street", "postal_code", "city", "country", "email", "phone",
                   "external_customer_no")


@dataclass(slots=True)
class Customer:
    """A customer of the account; `origin` says how it came to be (seed, control, api)."""

    id: int
    name: str | None = None
    vat_number: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    email: str | None = None
    phone: str | None = None
    external_customer_no: str | None = None
    origin: str = "api"

    def wire(self) -> dict[str, Any]:
        """The customer as an invoice answer shows it."""
        return {"customer_id": self.id, **{name: getattr(self, name) for name in CUSTOMER_FIELDS}}


@dataclass(slots=True)
class Product:
    """An article of the account; only its `code` matters to the API."""

    code: str
    name: str = ""
    unit_price: Decimal | None = None
    vat_rate: int | None = None

    def view(self) -> dict[str, Any]:
        """JSON view for the control surface."""
        return {"code": self.code, "name": self.name, "unit_price": self.unit_price, "vat_rate": self.vat_rate}


@dataclass(slots=True)
class Invoice:
    """A created invoice: the request as received, the answer as sent (both kept as bytes) and its keys."""

    id: int
    number: str
    external_id: str | None
    customer_id: int
    date: dt.date
    due_date: dt.date
    paid_date: dt.date | None
    canon: Any  # canonical form of the request body, for replay comparison
    request: bytes
    response: bytes
    created_at: float
    token: str
    pdf_rows: list[str]
    idempotency_keys: list[str] = field(default_factory=list)
    replays: int = 0


@dataclass(slots=True)
class KeyEntry:
    """A remembered idempotency key (header or ``external_id``): which invoice, stored when."""

    invoice_id: int
    stored_at: float
