"""Plain rows for the reconcile tables: a client row as the store keeps it, and what a mapping reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

T = [datetime(2026, 12, 7, h, tzinfo=UTC) for h in range(24)]


@dataclass(frozen=True)
class Reads:
    """What a connection's mapping fills (`merge.ReadsFields`)."""

    fields: frozenset[str]
    extra: frozenset[str] | None = frozenset()


def reads(*names: str, extra: frozenset[str] | None = frozenset()) -> Reads:
    """The mapping fills `names` (and `extra` keys: None for every key)."""
    return Reads(frozenset(names), extra)


def client(**values: Any) -> dict[str, Any]:
    """A client row: a few columns with plain defaults, `values` over them."""
    row: dict[str, Any] = {
        "name": "Acme",
        "email": "billing@acme.test",
        "phone": "020 123 4567",
        "vat_number": "NL001",
        "archived_at": None,
        "extra": {},
        "updated_at": T[1],
        "remote_updated_at": None,
        "remote_deleted_at": None,
    }
    row.update(values)
    return row


def invoice(**values: Any) -> dict[str, Any]:
    """An invoice row: a total of 100.00 issued at ``fs``, open, `values` over it."""
    row: dict[str, Any] = {
        "number": "F1",
        "status": "sent",
        "total_minor": 10000,
        "open_minor": 10000,
        "paid_on": None,
        "due_on": None,
        "origin_connection": "fs",
        "updated_at": T[1],
        "remote_deleted_at": None,
    }
    row.update(values)
    return row
