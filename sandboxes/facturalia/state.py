"""The account: customers, products, invoices and remembered idempotency keys behind one lock; no HTTP.

Idempotency (FL3, FL6; decision 14): a create may carry up to three keys - the ``Idempotency-Key``
header, the body's ``external_id`` and ``invoice.number``. When any of them is known, the stored
invoice's request is compared with this one in canonical form (key order and number spelling
ignored): equal -> the original answer is returned again (a replay); different, or keys that point to
different invoices -> 409 ``idempotency_conflict``. The comparison runs before validation, and only
successful creates are remembered. Header keys and external ids are kept for `retention_seconds`
(48 h by default) on the sandbox clock, counted from their first use; invoice numbers are unique in
the account for ever, so a number always finds its invoice.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sandboxes._control import SandboxClock
from sandboxes.facturalia.errors import ApiError, validation_error
from sandboxes.facturalia.inputs import CreateRequest, CustomerInput, parse_request
from sandboxes.facturalia.invoicing import Amounts, compute_amounts, due_date, next_number
from sandboxes.facturalia.records import CUSTOMER_FIELDS, Customer, Invoice, KeyEntry, Product
from sandboxes.facturalia.wire import canonical, encode, money

__all__ = ["DEFAULT_PRODUCTS", "DEFAULT_RETENTION_SECONDS", "FacturaliaState"]

DEFAULT_RETENTION_SECONDS = 48 * 3600
DEFAULT_PRODUCTS = (
    Product("CONS-001", "Consultancy", Decimal("120.00"), 21),  # the quickstart example's product (seed 002)
    Product("CONSULT", "Consultancy (per uur)", Decimal("95.00"), 21),
    Product("HOSTING", "Webhosting (per maand)", Decimal("25.00"), 21),
    Product("LICENSE", "Softwarelicentie (per jaar)", Decimal("250.00"), 21),
    Product("SUPPORT", "Support (per uur)", Decimal("75.00"), 21),
)
_CONFLICTS = {
    "Idempotency-Key": "Deze Idempotency-Key werd al gebruikt met een andere payload.",
    "external_id": "Deze external_id werd al gebruikt met een andere payload.",
    "invoice.number": "Dit factuurnummer bestaat al met een andere payload.",
}
_VAT_NOISE = re.compile(r"[\s.\-]")


def _vat_key(value: str) -> str:
    return _VAT_NOISE.sub("", value).upper()


def _text_key(value: Any) -> str | None:
    return value.strip() if type(value) is str and value.strip() else None


class FacturaliaState:
    """One Facturalia account; every public method is thread-safe."""

    def __init__(self, clock: SandboxClock, products: Iterable[Product] = DEFAULT_PRODUCTS,
                 retention_seconds: float = DEFAULT_RETENTION_SECONDS) -> None:
        """Args: clock: the sandbox clock (Europe/Brussels). products: the product list a reset restores.
        retention_seconds: how long header keys and external ids are remembered."""
        self.clock = clock
        self.lock = threading.RLock()
        self.initial_products = [Product(p.code, p.name, p.unit_price, p.vat_rate) for p in products]
        self.retention_seconds = float(retention_seconds)
        self.origin = "https://127.0.0.1"  # set by the sandbox once its port is known (PDF links)
        self.reset()

    def reset(self) -> None:
        """Forget every customer, invoice and key; the product list goes back to the initial one."""
        with self.lock:
            self.customers: dict[int, Customer] = {}
            self.products: dict[str, Product] = {
                p.code: Product(p.code, p.name, p.unit_price, p.vat_rate) for p in self.initial_products}
            self.invoices: dict[int, Invoice] = {}
            self.by_number: dict[str, int] = {}
            self.by_token: dict[str, int] = {}
            self.keys: dict[tuple[str, str], KeyEntry] = {}
            self._by_vat: dict[str, int] = {}
            self._by_name: dict[str, int] = {}
            self._sequences: dict[int, int] = {}
            self._next_customer = self._next_invoice = 1

    # -- customers and products ---------------------------------------------------------------------

    def add_customer(self, fields: dict[str, Any], origin: str = "control") -> Customer:
        """Create a customer from its fields (``name``, ``vat_number``, ...); unknown keys are refused.

        Raises:
            ValueError: an unknown field, or neither name nor VAT number.
        """
        unknown = set(fields) - set(CUSTOMER_FIELDS)
        if unknown:
            raise ValueError(f"unknown customer fields {sorted(unknown)}; known: {list(CUSTOMER_FIELDS)}")
        if not fields.get("name") and not fields.get("vat_number"):
            raise ValueError("a customer needs a name or a vat_number")
        with self.lock:
            customer = Customer(self._next_customer, origin=origin,
                                **{k: None if v is None else str(v) for k, v in fields.items()})
            self._next_customer += 1
            self.customers[customer.id] = customer
            if customer.vat_number:
                self._by_vat.setdefault(_vat_key(customer.vat_number), customer.id)
            if customer.name:
                self._by_name.setdefault(customer.name.casefold(), customer.id)
            return customer

    def add_product(self, product: Product) -> Product:
        """Add (or replace) a product by its code."""
        with self.lock:
            self.products[product.code] = product
            return product

    def _resolve_customer(self, given: CustomerInput) -> Customer:
        """The existing customer the request names (its stored data wins), or a new one (FL7)."""
        if given.customer_id is not None:
            return self.customers[given.customer_id]
        found = self._by_vat.get(_vat_key(given.vat_number)) if given.vat_number else None
        if found is None and given.vat_number and not given.name:
            raise validation_error({"customer.name": "Verplicht om een nieuwe klant aan te maken."})
        if found is None and not given.vat_number and given.name:
            found = self._by_name.get(given.name.casefold())
        if found is not None:
            return self.customers[found]
        return self.add_customer({k: getattr(given, k) for k in CUSTOMER_FIELDS}, origin="api")

    # -- invoices -----------------------------------------------------------------------------------

    def create_invoice(self, body: dict[str, Any], raw: bytes, idempotency_key: str | None) -> tuple[Invoice, bool]:
        """Create an invoice from a decoded request body, or find the one these keys already made.

        Args:
            body: the decoded JSON object.
            raw: the body as received (kept for the control surface).
            idempotency_key: the ``Idempotency-Key`` header, if any.

        Returns:
            (invoice, replayed).

        Raises:
            ApiError: 409 ``idempotency_conflict`` or 422 ``validation_error``.
        """
        with self.lock:
            canon = canonical(body)
            now = self.clock.time()
            keys = self._keys_of(body, idempotency_key)
            hits = self._lookup(keys, now)
            if hits:
                ids = {invoice_id for _, invoice_id in hits}
                if len(ids) > 1:
                    raise ApiError(409, "idempotency_conflict",
                                   "De opgegeven sleutels verwijzen naar verschillende facturen.")
                invoice = self.invoices[ids.pop()]
                if invoice.canon != canon:
                    raise ApiError(409, "idempotency_conflict", _CONFLICTS[hits[0][0]])
                invoice.replays += 1
                self._remember(keys, invoice, now)
                return invoice, True
            request = parse_request(body, self.products, self.customers)
            invoice = self._build(request, canon, raw, now)
            self._remember(keys, invoice, now)
            return invoice, False

    @staticmethod
    def _keys_of(body: dict[str, Any], idempotency_key: str | None) -> list[tuple[str, str]]:
        keys = []
        if idempotency_key:
            keys.append(("Idempotency-Key", idempotency_key))
        if external_id := _text_key(body.get("external_id")):
            keys.append(("external_id", external_id))
        invoice = body.get("invoice")
        if type(invoice) is dict and (number := _text_key(invoice.get("number"))):
            keys.append(("invoice.number", number))
        return keys

    def _lookup(self, keys: list[tuple[str, str]], now: float) -> list[tuple[str, int]]:
        hits = []
        for kind, value in keys:
            if kind == "invoice.number":
                if value in self.by_number:
                    hits.append((kind, self.by_number[value]))
                continue
            entry = self.keys.get((kind, value))
            if entry is not None and now - entry.stored_at >= self.retention_seconds:
                del self.keys[(kind, value)]  # expired: the key is new again
                entry = None
            if entry is not None:
                hits.append((kind, entry.invoice_id))
        return hits

    def _remember(self, keys: list[tuple[str, str]], invoice: Invoice, now: float) -> None:
        for kind, value in keys:
            if kind == "invoice.number":
                continue
            if (kind, value) not in self.keys:
                self.keys[(kind, value)] = KeyEntry(invoice.id, now)
                if kind == "Idempotency-Key":
                    invoice.idempotency_keys.append(value)

    def _build(self, request: CreateRequest, canon: Any, raw: bytes, now: float) -> Invoice:
        head = request.invoice
        amounts = compute_amounts(head, request.lines)
        customer = self._resolve_customer(request.customer)
        number = head.number
        if number is None:
            number, self._sequences[head.date.year] = next_number(
                head.date.year, self._sequences.get(head.date.year, 0), self.by_number)
        invoice_id, self._next_invoice = self._next_invoice, self._next_invoice + 1
        due = due_date(head.date, head.due_days, head.due_days_after)
        paid = self.clock.today() if head.is_paid else None
        token = uuid.uuid4().hex
        body = _answer(invoice_id, number, request, customer, amounts, due, paid,
                       f"{self.origin}/facturen/{token}.pdf")
        invoice = Invoice(invoice_id, number, request.external_id, customer.id, head.date, due, paid, canon, raw,
                          encode(body), now, token, _pdf_rows(number, request, customer, amounts, due))
        self.invoices[invoice_id] = invoice
        self.by_number[number] = invoice_id
        self.by_token[token] = invoice_id
        return invoice

    # -- views --------------------------------------------------------------------------------------

    def invoice_view(self, invoice: Invoice) -> bytes:
        """One invoice for the control surface: ids, keys, the request as received and the answer as sent."""
        meta = encode({
            "id": invoice.id, "number": invoice.number, "external_id": invoice.external_id,
            "idempotency_keys": list(invoice.idempotency_keys), "customer_id": invoice.customer_id,
            "created_at": datetime.fromtimestamp(invoice.created_at, self.clock.zone).isoformat(),
            "replays": invoice.replays,
        })
        return meta[:-1] + b',"request":' + invoice.request + b',"response":' + invoice.response + b"}"

    def counts(self) -> dict[str, int]:
        """How many records of each kind (keys: live header keys and external ids)."""
        with self.lock:
            now = self.clock.time()
            live = sum(1 for e in self.keys.values() if now - e.stored_at < self.retention_seconds)
            return {"invoices": len(self.invoices), "customers": len(self.customers),
                    "products": len(self.products), "keys": live,
                    "replays": sum(i.replays for i in self.invoices.values())}


def _answer(invoice_id: int, number: str, request: CreateRequest, customer: Customer, amounts: Amounts,
            due: date, paid: date | None, pdf: str) -> dict[str, Any]:
    """The 201 body (decision 13; field names beyond it are the sandbox's own)."""
    head = request.invoice
    totals: dict[str, Any] = {"excl": money(amounts.excl), "vat": money(amounts.vat), "incl": money(amounts.incl)}
    if amounts.discount is not None:
        totals["discount"] = money(amounts.discount)
    lines = [{"product_code": line.product_code, "description": line.description, "quantity": line.quantity,
              "unit_price": line.unit_price, "vat_rate": line.vat_rate, "total_excl": money(excl), "vat": money(vat)}
             for line, excl, vat in zip(request.lines, amounts.line_excl, amounts.line_vat, strict=True)]
    return {
        "id": invoice_id, "number": number, "external_id": request.external_id, "date": head.date.isoformat(),
        "due_date": due.isoformat(), "currency": "EUR", "language": head.language, "reference": head.reference,
        "vat_exemption_code": head.vat_exemption_code, "is_paid": 1 if paid else 0,
        "paid_date": paid.isoformat() if paid else None, "customer": customer.wire(), "lines": lines,
        "totals": totals, "links": {"pdf": pdf},
    }


def _pdf_rows(number: str, request: CreateRequest, customer: Customer, amounts: Amounts, due: date) -> list[str]:
    rows = [f"Klant: {customer.name or customer.vat_number or customer.id}",
            f"Factuurdatum: {request.invoice.date.isoformat()}   Vervaldatum: {due.isoformat()}", ""]
    rows += [f"{line.quantity} x {line.product_code} {line.description or ''} a {line.unit_price} EUR "
             f"({line.vat_rate}% btw): {money(excl)} EUR"
             for line, excl in zip(request.lines, amounts.line_excl, strict=True)]
    rows += ["", f"Totaal excl. btw: {money(amounts.excl)} EUR", f"Btw: {money(amounts.vat)} EUR",
             f"Totaal incl. btw: {money(amounts.incl)} EUR"]
    return rows
