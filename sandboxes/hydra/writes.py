"""Write operations of the API: create (POST), merge-patch (PATCH), soft delete (DELETE) and the send actions.

Each takes the decoded request pieces, checks them (`inputs`) and changes the state; the routes render
the record that comes back.
"""

from __future__ import annotations

from typing import Any

from sandboxes._server import Request
from sandboxes.hydra.errors import NO_SUCH_CHOICE, Unprocessable, Violation
from sandboxes.hydra.inputs import RULES, check_content_type, decode, read_input, validate
from sandboxes.hydra.records import Invoice, Record
from sandboxes.hydra.state import HydraState

__all__ = ["create", "create_from", "delete", "patch", "patch_from", "send", "send_e_invoice"]

_DEFAULTS: dict[str, dict[str, Any]] = {
    "customers": {},
    "invoices": {"currency": "EUR", "status": "draft"},
    "invoice-rows": {},
    "invoice-transactions": {},
}


def _body(request: Request, *, patch: bool) -> dict[str, Any]:
    check_content_type(request, patch=patch)
    return decode(request)


def create(state: HydraState, request: Request, resource: str, now: float, *, sent: bool = False) -> Record:
    """POST a new record of `resource` (``sent``: POST /invoices/send, created and sent at once).

    Raises:
        HydraError: 415, 400 or 422 as the input deserves.
    """
    return create_from(state, resource, _body(request, patch=False), now, sent=sent)


def create_from(state: HydraState, resource: str, body: dict[str, Any], now: float, *, sent: bool = False) -> Record:
    """Create a record from a decoded body (the API's rules: 400 for bad input, 422 for violations)."""
    with state.lock:
        values = read_input(state, resource, body, now)
        merged = {**_DEFAULTS[resource], **values}
        validate(resource, merged, creating=True, current_status="draft" if resource == "invoices" else None)
        fields = {k: v for k, v in merged.items() if v is not None or k in values}
        if resource == "customers":
            return state.create_customer(fields)
        if resource == "invoices":
            invoice = state.create_invoice(fields)
            if sent:
                state.send(invoice)
            return invoice
        invoice = state.get("invoices", fields.pop("invoice_id"))
        if resource == "invoice-rows":
            return state.create_row(invoice, fields)
        return state.create_transaction(invoice, fields)


def patch(state: HydraState, request: Request, resource: str, key: str, now: float) -> Record:
    """Merge-patch a record (RFC 7386: omitted = unchanged, null = cleared).

    Raises:
        HydraError: 404, 415, 400 or 422.
    """
    with state.lock:
        state.get(resource, key)  # 404 before 415
        return patch_from(state, resource, key, _body(request, patch=True), now)


def patch_from(state: HydraState, resource: str, key: object, body: dict[str, Any], now: float) -> Record:
    """Apply a decoded merge-patch body to a record (the API's rules)."""
    with state.lock:
        record = state.get(resource, key)
        values = read_input(state, resource, body, now)
        current = {f.attr: getattr(record, f.attr) for f in RULES[resource] if f.attr}
        merged = {**current, **values}
        status = record.status if isinstance(record, Invoice) else None
        validate(resource, merged, creating=False, current_status=status)
        state.update(record, {k: merged[k] for k in values})
        return record


def delete(state: HydraState, resource: str, key: str) -> None:
    """Soft-delete a record. Raises: NotFound."""
    with state.lock:
        state.delete(state.get(resource, key))


def send(state: HydraState, invoice: Invoice) -> Invoice:
    """Send an invoice (a draft gets its number; a sent one stays as it is).

    Raises:
        Unprocessable: a cancelled invoice.
    """
    with state.lock:
        if invoice.status == "cancelled":
            raise Unprocessable([Violation("status", "A cancelled invoice cannot be sent.", NO_SUCH_CHOICE)])
        state.send(invoice)
        return invoice


def send_e_invoice(state: HydraState, request: Request, now: float) -> Invoice:
    """POST /e-invoices/send ``{"invoice": IRI}``: send the invoice through the e-invoicing network.

    Raises:
        HydraError: 415, 400 (bad IRI) or 422 (no invoice given, a cancelled invoice).
    """
    with state.lock:
        check_content_type(request, patch=False)
        body = decode(request)
        values = read_input(state, "invoice-transactions", {"invoice": body.get("invoice")}, now)
        if values.get("invoice_id") is None:
            raise Unprocessable([Violation("invoice", "This value should not be null.",
                                           "ad32d13f-c3d4-423b-909a-857b961eb720")])
        return send(state, state.get("invoices", values["invoice_id"]))
