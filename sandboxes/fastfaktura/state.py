"""The account's state: business, clients and invoices behind one lock; no HTTP in here.

Every mutation bumps the touched record's `rev` (its cached JSON is then rebuilt) and the state
`version` (cached filtered listings are then rebuilt). Callers that read several records at once (a
page) hold `lock` while they read. Listings are kept in creation order (oldest first); the routes
serve them newest first (decision 4).
"""

from __future__ import annotations

import hashlib
import heapq
import random
import threading
import uuid
from bisect import insort
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sandboxes._control import SandboxClock
from sandboxes.fastfaktura.errors import Conflict, NotFound, Unprocessable
from sandboxes.fastfaktura.inputs import NewInvoice, SendCommand
from sandboxes.fastfaktura.records import Business, Client, Event, Invoice, totals

__all__ = ["OPEN_STATUSES", "PUBLIC_BASE", "FastFakturaState", "SeedData", "iso_z", "public_url"]

PUBLIC_BASE = "https://app.fastfaktura.io/i/"
OPEN_STATUSES = ("sent", "opened")  # statuses that turn overdue once the due date has passed


def iso_z(clock: SandboxClock) -> str:
    """The sandbox clock's instant as ISO 8601 UTC with a ``Z`` (seconds precision)."""
    return clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


def public_url(invoice_id: str) -> tuple[str, str]:
    """(token, URL) of an invoice's public page: a stable hash of its id."""
    token = hashlib.blake2b(invoice_id.encode(), digest_size=10).hexdigest()
    return token, PUBLIC_BASE + token


@dataclass
class SeedData:
    """A whole account to load at once (what `seed.generate` builds), each list in creation order."""

    clients: list[Client] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    seed: int = 42


class FastFakturaState:
    """One FastFaktura account; every public method is thread-safe."""

    def __init__(self, clock: SandboxClock) -> None:
        """Args: clock: the sandbox clock (UTC) for timestamps, numbers and the overdue rule."""
        self.clock = clock
        self.lock = threading.RLock()
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------------

    def reset(self, seed: int = 42) -> None:
        """Forget every record (the business profile goes back to its default)."""
        with self.lock:
            self.business = Business()
            self.clients: dict[str, Client] = {}
            self.active: list[Client] = []
            self.archived: list[Client] = []
            self.invoices: dict[str, Invoice] = {}
            self.order: list[Invoice] = []
            self.tokens: dict[str, str] = {}
            self._year_seq: dict[int, int] = {}
            self._seq = 0
            self._due: list[tuple[str, int, str]] = []  # heap of (due_date, seq, id) of sent/opened invoices
            self._listings: dict[str, tuple[int, list[Invoice]]] = {}
            self._rng = random.Random(seed * 7919 + 1)  # ids of records made at run time: reproducible
            self.version = 0

    def load(self, data: SeedData) -> None:
        """Replace everything with `data`."""
        with self.lock:
            self.reset(data.seed)
            for client in data.clients:
                self.clients[client.id] = client
                (self.archived if client.archived_at else self.active).append(client)
                self._seq = max(self._seq, client.seq)
            for invoice in data.invoices:
                self._insert(invoice)

    def new_id(self) -> str:
        """A fresh UUID (version 4 layout, from the state's reproducible random source)."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _touch(self, *records: Client | Invoice) -> None:
        for record in records:
            record.rev += 1
        self.version += 1

    # -- business ----------------------------------------------------------------------------------

    def update_business(self, fields: dict[str, Any]) -> Business:
        """Apply a partial update of the company profile."""
        with self.lock:
            for name, value in fields.items():
                setattr(self.business, name, value)
            self.version += 1
            return self.business

    # -- clients -----------------------------------------------------------------------------------

    def client_listing(self, archived: bool, query: str | None = None) -> list[Client]:
        """Active (or archived) clients in creation order, optionally searched by name/e-mail/phone.

        The search is a case-insensitive substring match; a query with digits also matches phone
        numbers by their digits alone (``91 23 45`` finds ``+4791234567``).
        """
        with self.lock:
            items = self.archived if archived else self.active
            needle = (query or "").strip().casefold()
            if not needle:
                return items
            digits = "".join(ch for ch in needle if ch.isdigit())
            found = []
            for c in items:
                texts = (c.name, c.email or "", c.phone or "")
                if any(needle in t.casefold() for t in texts) or (
                        digits and c.phone and digits in "".join(ch for ch in c.phone if ch.isdigit())):
                    found.append(c)
            return found

    def get_client(self, client_id: str) -> Client:
        """Raises: NotFound (archived clients are still found)."""
        client = self.clients.get(client_id)
        if client is None:
            raise NotFound("Client not found")
        return client

    def create_client(self, fields: dict[str, Any]) -> Client:
        """A new active client."""
        with self.lock:
            client = Client(id=self.new_id(), seq=self._next_seq(), **fields)
            self.clients[client.id] = client
            self.active.append(client)
            self._touch(client)
            return client

    def update_client(self, client_id: str, fields: dict[str, Any]) -> Client:
        """Apply a partial update (archived clients may be edited and stay archived). Raises: NotFound."""
        with self.lock:
            client = self.get_client(client_id)
            changed = {name: value for name, value in fields.items() if getattr(client, name) != value}
            for name, value in changed.items():
                setattr(client, name, value)
            if changed:
                self._touch(client)
            return client

    def archive_client(self, client_id: str) -> Client:
        """Archive (the service never hard-deletes a client); archiving again changes nothing. Raises: NotFound."""
        with self.lock:
            client = self.get_client(client_id)
            if client.archived_at is None:
                client.archived_at = iso_z(self.clock)
                self.active.remove(client)
                insort(self.archived, client, key=lambda c: c.seq)
                self._touch(client)
            return client

    # -- invoices ----------------------------------------------------------------------------------

    def _insert(self, invoice: Invoice) -> None:
        self.invoices[invoice.id] = invoice
        self.order.append(invoice)
        self.tokens[invoice.public_url.rsplit("/", 1)[-1]] = invoice.id
        self._seq = max(self._seq, invoice.seq)
        _, year, seq = invoice.number.split("-")
        self._year_seq[int(year)] = max(self._year_seq.get(int(year), 0), int(seq))
        if invoice.status in OPEN_STATUSES and invoice.due_date:
            heapq.heappush(self._due, (invoice.due_date, invoice.seq, invoice.id))

    def invoice_listing(self, status: str | None = None) -> list[Invoice]:
        """Invoices in creation order, optionally only those with `status`; cached until the next change."""
        with self.lock:
            if status is None:
                return self.order
            hit = self._listings.get(status)
            if hit is not None and hit[0] == self.version:
                return hit[1]
            items = [i for i in self.order if i.status == status]
            self._listings[status] = (self.version, items)
            return items

    def get_invoice(self, invoice_id: str) -> Invoice:
        """Raises: NotFound."""
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            raise NotFound("Invoice not found")
        return invoice

    def create_invoice(self, cmd: NewInvoice) -> Invoice:
        """A new draft, numbered ``FF-<year>-<seq>`` at once (decision 12).

        Raises:
            Unprocessable: an unknown or archived client.
        """
        with self.lock:
            client = self.clients.get(cmd.client_id)
            if client is None:
                raise Unprocessable("The invoice is invalid", {"client_id": "no such client"})
            if client.archived_at is not None:
                raise Unprocessable("The invoice is invalid", {"client_id": "the client is archived"})
            year = self.clock.now().year
            seq = self._year_seq.get(year, 0) + 1
            invoice_id = self.new_id()
            subtotal, tax, total = totals(cmd.lines)
            invoice = Invoice(
                id=invoice_id, seq=self._next_seq(), number=f"FF-{year}-{seq:04d}", client_id=client.id,
                currency=cmd.currency, lines=cmd.lines, subtotal_cents=subtotal, tax_cents=tax, total_cents=total,
                status="draft", due_date=cmd.due_date, public_url=public_url(invoice_id)[1], notes=cmd.notes,
                events=[Event(self.new_id(), "created", iso_z(self.clock))])
            self._insert(invoice)
            self._touch(invoice)
            return invoice

    def send_invoice(self, invoice_id: str, cmd: SendCommand) -> Invoice:
        """Send (simulated) on each channel: a ``sent`` (or ``reminder_sent``) event per channel.

        A draft becomes ``sent``; sending again or reminding leaves the status as it is.

        Raises:
            NotFound; Conflict: a cancelled or paid invoice, or a reminder for a draft;
            Unprocessable: a channel the client cannot be reached on (no e-mail, no phone).
        """
        with self.lock:
            invoice = self.get_invoice(invoice_id)
            if invoice.status == "cancelled":
                raise Conflict("The invoice is cancelled and cannot be sent")
            if invoice.status == "paid":
                raise Conflict("The invoice is paid and cannot be sent again")
            if cmd.reminder and invoice.status == "draft":
                raise Conflict("A draft cannot be reminded: send it first")
            client = self.clients[invoice.client_id]
            if "email" in cmd.channels and not client.email:
                raise Unprocessable("The send request is invalid", {"channels": "the client has no e-mail address"})
            if "sms" in cmd.channels and not client.phone:
                raise Unprocessable("The send request is invalid", {"channels": "the client has no phone number"})
            now = iso_z(self.clock)
            kind = "reminder_sent" if cmd.reminder else "sent"
            for channel in cmd.channels:
                invoice.events.append(Event(self.new_id(), kind, now, channel=channel))
            if invoice.status == "draft":
                invoice.status = "sent"
                if invoice.due_date:
                    heapq.heappush(self._due, (invoice.due_date, invoice.seq, invoice.id))
            self._touch(invoice)
            return invoice

    def open_invoice(self, invoice_id: str) -> Invoice:
        """The public page was viewed: ``sent`` becomes ``opened`` (an ``opened`` event); else nothing changes."""
        with self.lock:
            invoice = self.get_invoice(invoice_id)
            if invoice.status == "sent":
                invoice.status = "opened"
                invoice.events.append(Event(self.new_id(), "opened", iso_z(self.clock)))
                self._touch(invoice)
            return invoice

    def pay_invoice(self, invoice_id: str, paid_at: str | None = None) -> Invoice:
        """A simulated Stripe payment of the whole total: a ``paid`` event with amount_cents and paid_at.

        Raises:
            NotFound; Conflict: a draft (no payment page yet), a cancelled or an already paid invoice.
        """
        with self.lock:
            invoice = self.get_invoice(invoice_id)
            if invoice.status in ("draft", "cancelled", "paid"):
                raise Conflict(f"A {invoice.status} invoice cannot be paid")
            when = paid_at or iso_z(self.clock)
            intent = f"pi_{self._rng.getrandbits(96):024x}"
            invoice.events.append(Event(self.new_id(), "paid", when, amount_cents=invoice.total_cents, paid_at=when,
                                        data={"method": "card", "payment_intent": intent}))
            invoice.status = "paid"
            self._touch(invoice)
            return invoice

    def cancel_invoice(self, invoice_id: str) -> Invoice:
        """Cancel (a ``cancelled`` event); cancelling again changes nothing.

        Raises:
            NotFound; Conflict: a paid invoice.
        """
        with self.lock:
            invoice = self.get_invoice(invoice_id)
            if invoice.status == "paid":
                raise Conflict("A paid invoice cannot be cancelled")
            if invoice.status != "cancelled":
                invoice.status = "cancelled"
                invoice.events.append(Event(self.new_id(), "cancelled", iso_z(self.clock)))
                self._touch(invoice)
            return invoice

    def corrupt(self, invoice_id: str, path: str, value: Any) -> Invoice:
        """Make the wire show `value` at dotted `path` (``lines.0.unit_price_cents``) from now on. Raises: NotFound."""
        with self.lock:
            invoice = self.get_invoice(invoice_id)
            invoice.overrides = {**(invoice.overrides or {}), path: value}
            self._touch(invoice)
            return invoice

    def refresh_overdue(self) -> None:
        """Turn sent/opened invoices whose due date has passed (sandbox clock, UTC) into ``overdue``.

        The ``overdue`` event is dated the day after the due date at 00:00:00Z (never before the
        invoice's previous event), so the truth does not depend on when it is first looked at.
        """
        due = self._due
        if not due:
            return
        today = self.clock.today().isoformat()
        if due[0][0] >= today:
            return
        with self.lock:
            while due and due[0][0] < today:
                due_date, _, invoice_id = heapq.heappop(due)
                invoice = self.invoices.get(invoice_id)
                if invoice is None or invoice.status not in OPEN_STATUSES or invoice.due_date != due_date:
                    continue
                day_after = (date.fromisoformat(due_date) + timedelta(days=1)).isoformat() + "T00:00:00Z"
                when = max(day_after, invoice.events[-1].created_at if invoice.events else day_after)
                invoice.events.append(Event(self.new_id(), "overdue", when))
                invoice.status = "overdue"
                self._touch(invoice)

    def payments(self) -> list[dict[str, Any]]:
        """Every ``paid`` event of every invoice (the truth of what was paid), in creation order."""
        with self.lock:
            return [{"id": e.id, "invoice_id": i.id, "amount_cents": e.amount_cents, "paid_at": e.paid_at,
                     "currency": i.currency} for i in self.order for e in i.events if e.type == "paid"]
