"""The account's state: clients, products, invoices, drafts and payments behind one lock; no HTTP in here.

Every mutation bumps the touched record's `rev` (its cached JSON is then rebuilt) and the state
`version` (cached filtered listings are then rebuilt). Callers that read several records at once
(a page) hold `lock` while they read.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandboxes._control import SandboxClock
from sandboxes.factuursturen.commands import NewInvoice, Payment
from sandboxes.factuursturen.errors import BadRequest, Conflict, Forbidden, NotFound
from sandboxes.factuursturen.invoicing import add_payment, build_draft, build_invoice, number_for
from sandboxes.factuursturen.queries import FILTERS, matching
from sandboxes.factuursturen.records import ZERO, Client, Draft, HistoryItem, Invoice, Product

__all__ = ["FactuurSturenState", "SeedData"]

_MILLI = Decimal("0.001")


@dataclass
class SeedData:
    """A whole account to load at once (what `seed.generate` builds)."""

    clients: list[Client] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)


class FactuurSturenState:
    """One FactuurSturen account; every public method is thread-safe."""

    def __init__(self, clock: SandboxClock) -> None:
        """Args: clock: the sandbox clock (Europe/Amsterdam) for `sent`, history times and timestamps."""
        self.clock = clock
        self.lock = threading.RLock()
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every record."""
        with self.lock:
            self.clients: dict[int, Client] = {}
            self.client_order: list[int] = []
            self.products: dict[int, Product] = {}
            self.invoices: dict[int, Invoice] = {}
            self.order: list[Invoice] = []
            self._seqs: list[int] = []
            self._sent: list[str] = []
            self._sent_sorted = True
            self._numbers: dict[str, int] = {}
            self.drafts: dict[str, dict[int, Draft]] = {"saved": {}, "repeated": {}}
            self.deleted_invoices: list[int] = []
            self.deleted_clients: list[int] = []
            self._docs: Counter[int] = Counter()
            self._year_seq: dict[int, int] = {}
            self._next = {"client": 1, "product": 1, "seq": 1, "saved": 1, "repeated": 1}
            self._listings: dict[tuple[Any, ...], tuple[int, list[Invoice]]] = {}
            self.version = 0

    def load(self, data: SeedData) -> None:
        """Replace everything with `data` (invoices in creation order)."""
        with self.lock:
            self.reset()
            for client in data.clients:
                self.clients[client.clientnr] = client
            self.client_order = sorted(self.clients)
            self._next["client"] = max(self.clients, default=0) + 1
            for product in data.products:
                self.products[product.id] = product
            self._next["product"] = max(self.products, default=0) + 1
            for invoice in data.invoices:
                self._insert(invoice)
            for draft in data.drafts:
                self.drafts[draft.kind][draft.id] = draft
                self._docs[draft.clientnr] += 1
                self._next[draft.kind] = max(self._next[draft.kind], draft.id + 1)

    def _touch(self, *records: Client | Invoice | Product | Draft) -> None:
        for record in records:
            record.rev += 1
        self.version += 1

    def _now(self) -> tuple[str, str, str]:
        now = self.clock.now()
        return now.date().isoformat(), now.strftime("%H:%M"), now.strftime("%Y-%m-%d %H:%M:%S")

    # -- clients -----------------------------------------------------------------------------------

    def client_page(self, start: int, count: int | None) -> list[Client]:
        """Clients by ascending clientnr, from offset `start` (count None: all)."""
        with self.lock:
            numbers = self.client_order[start:] if count is None else self.client_order[start:start + count]
            return [self.clients[n] for n in numbers]

    def get_client(self, clientnr: object) -> Client:
        """Raises: NotFound."""
        text = str(clientnr).strip()
        with self.lock:
            client = self.clients.get(int(text)) if text.isdigit() else None
        if client is None:
            raise NotFound("Client not found")
        return client

    def create_client(self, fields: dict[str, Any]) -> Client:
        """A new client with the next free clientnr."""
        with self.lock:
            client = Client(clientnr=self._next["client"], **fields)
            client.timestamp = self._now()[2]
            self._next["client"] += 1
            self.clients[client.clientnr] = client
            self.client_order.append(client.clientnr)
            self._touch(client)
            return client

    def update_client(self, clientnr: object, fields: dict[str, Any]) -> Client:
        """Apply a partial update; `timestamp` moves when a value really changes. Raises: NotFound."""
        with self.lock:
            client = self.get_client(clientnr)
            changed = {name: value for name, value in fields.items() if getattr(client, name) != value}
            if changed:
                for name, value in changed.items():
                    setattr(client, name, value)
                client.timestamp = self._now()[2]
                self._touch(client)
            return client

    def delete_client(self, clientnr: object) -> Client:
        """Raises: NotFound; Forbidden when invoices or drafts still refer to the client."""
        with self.lock:
            client = self.get_client(clientnr)
            if self._docs[client.clientnr]:
                raise Forbidden("Client has documents (invoices) and cannot be deleted")
            del self.clients[client.clientnr]
            self.client_order.remove(client.clientnr)
            self.deleted_clients.append(client.clientnr)
            self._touch(client)
            return client

    # -- products ----------------------------------------------------------------------------------

    def product_page(self, start: int, count: int | None) -> list[Product]:
        """Products by ascending id."""
        with self.lock:
            ids = sorted(self.products)
            return [self.products[i] for i in (ids[start:] if count is None else ids[start:start + count])]

    def get_product(self, product_id: object) -> Product:
        """Raises: NotFound."""
        text = str(product_id).strip()
        with self.lock:
            product = self.products.get(int(text)) if text.isdigit() else None
        if product is None:
            raise NotFound("Product not found")
        return product

    def save_product(self, product_id: object | None, fields: dict[str, Any]) -> Product:
        """Create (id None) or update a product; `priceintax` follows price and taxes unless given."""
        with self.lock:
            if product_id is None:
                product = Product(self._next["product"], "", "", ZERO, 21, ZERO)
                self._next["product"] += 1
                self.products[product.id] = product
            else:
                product = self.get_product(product_id)
            explicit = fields.pop("priceintax", None)
            for name, value in fields.items():
                setattr(product, name, value)
            if explicit is not None:
                product.priceintax = explicit
            elif product_id is None or "price" in fields or "taxes" in fields:
                product.priceintax = (product.price * (100 + max(product.taxes, 0)) / 100).quantize(
                    _MILLI, ROUND_HALF_UP).normalize()
            self._touch(product)
            return product

    def delete_product(self, product_id: object) -> Product:
        """Raises: NotFound."""
        with self.lock:
            product = self.get_product(product_id)
            del self.products[product.id]
            self._touch(product)
            return product

    # -- invoices ----------------------------------------------------------------------------------

    def _insert(self, invoice: Invoice) -> None:
        invoice.seq = self._next["seq"]
        self._next["seq"] += 1
        if self._sent and invoice.sent < self._sent[-1]:
            self._sent_sorted = False
        self.order.append(invoice)
        self._seqs.append(invoice.seq)
        self._sent.append(invoice.sent)
        self.invoices[invoice.id] = invoice
        self._numbers[invoice.invoicenr.upper()] = invoice.id
        year, seq = int(str(invoice.id)[:4]), int(str(invoice.id)[4:])
        self._year_seq[year] = max(self._year_seq.get(year, 0), seq)
        self._docs[invoice.clientnr] += 1

    def invoice_listing(self, flt: str | None = None, since: str | None = None,
                        until: str | None = None) -> list[Invoice]:
        """Sent invoices in creation (= id) order, filtered; cached until the next change.

        Raises:
            BadRequest: an unknown filter.
        """
        if flt is not None and flt not in FILTERS:
            raise BadRequest(f"Invalid filter: use one of {', '.join(FILTERS)}")
        today = self.clock.today().isoformat() if flt == "overdue" else ""
        key = (flt, since, until, today)
        with self.lock:
            if flt is None and since is None and until is None:
                return self.order
            hit = self._listings.get(key)
            if hit is not None and hit[0] == self.version:
                return hit[1]
            if len(self._listings) > 64:
                self._listings.clear()
            items = self._window(since, until)
            if flt is not None and flt != "sent":
                test = FILTERS[flt]
                items = [i for i in items if test(i, today)]
            self._listings[key] = (self.version, items)
            return items

    def _window(self, since: str | None, until: str | None) -> list[Invoice]:
        if since is None and until is None:
            return self.order
        low, high = since or "", until or "9999-99-99"
        if self._sent_sorted:
            return self.order[bisect_left(self._sent, low):bisect_right(self._sent, high)]
        return [i for i in self.order if low <= i.sent <= high]

    def get_invoice(self, ref: object) -> Invoice:
        """By numeric id or full invoice number (case-insensitive). Raises: NotFound."""
        text = str(ref).strip()
        with self.lock:
            invoice_id = int(text) if text.isdigit() else self._numbers.get(text.upper())
            invoice = self.invoices.get(invoice_id) if invoice_id is not None else None
        if invoice is None:
            raise NotFound("Invoice not found")
        return invoice

    def create_invoice(self, cmd: NewInvoice) -> Invoice | Draft:
        """Send (a row in /invoices), save (a draft) or plan (a repeating invoice).

        Raises:
            BadRequest: unknown client, e-mail sending without an address, a duplicate number or name.
        """
        with self.lock:
            try:
                client = self.get_client(cmd.clientnr)
            except NotFound:
                raise BadRequest(f"Client {cmd.clientnr} not found") from None
            if cmd.action != "send":
                return self._save_draft(cmd, client)
            if cmd.sendmethod == "email" and not client.email:
                raise BadRequest("Client has no e-mail address; cannot send the invoice by e-mail")
            today, time, stamp = self._now()
            sent = cmd.sent or today
            year = int(sent[:4])
            seq = cmd.invoicenr if cmd.invoicenr is not None else self._year_seq.get(year, 0) + 1
            number = number_for(year, seq)
            if number[0] in self.invoices:
                raise Conflict(f"Invoice number {number[1]} already exists")
            invoice = build_invoice(
                number=number, seq=0, client=client, lines=cmd.lines, sent=sent, time=time,
                sendmethod=cmd.sendmethod, paymentperiod=cmd.paymentperiod, profile=cmd.profile,
                discounttype=cmd.discounttype, discount=cmd.discount, paymentcondition=cmd.paymentcondition,
                reference=cmd.reference, invoicenote=cmd.invoicenote)
            if cmd.alreadypaid is not None:
                add_payment(invoice, cmd.alreadypaid, cmd.paid_date or sent, cmd.paid_time or time)
            self._insert(invoice)
            if sent > client.lastinvoice:
                client.lastinvoice, client.timestamp = sent, stamp
                self._touch(client)
            self._touch(invoice)
            return invoice

    def _save_draft(self, cmd: NewInvoice, client: Client) -> Draft:
        kind = "saved" if cmd.action == "save" else "repeated"
        existing = next((d for d in self.drafts[kind].values() if d.name == cmd.savename), None)
        if existing is not None and not cmd.overwrite_if_exist:
            raise Conflict(f"An invoice named {cmd.savename!r} already exists")
        draft_id = existing.id if existing is not None else self._next[kind]
        draft = build_draft(kind=kind, draft_id=draft_id, name=cmd.savename, client=client, lines=cmd.lines,
                            today=self._now()[0], profile=cmd.profile, discounttype=cmd.discounttype,
                            discount=cmd.discount, paymentcondition=cmd.paymentcondition,
                            paymentperiod=cmd.paymentperiod, reference=cmd.reference, repeat=cmd.repeat,
                            alreadypaidmethod=cmd.alreadypaidmethod)
        if cmd.alreadypaid is not None:
            draft.alreadypaid = draft.totalintax if cmd.alreadypaid == "full" else Decimal(cmd.alreadypaid)
        if existing is None:
            self._next[kind] += 1
            self._docs[client.clientnr] += 1
        else:
            self._docs[existing.clientnr] -= 1
            self._docs[client.clientnr] += 1
        self.drafts[kind][draft.id] = draft
        self._touch(draft)
        return draft

    def delete_invoice(self, ref: object) -> Invoice:
        """Remove a sent invoice (its payments go with it). Raises: NotFound."""
        with self.lock:
            invoice = self.get_invoice(ref)
            index = bisect_left(self._seqs, invoice.seq)
            del self.order[index], self._seqs[index], self._sent[index]
            del self.invoices[invoice.id], self._numbers[invoice.invoicenr.upper()]
            self._docs[invoice.clientnr] -= 1
            self.deleted_invoices.append(invoice.id)
            if not self._sent_sorted:
                self._sent_sorted = all(a <= b for a, b in zip(self._sent, self._sent[1:], strict=False))
            self._touch(invoice)
            return invoice

    def pay(self, ref: object, payment: Payment) -> Invoice:
        """Book a payment on an invoice. Raises: NotFound."""
        with self.lock:
            invoice = self.get_invoice(ref)
            add_payment(invoice, payment.amount, payment.date, payment.time or self._now()[1])
            self._touch(invoice)
            return invoice

    def annotate(self, ref: object, event: str, on: str | None = None) -> Invoice:
        """A person's action on an invoice: ``reminder`` or ``uncollectible``. Raises: NotFound."""
        with self.lock:
            invoice = self.get_invoice(ref)
            today, time, _ = self._now()
            day = on or today
            if event == "reminder":
                invoice.lastreminder = day
                invoice.history.append(HistoryItem(day, time, "Herinnering verstuurd"))
            else:
                invoice.uncollectible = day
                invoice.history.append(HistoryItem(day, time, "Factuur oninbaar verklaard"))
            self._touch(invoice)
            return invoice

    def corrupt(self, ref: object, name: str, value: str) -> Invoice:
        """Make the wire show `value` for field `name` (to test how clients cope). Raises: NotFound."""
        with self.lock:
            invoice = self.get_invoice(ref)
            invoice.overrides = {**(invoice.overrides or {}), name: value}
            self._touch(invoice)
            return invoice

    # -- drafts, search, truth ----------------------------------------------------------------------

    def draft_page(self, kind: str, start: int, count: int | None) -> list[Draft]:
        """Saved or repeating invoices by id."""
        with self.lock:
            items = [self.drafts[kind][i] for i in sorted(self.drafts[kind])]
            return items[start:] if count is None else items[start:start + count]

    def get_draft(self, kind: str, draft_id: object) -> Draft:
        """Raises: NotFound."""
        text = str(draft_id).strip()
        with self.lock:
            draft = self.drafts[kind].get(int(text)) if text.isdigit() else None
        if draft is None:
            raise NotFound("Invoice not found")
        return draft

    def delete_draft(self, kind: str, draft_id: object) -> Draft:
        """Raises: NotFound."""
        with self.lock:
            draft = self.get_draft(kind, draft_id)
            del self.drafts[kind][draft.id]
            self._docs[draft.clientnr] -= 1
            self._touch(draft)
            return draft

    def search(self, area: str, name: str, query: str) -> list[Any]:
        """Case-insensitive substring search in one field or ``all`` (see `queries.matching`)."""
        with self.lock:
            pool: list[Any] = (self.client_page(0, None) if area == "clients" else
                               list(self.order) if area == "invoices" else self.product_page(0, None))
            return matching(area, name, query, pool)

