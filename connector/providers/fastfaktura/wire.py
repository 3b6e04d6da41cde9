"""FastFaktura wire shapes: list envelopes, bare objects, list-entry stamps, payments from ``paid`` events.

The envelope and the event timeline are sandbox decisions (PROVIDERS.md section 5, decisions 3 and 7),
so the reading here is deliberately lenient: a list may be ``{"data": [...], "meta": {...}}`` or a bare
array, a single record a bare object or one wrapped in ``{"data": {...}}``; a ``paid`` event's amount and
date are looked for on the event and in its ``data``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

from connector.errors import ProtocolError, ProviderError, Rejected
from connector.http import describe, rejection_fields

__all__ = ["derive_payments", "expect_object", "list_entries", "list_meta", "record_id", "rejection", "stamp"]

PROVIDER = "fastfaktura"


def rejection(response: httpx.Response) -> ProviderError | None:
    """Status override for 4xx refusals: `Rejected` with the field problems of ``error.fields``.

    The shared reader knows ``details``/``violations``/``errors``; FastFaktura's envelope (decision 10)
    names them ``fields``.
    """
    code, message, details = rejection_fields(response)
    if not details:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        inner = body.get("error") if isinstance(body, dict) else None
        fields = inner.get("fields") if isinstance(inner, dict) else None
        if isinstance(fields, dict):
            details = {str(k): str(v)[:200] for k, v in fields.items()}
    return Rejected(f"{describe(response, body=False)}: {message}", status=response.status_code, code=code,
                    details=details)


def list_entries(body: Any, what: str) -> tuple[list[dict[str, Any]], int | None]:
    """Read one list page: its records and the page size the service states (``meta.per_page``), if any.

    Raises:
        ProtocolError: neither ``{"data": [objects...]}`` nor a bare array of objects.
    """
    per_page = None
    items = body
    if isinstance(body, dict):
        items = body.get("data")
        meta = body.get("meta")
        if isinstance(meta, dict) and type(meta.get("per_page")) is int and meta["per_page"] > 0:
            per_page = meta["per_page"]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        shape = type(body).__name__ if not isinstance(body, dict) else f"an object with keys {sorted(body)[:6]}"
        raise ProtocolError(f"{what}: expected {{'data': [objects]}}, got {shape}", provider=PROVIDER)
    return items, per_page


def list_meta(body: Any) -> tuple[int | None, int | None]:
    """(``meta.total``, ``meta.last_page``) of a list page, each None when not stated as a count."""
    meta = body.get("meta") if isinstance(body, dict) else None
    if not isinstance(meta, dict):
        return None, None
    total, last = meta.get("total"), meta.get("last_page")
    return (total if type(total) is int and total >= 0 else None,
            last if type(last) is int and last >= 1 else None)


def expect_object(body: Any, what: str) -> dict[str, Any]:
    """Read a single record: a bare object (or one wrapped in ``data``).

    Raises:
        ProtocolError: not an object.
    """
    if isinstance(body, dict):
        inner = body.get("data")
        if "id" not in body and isinstance(inner, dict):
            return inner
        return body
    raise ProtocolError(f"{what}: expected a JSON object, got {type(body).__name__}", provider=PROVIDER)


def record_id(item: dict[str, Any], what: str) -> str:
    """The record's ``id`` as text.

    Raises:
        ProtocolError: a record without an id cannot be tracked.
    """
    value = item.get("id")
    if value is None or isinstance(value, bool | dict | list) or str(value) == "":
        raise ProtocolError(f"{what}: a record without an id", provider=PROVIDER)
    return str(value)


def _canonical(value: Any) -> str:
    return str(value)  # Decimal (from parse_float) as its exact text


def stamp(entry: dict[str, Any]) -> str:
    """The change stamp of a list entry: a short hash of its canonical JSON (keys sorted)."""
    text = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_canonical)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def derive_payments(invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """One payment record per ``paid`` event of an invoice detail (the service has no payment list).

    The payment's id is the event's id, so it is stable while the timeline only grows. Values stay as
    the wire gave them (an unreadable amount is passed on for the mapping to quarantine).
    """
    invoice_id = str(invoice.get("id", ""))
    events = invoice.get("events")
    payments: list[dict[str, Any]] = []
    if not isinstance(events, list):
        return payments
    for n, event in enumerate(events):
        if not isinstance(event, dict) or event.get("type") != "paid":
            continue
        raw = event.get("data")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        payments.append({
            "id": str(event.get("id") or f"{invoice_id}:paid:{n}"),
            "invoice_id": invoice_id,
            "invoice_number": invoice.get("number"),
            "amount_cents": event.get("amount_cents", data.get("amount_cents")),
            "currency": invoice.get("currency"),
            "paid_at": event.get("paid_at") or data.get("paid_at") or event.get("created_at"),
            "method": data.get("method"),
        })
    return payments
