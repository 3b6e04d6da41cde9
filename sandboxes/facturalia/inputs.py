"""Validate a ``POST /invoices`` body into typed inputs, collecting every field error by dot path.

Rules (FL6/FL7): required fields, dates ``YYYY-MM-DD``, ``due_days`` >= 0, ``due_days_after`` nf|em,
``language`` nl|fr|en, ``discount_amount`` XOR ``discount_percent``, a customer named by at least one of
``customer_id``/``vat_number``/``name``, ``vat_rate`` in {0, 6, 12, 21}, ``quantity`` > 0, ``unit_price``
>= 0, an existing ``product_code`` and ``customer_id``, ``vat_exemption_code`` 1-14 without 5 (0 or
null: none). Sandbox decisions: ``null`` and ``""`` count as absent; numbers must be JSON numbers and
texts JSON strings (no coercion); integer fields take JSON integers only; unknown keys are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sandboxes.facturalia.errors import validation_error

__all__ = ["VAT_RATES", "CreateRequest", "CustomerInput", "InvoiceInput", "LineInput", "parse_request"]

VAT_RATES = (0, 6, 12, 21)
LANGUAGES = ("nl", "fr", "en")
DUE_AFTER = ("nf", "em")
EXEMPTION_CODES = tuple(c for c in range(1, 15) if c != 5)

REQUIRED = "Dit veld is verplicht."
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


@dataclass(frozen=True, slots=True)
class LineInput:
    """One invoice line as sent; `quantity` and `unit_price` keep the digits the client wrote."""

    product_code: str
    description: str | None
    quantity: Decimal
    unit_price: Decimal
    vat_rate: int


@dataclass(frozen=True, slots=True)
class CustomerInput:
    """The customer object: a reference to an existing customer, or the data of a new one."""

    customer_id: int | None
    name: str | None
    vat_number: str | None
    street: str | None
    postal_code: str | None
    city: str | None
    country: str | None
    email: str | None
    phone: str | None
    external_customer_no: str | None


@dataclass(frozen=True, slots=True)
class InvoiceInput:
    """The invoice object."""

    number: str | None
    date: date
    due_days: int | None
    due_days_after: str
    language: str
    note: str | None
    reference: str | None
    delivery_address: tuple[str, ...]
    is_paid: bool
    vat_exemption_code: int | None
    layout: int | None
    autosend: bool
    email_tpl: int | None
    discount_amount: Decimal | None
    discount_percent: Decimal | None


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """A valid create request."""

    external_id: str | None
    invoice: InvoiceInput
    customer: CustomerInput
    lines: tuple[LineInput, ...]


class _Object:
    """Reads typed fields of one JSON object, recording the first error of each dot path."""

    def __init__(self, value: dict[str, Any], prefix: str, errors: dict[str, str]) -> None:
        self.value, self.prefix, self.errors = value, prefix, errors

    def fail(self, key: str, message: str) -> None:
        self.errors.setdefault(self.prefix + key, message)

    def raw(self, key: str, required: bool = False) -> Any:
        value = self.value.get(key)
        if value is None or (type(value) is str and not value.strip()):
            if required:
                self.fail(key, REQUIRED)
            return None
        return value

    def text(self, key: str, required: bool = False) -> str | None:
        value = self.raw(key, required)
        if value is None:
            return None
        if type(value) is not str:
            self.fail(key, "Moet tekst zijn.")
            return None
        return value.strip()

    def integer(self, key: str, minimum: int | None = None) -> int | None:
        value = self.raw(key)
        if value is None:
            return None
        if type(value) is not int:
            self.fail(key, "Moet een geheel getal zijn.")
            return None
        if minimum is not None and value < minimum:
            self.fail(key, f"Moet ≥ {minimum} zijn.")
            return None
        return value

    def number(self, key: str, required: bool = False) -> Decimal | None:
        value = self.raw(key, required)
        if value is None:
            return None
        if type(value) not in (int, Decimal):
            self.fail(key, "Moet een getal zijn.")
            return None
        return Decimal(value)

    def flag(self, key: str) -> bool:
        value = self.raw(key)
        if value is None:
            return False
        if type(value) is bool:
            return value
        if type(value) is int and value in (0, 1):
            return value == 1
        self.fail(key, "Moet 0 of 1 zijn.")
        return False

    def choice(self, key: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.text(key)
        if value is None:
            return default
        if value not in allowed:
            self.fail(key, f"Ongeldige waarde; toegestaan: {', '.join(allowed)}.")
            return default
        return value

    def day(self, key: str, required: bool = False) -> date | None:
        value = self.text(key)
        if value is None:
            if required:
                self.fail(key, "Verplicht (JJJJ-MM-DD).")  # the service's own example (FL5)
            return None
        if _DATE.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(key, "Ongeldige datum; gebruik JJJJ-MM-DD.")
        return None

    def child(self, key: str, errors: dict[str, str]) -> _Object | None:
        value = self.value.get(key)
        if value is None:
            self.fail(key, REQUIRED)
            return None
        if type(value) is not dict:
            self.fail(key, "Moet een object zijn.")
            return None
        return _Object(value, f"{self.prefix}{key}.", errors)


_EPOCH = date(1970, 1, 1)


def _invoice(obj: _Object | None) -> InvoiceInput | None:
    if obj is None:
        return None
    number = obj.text("number")
    day = obj.day("date", required=True)
    due_days = obj.integer("due_days", minimum=0)
    after = obj.choice("due_days_after", DUE_AFTER, "nf")
    language = obj.choice("language", LANGUAGES, "nl")
    amount, percent = obj.number("discount_amount"), obj.number("discount_percent")
    if amount is not None and percent is not None:
        obj.fail("discount_percent", "Geef discount_amount of discount_percent, niet allebei.")
    if amount is not None and amount < 0:
        obj.fail("discount_amount", "Moet ≥ 0 zijn.")
    if percent is not None and not 0 <= percent <= 100:
        obj.fail("discount_percent", "Moet tussen 0 en 100 liggen.")
    exemption = obj.integer("vat_exemption_code", minimum=0)
    if exemption is not None and exemption != 0 and exemption not in EXEMPTION_CODES:
        obj.fail("vat_exemption_code", "Ongeldige vrijstellingscode; gebruik 1 tot 14 (behalve 5).")
    lines = tuple(t for t in (obj.text(f"delivery_address_line_{n}") for n in (1, 2, 3)) if t)
    invoice = InvoiceInput(
        number=number, date=day or _EPOCH, due_days=due_days, due_days_after=after, language=language,
        note=obj.text("note"), reference=obj.text("reference"), delivery_address=lines,
        is_paid=obj.flag("is_paid"), vat_exemption_code=exemption or None,
        layout=obj.integer("layout", minimum=0), autosend=obj.flag("autosend"),
        email_tpl=obj.integer("email_tpl", minimum=0), discount_amount=amount, discount_percent=percent,
    )
    return invoice


def _customer(obj: _Object | None, customers: Collection[int]) -> CustomerInput | None:
    if obj is None:
        return None
    customer_id = obj.integer("customer_id", minimum=1)
    if customer_id is not None and customer_id not in customers:
        obj.fail("customer_id", "Klant niet gevonden.")
    name, vat_number = obj.text("name"), obj.text("vat_number")
    if customer_id is None and not name and not vat_number and f"{obj.prefix}customer_id" not in obj.errors:
        obj.errors.setdefault(obj.prefix.rstrip("."), "Geef customer_id, vat_number of name op.")
    country = obj.text("country")
    if country is not None and not _COUNTRY.match(country):
        obj.fail("country", "Gebruik een ISO 3166-1 alpha-2 landcode (bv. BE).")
    email = obj.text("email")
    if email is not None and not _EMAIL.match(email):
        obj.fail("email", "Ongeldig e-mailadres.")
    return CustomerInput(
        customer_id=customer_id, name=name, vat_number=vat_number, street=obj.text("street"),
        postal_code=obj.text("postal_code"), city=obj.text("city"), country=country.upper() if country else None,
        email=email, phone=obj.text("phone"), external_customer_no=obj.text("external_customer_no"),
    )


def _line(obj: _Object, products: Collection[str]) -> LineInput:
    code = obj.text("product_code", required=True)
    if code is not None and code not in products:
        obj.fail("product_code", f"Product {code} bestaat niet.")
    quantity = obj.number("quantity", required=True)
    if quantity is not None and quantity <= 0:
        obj.fail("quantity", "Moet groter dan 0 zijn.")
    price = obj.number("unit_price", required=True)
    if price is not None and price < 0:
        obj.fail("unit_price", "Moet ≥ 0 zijn.")
    rate = obj.number("vat_rate", required=True)
    if rate is not None and rate not in VAT_RATES:
        obj.fail("vat_rate", "Ongeldig btw-tarief; toegestaan: 0, 6, 12, 21.")
    return LineInput(code or "", obj.text("description"), quantity or Decimal(0), price or Decimal(0),
                     int(rate) if rate is not None and rate in VAT_RATES else 0)


def _lines(body: dict[str, Any], errors: dict[str, str], products: Collection[str]) -> tuple[LineInput, ...]:
    value = body.get("lines")
    if value is None:
        errors["lines"] = REQUIRED
        return ()
    if type(value) is not list:
        errors["lines"] = "Moet een lijst zijn."
        return ()
    if not value:
        errors["lines"] = "Minstens één factuurlijn is verplicht."
        return ()
    lines = []
    for index, item in enumerate(value):
        if type(item) is not dict:
            errors[f"lines.{index}"] = "Moet een object zijn."
            continue
        lines.append(_line(_Object(item, f"lines.{index}.", errors), products))
    return tuple(lines)


def parse_request(body: dict[str, Any], products: Collection[str], customers: Collection[int]) -> CreateRequest:
    """Check a decoded body against the service's rules.

    Args:
        body: the decoded JSON object.
        products: the account's product codes.
        customers: the account's customer ids.

    Raises:
        ApiError: 422 ``validation_error`` with every field error by dot path.
    """
    errors: dict[str, str] = {}
    top = _Object(body, "", errors)
    external_id = top.text("external_id")
    invoice = _invoice(top.child("invoice", errors))
    customer = _customer(top.child("customer", errors), customers)
    lines = _lines(body, errors, products)
    if errors or invoice is None or customer is None:
        raise validation_error(errors)
    return CreateRequest(external_id, invoice, customer, lines)
