"""A person working in the web app: the changes `/_sandbox/act/{action}` makes, through the API's own rules.

Bodies use the API's property names; relations may be given as plain ids (``"customer": 5``) and money
as strings or numbers. Every action returns the record it touched.

    create_customer {fields}              edit_customer {"id", "changes"}        delete_customer {"id"}
    create_invoice {"customer", "rows": [{row fields}], "send": true, "date"?, "dueDate"?, "reference"?}
    edit_invoice {"id", "changes"}        send_invoice {"id"}     cancel_invoice {"id"}   delete_invoice {"id"}
    add_row {"invoice", "row": {fields}}  edit_row {"id", "changes"}
    add_transaction {"invoice", "amount", "date"?}   edit_transaction {"id", "changes"}   delete_transaction {"id"}
    corrupt_invoice {"id", "field", "value", "row"? | "transaction"?}  make one stored value unreadable on the
                                          wire: a field of the invoice, or (with "row"/"transaction": an id, or
                                          "first") of one of its rows or transactions; saving it again cleans it
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sandboxes.hydra import writes
from sandboxes.hydra.inputs import RULES
from sandboxes.hydra.records import Invoice, Record
from sandboxes.hydra.state import HydraState
from sandboxes.hydra.wire import RESOURCES, rfc3339

__all__ = ["PersonActs"]

_NUMBERS = ("amount", "quantity")


class PersonActs:
    """The actions, by name."""

    def __init__(self, state: HydraState) -> None:
        """Args: state: the account acted on."""
        self.state = state
        self._acts: dict[str, Callable[[dict[str, Any]], Record]] = {
            "create_customer": lambda b: self._create("customers", b),
            "edit_customer": lambda b: self._edit("customers", b),
            "delete_customer": lambda b: self._delete("customers", b),
            "create_invoice": self._create_invoice,
            "edit_invoice": lambda b: self._edit("invoices", b),
            "send_invoice": lambda b: writes.send(self.state, self._invoice(b["id"])),
            "cancel_invoice": lambda b: self._edit("invoices", {"id": b["id"], "changes": {"status": "cancelled"}}),
            "delete_invoice": lambda b: self._delete("invoices", b),
            "add_row": lambda b: self._create("invoice-rows", {**dict(b.get("row") or {}), "invoice": b["invoice"]}),
            "edit_row": lambda b: self._edit("invoice-rows", b),
            "add_transaction": self._add_transaction,
            "edit_transaction": lambda b: self._edit("invoice-transactions", b),
            "delete_transaction": lambda b: self._delete("invoice-transactions", b),
            "corrupt_invoice": self._corrupt,
        }

    @property
    def names(self) -> set[str]:
        """Every action name."""
        return set(self._acts)

    def run(self, action: str, body: dict[str, Any]) -> Record:
        """Perform one action. Raises: HydraError (the API's own checks), KeyError/ValueError (bad body)."""
        return self._acts[action](body)

    def _wire(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        """Plain ids -> IRIs, money and quantities given as strings -> numbers."""
        out = dict(body)
        for rule in RULES[resource]:
            value = out.get(rule.wire)
            if rule.kind == "relation" and rule.target and isinstance(value, (int, str)) and \
                    str(value).isdigit():
                out[rule.wire] = f"{RESOURCES[rule.target].iri_prefix}{value}"
            elif rule.wire in _NUMBERS and isinstance(value, (str, float)):
                out[rule.wire] = Decimal(str(value))
        return out

    def _create(self, resource: str, body: dict[str, Any]) -> Record:
        return writes.create_from(self.state, resource, self._wire(resource, body), self.state.now())

    def _edit(self, resource: str, body: dict[str, Any]) -> Record:
        changes = body.get("changes")
        if not isinstance(changes, dict):
            raise ValueError("changes must be an object")
        return writes.patch_from(self.state, resource, body["id"], self._wire(resource, changes), self.state.now())

    def _delete(self, resource: str, body: dict[str, Any]) -> Record:
        with self.state.lock:
            record: Record = self.state.get(resource, body["id"])
            self.state.delete(record)
            return record

    def _invoice(self, key: object) -> Invoice:
        invoice = self.state.get("invoices", key)
        assert isinstance(invoice, Invoice)
        return invoice

    def _create_invoice(self, body: dict[str, Any]) -> Record:
        fields: dict[str, Any] = {k: body[k] for k in ("customer", "date", "dueDate", "reference", "currency")
                                  if k in body}
        with self.state.lock:
            invoice = self._create("invoices", fields)
            assert isinstance(invoice, Invoice)
            for row in body.get("rows") or []:
                self._create("invoice-rows", {**row, "invoice": invoice.id})
            if body.get("send", True):
                writes.send(self.state, invoice)
            return invoice

    def _add_transaction(self, body: dict[str, Any]) -> Record:
        fields = {"invoice": body["invoice"], "amount": body.get("amount"),
                  "date": body.get("date") or rfc3339(self.state.now())}
        return self._create("invoice-transactions", fields)

    def _corrupt(self, body: dict[str, Any]) -> Record:
        with self.state.lock:
            invoice = self._invoice(body["id"])
            record: Record = invoice
            if body.get("row") is not None:
                key = invoice.row_ids[0] if body["row"] == "first" else body["row"]
                record = self.state.get("invoice-rows", key)
            elif body.get("transaction") is not None:
                live = self.state.transactions_of(invoice)
                record = live[0] if body["transaction"] == "first" else self.state.get("invoice-transactions",
                                                                                       body["transaction"])
            self.state.corrupt(record, str(body["field"]), body["value"])
            return record
