"""Listing predicates: the invoice filters (``?filter=``) and the text search (``/search/{area}/{field}/{q}``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sandboxes.factuursturen.errors import BadRequest, NotFound
from sandboxes.factuursturen.records import Invoice

__all__ = ["FILTERS", "SEARCH_FIELDS", "matching"]

FILTERS: dict[str, Callable[[Invoice, str], bool]] = {
    "open": lambda i, today: i.open > 0,
    "overdue": lambda i, today: i.open > 0 and i.duedate < today,
    "sent": lambda i, today: True,
    "partly": lambda i, today: 0 < i.open < i.totalintax,
    "toomuch": lambda i, today: i.open < 0,
    "paid": lambda i, today: i.open == 0,
    "uncollectible": lambda i, today: i.uncollectible != "",
}

SEARCH_FIELDS = {
    "clients": ("clientnr", "contact", "company", "address", "zipcode", "city", "phone", "mobile", "email",
                "taxnumber", "bankcode", "notes"),
    "invoices": ("invoicenr", "clientnr", "company", "contact", "address", "zipcode", "city", "email",
                 "invoicenote", "sent", "description"),
    "products": ("id", "code", "name"),
}


def _values(record: Any, name: str) -> list[str]:
    if name == "description":
        return [line.description for line in record.lines]
    if isinstance(record, Invoice) and hasattr(record.snapshot, name):
        return [str(getattr(record.snapshot, name))]
    value = getattr(record, name, "")
    return [str(value)] if value is not None else []


def matching(area: str, name: str, query: str, pool: Iterable[Any]) -> list[Any]:
    """Records of `pool` whose field `name` (or any searchable field, for ``all``) contains `query`.

    Raises:
        NotFound: an unknown area. BadRequest: an unknown field.
    """
    if area not in SEARCH_FIELDS:
        raise NotFound("Unknown search area")
    if name != "all" and name not in SEARCH_FIELDS[area]:
        raise BadRequest(f"Unknown search field {name!r}")
    names = SEARCH_FIELDS[area] if name == "all" else (name,)
    needle = query.casefold()
    return [r for r in pool if any(needle in value.casefold() for n in names for value in _values(r, n))]
