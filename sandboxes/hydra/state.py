"""The account's state: customers, invoices, rows, transactions and payment methods behind one lock; no HTTP.

Every change bumps the record's `rev` (its cached JSON is rebuilt) and the version of its resource
(cached listings are rebuilt). A row or transaction change re-settles its invoice and moves the
invoice's `updated` (decision 36). Deletion is Gedmo-style: `deleted_at` is set and the record drops
out of listings and lookups; deleting an invoice also soft-deletes its rows and transactions.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sandboxes._control import SandboxClock
from sandboxes.hydra.errors import NotFound
from sandboxes.hydra.listing import Query, select
from sandboxes.hydra.records import (
    Customer,
    Invoice,
    PaymentMethod,
    Record,
    Row,
    Transaction,
    row_amounts,
    settle,
)

__all__ = ["HydraState", "SeedData"]

_CACHE_SIZE = 64


@dataclass
class SeedData:
    """A whole account to load at once (what `seed.generate` builds)."""

    customers: list[Customer] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    payment_methods: list[PaymentMethod] = field(default_factory=list)


class HydraState:
    """One account of the app; every public method is thread-safe (callers reading pages hold `lock`)."""

    def __init__(self, clock: SandboxClock) -> None:
        """Args: clock: the sandbox clock (UTC) for timestamps, `today` and relative date filters."""
        self.clock = clock
        self.lock = threading.RLock()
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every record."""
        with self.lock:
            self.customers: dict[int, Customer] = {}
            self.invoices: dict[int, Invoice] = {}
            self.rows: dict[int, Row] = {}
            self.transactions: dict[int, Transaction] = {}
            self.payment_methods: dict[str, PaymentMethod] = {}
            self.tables: dict[str, dict[Any, Any]] = {
                "customers": self.customers, "invoices": self.invoices, "invoice-rows": self.rows,
                "invoice-transactions": self.transactions, "payment-methods": self.payment_methods}
            self.tx_by_invoice: dict[int, list[int]] = {}
            self._next: Counter[str] = Counter()
            self._month_seq: Counter[str] = Counter()
            self.versions: Counter[str] = Counter()
            self._cache: OrderedDict[tuple[Any, ...], tuple[int, list[Any]]] = OrderedDict()

    def load(self, data: SeedData) -> None:
        """Replace everything with `data` (ids as given; numbering continues after the highest)."""
        with self.lock:
            self.reset()
            for customer in data.customers:
                self.customers[customer.id] = customer
            for invoice in data.invoices:
                self.invoices[invoice.id] = invoice
                if invoice.number:
                    month = invoice.number[:7]
                    self._month_seq[month] = max(self._month_seq[month], int(invoice.number[8:]))
            for row in data.rows:
                self.rows[row.id] = row
            for tx in data.transactions:
                self.transactions[tx.id] = tx
                self.tx_by_invoice.setdefault(tx.invoice_id, []).append(tx.id)
            for method in data.payment_methods:
                self.payment_methods[method.key] = method
            for name, table in (("customers", self.customers), ("invoices", self.invoices),
                                ("invoice-rows", self.rows), ("invoice-transactions", self.transactions)):
                self._next[name] = max(table, default=0)
            self._next["payment-methods"] = len(self.payment_methods)

    def now(self) -> int:
        """The sandbox clock in epoch seconds (Doctrine datetime columns keep whole seconds)."""
        return int(self.clock.time())

    def today(self) -> date:
        """Today on the sandbox clock (UTC)."""
        return self.clock.today()

    def _changed(self, *resources: str) -> None:
        for name in resources:
            self.versions[name] += 1

    def _new_id(self, resource: str) -> int:
        self._next[resource] += 1
        return self._next[resource]

    # -- reading -----------------------------------------------------------------------------------

    def get(self, resource: str, key: object) -> Any:
        """A live record by id (``payment-methods``: by string id). Raises: NotFound (also soft-deleted)."""
        table = self.tables[resource]
        with self.lock:
            if resource == "payment-methods":
                record = table.get(str(key))
            else:
                text = str(key)
                record = table.get(int(text)) if text.isdigit() else None
            if record is None or record.deleted_at is not None:
                raise NotFound("Not Found")
            return record

    def live(self, resource: str) -> list[Any]:
        """Live records of a resource in id (creation) order, cached until the resource changes."""
        return self._cached((resource, "live"), resource, lambda: [
            r for r in self.tables[resource].values() if r.deleted_at is None])

    def listing(self, query: Query) -> list[Any]:
        """The records a collection query selects, in order (call with `lock` held)."""
        return self._cached(query.key, query.resource, lambda: select(self._candidates(query), query))

    def _cached(self, key: tuple[Any, ...], resource: str, build: Any) -> list[Any]:
        with self.lock:
            version = self.versions[resource]
            hit = self._cache.get(key)
            if hit is not None and hit[0] == version:
                self._cache.move_to_end(key)
                return hit[1]
            items: list[Any] = build()
            self._cache[key] = (version, items)
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
            return items

    def _candidates(self, query: Query) -> list[Any]:
        """Narrow a query with the relation indexes before the generic filters run."""
        resource, scope = query.resource, query.scope
        search = dict(query.search)
        if resource in ("invoice-rows", "invoice-transactions") and "invoice" in search:
            ids = sorted(i for i in search["invoice"] if isinstance(i, int))
            return sorted((r for r in self._children(resource, ids) if r.deleted_at is None), key=lambda r: r.id)
        if resource == "payment-methods" and scope == "deleted":
            return [m for m in self.payment_methods.values() if m.deleted_at is not None]
        items = self.live(resource)
        if scope == "draft":
            return [i for i in items if i.status == "draft"]
        if scope.startswith("name:"):
            prefix = scope[5:]
            return [i for i in items if i.number and i.number.startswith(prefix)]
        return items

    def _children(self, resource: str, invoice_ids: Iterable[int]) -> Iterable[Any]:
        for invoice_id in invoice_ids:
            invoice = self.invoices.get(invoice_id)
            if invoice is None:
                continue
            if resource == "invoice-rows":
                yield from (self.rows[r] for r in invoice.row_ids)
            else:
                yield from (self.transactions[t] for t in self.tx_by_invoice.get(invoice_id, ()))

    def rows_of(self, invoice: Invoice) -> list[Row]:
        """The invoice's rows in order."""
        return [self.rows[r] for r in invoice.row_ids]

    def transactions_of(self, invoice: Invoice, live_only: bool = True) -> list[Transaction]:
        """The invoice's transactions in id order (soft-deleted ones too unless `live_only`)."""
        found = (self.transactions[t] for t in self.tx_by_invoice.get(invoice.id, ()))
        return [t for t in found if not live_only or t.deleted_at is None]

    # -- customers ---------------------------------------------------------------------------------

    def create_customer(self, fields: dict[str, Any]) -> Customer:
        """A new customer from checked fields."""
        with self.lock:
            now = self.now()
            customer = Customer(id=self._new_id("customers"), created=now, updated=now, **fields)
            self.customers[customer.id] = customer
            self._changed("customers")
            return customer

    def update(self, record: Record, fields: dict[str, Any]) -> bool:
        """Apply checked field values; touch the record (and re-settle an invoice) only if one really changed.

        Returns:
            Whether anything changed.
        """
        with self.lock:
            changed = {k: v for k, v in fields.items() if getattr(record, k) != v}
            if not changed:
                return False
            moved_from = None
            if isinstance(record, Row | Transaction) and "invoice_id" in changed:
                moved_from = self.invoices[record.invoice_id]
                self._rehome(record, changed["invoice_id"])
            for name, value in changed.items():
                setattr(record, name, value)
            record.overrides = None  # saved again through the app: every stored value is clean
            record.touch(self.now())
            self._after_change(record)
            if moved_from is not None:
                self.resettle(moved_from)
            return True

    def delete(self, record: Record) -> None:
        """Soft-delete a record (an invoice takes its rows and transactions along)."""
        with self.lock:
            now = self.now()
            record.deleted_at = now
            record.touch(now)
            if isinstance(record, Invoice):
                for child in [*self.rows_of(record), *self.transactions_of(record)]:
                    child.deleted_at = now
                    child.touch(now)
                self._changed("invoice-rows", "invoice-transactions")
            self._after_change(record)

    def _after_change(self, record: Record) -> None:
        resource = _RESOURCE[type(record)]
        self._changed(resource)
        if isinstance(record, Row | Transaction):
            self.resettle(self.invoices[record.invoice_id])
        elif isinstance(record, Invoice) and record.deleted_at is None:
            self.resettle(record)  # a new due date may make it overdue (or not)

    # -- invoices ----------------------------------------------------------------------------------

    def create_invoice(self, fields: dict[str, Any]) -> Invoice:
        """A new draft invoice (send it with `send`)."""
        with self.lock:
            now = self.now()
            invoice = Invoice(id=self._new_id("invoices"), created=now, updated=now, **fields)
            self.invoices[invoice.id] = invoice
            self._changed("invoices")
            return invoice

    def send(self, invoice: Invoice) -> bool:
        """Send a draft: it gets a number (``YYYY-MM-NNNN`` by its date), a date and a due date.

        Returns:
            Whether anything changed (sending a sent invoice again changes nothing).
        """
        with self.lock:
            if invoice.status != "draft":
                return False
            today = self.today()
            invoice.issued = invoice.issued or today
            invoice.due = invoice.due or invoice.issued + timedelta(days=30)
            month = invoice.issued.strftime("%Y-%m")
            self._month_seq[month] += 1
            invoice.number = f"{month}-{self._month_seq[month]:04d}"
            invoice.status = "sent"
            self.resettle(invoice)
            return True

    def resettle(self, invoice: Invoice) -> None:
        """Recompute an invoice's money and status from its rows and transactions; it counts as changed."""
        with self.lock:
            for row in self.rows_of(invoice):
                row_amounts(row)
            settle(invoice, self.rows_of(invoice), self.transactions_of(invoice), self.today())
            invoice.touch(self.now())
            self._changed("invoices")

    # -- rows and transactions -------------------------------------------------------------------

    def create_row(self, invoice: Invoice, fields: dict[str, Any]) -> Row:
        """A new row at the end of `invoice`."""
        with self.lock:
            now = self.now()
            row = Row(id=self._new_id("invoice-rows"), created=now, updated=now, invoice_id=invoice.id, **fields)
            row_amounts(row)
            self.rows[row.id] = row
            invoice.row_ids.append(row.id)
            if row.parent_id is not None:
                self.rows[row.parent_id].children.append(row.id)
                self.rows[row.parent_id].rev += 1
            self._changed("invoice-rows")
            self.resettle(invoice)
            return row

    def _rehome(self, record: Row | Transaction, invoice_id: int) -> None:
        """Move a row or transaction to another invoice's lists (the caller re-settles both)."""
        if isinstance(record, Row):
            self.invoices[record.invoice_id].row_ids.remove(record.id)
            self.invoices[invoice_id].row_ids.append(record.id)
        else:
            self.tx_by_invoice[record.invoice_id].remove(record.id)
            self.tx_by_invoice.setdefault(invoice_id, []).append(record.id)

    def create_transaction(self, invoice: Invoice, fields: dict[str, Any]) -> Transaction:
        """A new payment on `invoice`."""
        with self.lock:
            now = self.now()
            tx = Transaction(id=self._new_id("invoice-transactions"), created=now, updated=now,
                             invoice_id=invoice.id, **fields)
            self.transactions[tx.id] = tx
            self.tx_by_invoice.setdefault(invoice.id, []).append(tx.id)
            self._changed("invoice-transactions")
            self.resettle(invoice)
            return tx

    # -- payment methods ---------------------------------------------------------------------------

    def create_payment_method(self, method_type: str) -> PaymentMethod:
        """A pending payment method from a Stripe setup intent."""
        with self.lock:
            now = self.now()
            number = self._new_id("payment-methods")
            method = PaymentMethod(id=number, key=f"pm_sandbox{number:06d}", created=now, updated=now,
                                   type=method_type, external_id=f"seti_sandbox{number:06d}")
            self.payment_methods[method.key] = method
            self._changed("payment-methods")
            return method

    # -- control helpers ---------------------------------------------------------------------------

    def corrupt(self, record: Record, name: str, value: Any) -> None:
        """Make the wire show `value` for property `name` of `record`; its invoice counts as changed."""
        with self.lock:
            record.overrides = {**(record.overrides or {}), name: value}
            record.touch(self.now())
            self._changed(_RESOURCE[type(record)])
            if isinstance(record, Row | Transaction):
                invoice = self.invoices[record.invoice_id]
                invoice.touch(self.now())
                self._changed("invoices")


_RESOURCE: dict[type, str] = {Customer: "customers", Invoice: "invoices", Row: "invoice-rows",
                              Transaction: "invoice-transactions", PaymentMethod: "payment-methods"}
