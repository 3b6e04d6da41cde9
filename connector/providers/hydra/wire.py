"""Hydra wire shapes: collection envelopes in every flavour, IRIs, and invoices composed with their rows.

Reads both API Platform 3.x (``hydra:member``, ``hydra:view``, ``hydra:next``) and 4.x (``member``,
``view``, ``next``) collections, and plain-JSON bare arrays. Error bodies (legacy Hydra and
problem+json) are read by the HTTP layer's classifier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from connector.errors import ProtocolError

__all__ = ["PROVIDER", "compose_invoice", "first_link", "iri_id", "members", "next_link", "previous_link",
           "record_id", "total_items"]

PROVIDER = "hydra"


def _pick(doc: Mapping[str, Any], name: str) -> Any:
    """A Hydra key in either flavour: ``hydra:name`` (3.x) or ``name`` (4.x)."""
    value = doc.get(f"hydra:{name}")
    return doc.get(name) if value is None else value


def members(doc: Any, what: str) -> list[dict[str, Any]]:
    """The records of a collection answer (JSON-LD collection, or a plain-JSON bare array).

    Raises:
        ProtocolError: anything else, or members that are not objects.
    """
    items = doc if isinstance(doc, list) else _pick(doc, "member") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        shape = type(doc).__name__ if not isinstance(doc, dict) else f"object with keys {sorted(doc)[:6]}"
        raise ProtocolError(f"{what}: expected a Hydra collection, got {shape}", provider=PROVIDER)
    return items


def _view_link(doc: Any, name: str) -> str | None:
    if not isinstance(doc, dict):
        return None
    view = _pick(doc, "view")
    link = _pick(view, name) if isinstance(view, dict) else None
    return link if isinstance(link, str) and link else None


def next_link(doc: Any) -> str | None:
    """The collection's next-page link (``hydra:view`` -> ``hydra:next``), or None on the last page."""
    return _view_link(doc, "next")


def previous_link(doc: Any) -> str | None:
    """The previous-page link, or None on the first page."""
    return _view_link(doc, "previous")


def first_link(doc: Any) -> str | None:
    """The first-page link, or None when the collection fits on one page."""
    return _view_link(doc, "first")


def total_items(doc: Any) -> int | None:
    """``hydra:totalItems`` (``totalItems``), when the service sends it."""
    value = _pick(doc, "totalItems") if isinstance(doc, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def iri_id(value: Any) -> str:
    """The id at the end of an IRI (``/api/invoices/12`` -> ``12``); a plain id passes through.

    Raises:
        ProtocolError: not an IRI or an id.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        tail = value.rstrip("/").rsplit("/", 1)[-1]
        if tail:
            return tail
    raise ProtocolError(f"expected an IRI or an id, got {value!r}", provider=PROVIDER)


def record_id(record: Mapping[str, Any]) -> str:
    """A record's id: from ``@id`` when present (JSON-LD), else its ``id`` property."""
    return iri_id(record.get("@id") if record.get("@id") is not None else record.get("id"))


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def compose_invoice(invoice: dict[str, Any], rows: Mapping[str, dict[str, Any]],
                    transactions: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The invoice's wire record with its rows embedded in place of their IRIs, or None when the parts
    were read at different moments.

    The parts are consistent when every listed row was found, no row of this invoice is missing from
    its list, and no row or transaction was updated after the invoice (the service moves an invoice's
    ``updatedAt`` whenever one of them changes). An inconsistent invoice changed while it was being
    read, so its ``updatedAt`` now lies after the window: the next run reads it whole.

    Args:
        invoice: the invoice as listed.
        rows: every fetched row of this invoice, by id.
        transactions: every fetched transaction of this invoice.

    Raises:
        ProtocolError: a row reference that is neither an IRI nor an id.
    """
    listed = invoice.get("invoiceRows")
    if not isinstance(listed, list):
        return None
    ids = [iri_id(item.get("@id", item.get("id")) if isinstance(item, dict) else item) for item in listed]
    if any(key not in rows for key in ids) or len(rows) != len(set(ids)):
        return None
    stamp = _moment(invoice.get("updatedAt"))
    if stamp is not None:
        for part in [*rows.values(), *transactions]:
            changed = _moment(part.get("updatedAt"))
            if changed is not None and changed > stamp:
                return None
    return {**invoice, "invoiceRows": [rows[key] for key in ids]}
