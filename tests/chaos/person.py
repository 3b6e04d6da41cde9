"""A person working in a service's web app, seeded: creates, edits, payments, deletions (`/_sandbox/act/...`).

An act the service refuses by its own rules (paying a paid invoice, deleting a client with invoices) is
skipped: a person would see the refusal and move on. Each act is noted in the trial's steps.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tests.chaos.services import Service

__all__ = ["Person"]


class Person:
    """Seeded changes at one service, chosen off its current truth."""

    def __init__(self, service: Service, rng: random.Random, note: Callable[[str], None]) -> None:
        """Args: service: where to act. rng: the trial's random source. note: records each act."""
        self.service = service
        self.rng = rng
        self.note = note
        self.serial = 0

    def work(self, count: int, *, deletions: bool = True) -> None:
        """`count` random acts (deletions among them unless told not to)."""
        state = self.service.state()
        for _ in range(count):
            self.act(state, deletions=deletions)

    def burst_of_deletions(self, count: int) -> None:
        """Delete (or, at FastFaktura, which deletes nothing, cancel) `count` invoices at once, plus one create."""
        state = self.service.state()
        for _ in range(count):
            self._do(*self._remove_invoice(state))
        self._do(*self._new_invoice(state))

    def fill_to_page_boundary(self, page_size: int) -> None:
        """Create invoices until the service holds a whole number of list pages (FastFaktura counts its pages
        off the first one, so a record created while paging matters most there)."""
        state = self.service.state()
        for _ in range(-len(state["invoices"]) % page_size):
            self._do(*self._new_invoice(state))

    def act(self, state: dict[str, Any], *, deletions: bool = True) -> None:
        """One act chosen at random among those this service offers."""
        choices = [self._new_client, self._edit_client, self._new_invoice, self._payment]
        if deletions:
            choices.append(self._remove_invoice)
        self._do(*self.rng.choice(choices)(state))

    def _do(self, action: str, body: dict[str, Any]) -> None:
        if not action:
            return
        try:
            self.service.act(action, **body)
            self.note(f"{self.service.name} act {action} {body}")
        except RuntimeError as refused:
            self.note(f"{self.service.name} act {action} {body} refused: {str(refused)[:120]}")

    def _name(self) -> tuple[str, str]:
        self.serial += 1
        tag = f"{self.rng.randrange(10**6):06d}{self.serial}"
        return f"Chaos Klant {tag}", f"chaos{tag}@example.nl"

    # Each returns (action, body) for the service at hand; ("", {}) when there is nothing to act on.

    def _new_client(self, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name, email = self._name()
        if self.service.name == "factuursturen":
            return "create_client", {"company": name, "email": email, "city": "Utrecht"}
        if self.service.name == "fastfaktura":
            return "create_client", {"name": name, "email": email}
        return "create_customer", {"name": name, "email": email, "city": "Utrecht", "country": "NL"}

    def _edit_client(self, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        _, email = self._name()
        if self.service.name == "factuursturen":
            client = self.rng.choice(state["clients"])
            return "edit_client", {"clientnr": client["clientnr"], "changes": {"email": email}}
        if self.service.name == "fastfaktura":
            client = self.rng.choice(state["clients"])
            if self.rng.random() < 0.2:
                return "archive_client", {"client_id": client["id"]}
            return "edit_client", {"client_id": client["id"], "changes": {"email": email}}
        live = [c for c in state["customers"] if not c["deleted"]]
        return "edit_customer", {"id": self.rng.choice(live)["id"], "changes": {"email": email, "city": "Zwolle"}}

    def _new_invoice(self, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        price = f"{self.rng.randint(1000, 99999) / 100:.2f}"
        quantity = self.rng.randint(1, 5)
        if self.service.name == "factuursturen":
            client = self.rng.choice(state["clients"])
            return "create_invoice", {"clientnr": client["clientnr"], "lines": [
                {"amount": quantity, "description": "Chaos werk", "tax_rate": 21, "price": price}]}
        if self.service.name == "fastfaktura":
            live = [c for c in state["clients"] if c["archived_at"] is None] or state["clients"]
            return "create_invoice", {"client_id": self.rng.choice(live)["id"], "send": True, "lines": [
                {"description": "Chaos work", "quantity": quantity, "unit_price_cents": int(Decimal(price) * 100),
                 "tax_rate": 25}]}
        live = [c for c in state["customers"] if not c["deleted"]]
        return "create_invoice", {"customer": self.rng.choice(live)["id"], "send": True, "rows": [
            {"productName": "Chaos werk", "quantity": quantity, "netPrice": price, "vatRate": "21.00", "unit": "uur"}]}

    def _payment(self, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        full = self.rng.random() < 0.5
        if self.service.name == "factuursturen":
            return self._pay_part("register_payment", state["invoices"], "open", full)
        if self.service.name == "fastfaktura":
            payable = [i for i in state["invoices"] if i["status"] in ("sent", "opened", "overdue")]
            if not payable:
                return "", {}
            return "pay_invoice", {"invoice_id": self.rng.choice(payable)["id"]}
        live = [i for i in state["invoices"] if not i["deleted"]]
        return self._pay_part("add_transaction", live, "openAmount", full)

    def _pay_part(self, action: str, invoices: list[dict[str, Any]], owed_key: str,
                  full: bool) -> tuple[str, dict[str, Any]]:
        """Pay what one open invoice owes, in full or a third of it."""
        open_ = [i for i in invoices if Decimal(str(i[owed_key])) > 0]
        if not open_:
            return "", {}
        invoice = self.rng.choice(open_)
        owed = Decimal(str(invoice[owed_key]))
        amount = owed if full else max(Decimal("0.01"), (owed / 3).quantize(Decimal("0.01")))
        return action, {"invoice": invoice["id"], "amount": f"{amount:.2f}"}

    def _remove_invoice(self, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if self.service.name == "factuursturen":
            if not state["invoices"]:
                return "", {}
            return "delete_invoice", {"invoice": self.rng.choice(state["invoices"])["id"]}
        if self.service.name == "fastfaktura":
            cancellable = [i for i in state["invoices"] if i["status"] not in ("paid", "cancelled")]
            if not cancellable:
                return "", {}
            return "cancel_invoice", {"invoice_id": self.rng.choice(cancellable)["id"]}
        live = [i for i in state["invoices"] if not i["deleted"]]
        if not live:
            return "", {}
        if self.rng.random() < 0.25:
            txs = [t for i in live for t in i["transactions"] if not t["deleted"]]
            if txs:
                return "delete_transaction", {"id": self.rng.choice(txs)["id"]}
        return "delete_invoice", {"id": self.rng.choice(live)["id"]}
