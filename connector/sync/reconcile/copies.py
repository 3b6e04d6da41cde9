"""Copies: what a service that holds an invoice or a payment because the push put it there may tell the store.

An invoice belongs to the connection that issued it (`origin_connection`); a payment to the service it was
registered at. The copies the push made elsewhere carry the same content in that service's words, plus what
the service works out itself: its own number, totals rounded its own way, a due date from its own terms, an
instant where the origin had a date. Reading a copy back must not rewrite the canonical record (and through
it every other service), so:

- a copy of an invoice contributes only payments made there: what the copy says is paid (its total minus
  its open amount, so a total rounded its own way does not leave a cent open) is taken off the canonical
  total, and only when that means more is paid than the store knows. A copy read back before the push has
  brought it the origin's latest payment is behind, not right: it never reopens an invoice, nor changes a
  status for any other reason (`COPY_STATE` names the columns a copy can move: status, open amount, paid date);
- a copy of a payment (its link carries the push's write ledger) contributes nothing: a payment is an event,
  and the copy is the connector's own write coming back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["COPY_STATE", "is_copy", "merge_invoice_row", "moves_copy_state", "payment_is_echo"]

COPY_STATE = ("status", "open_minor", "paid_on")
_ALWAYS_NEW = ("updated_at", "remote_deleted_at")


def merge_invoice_row(incoming: dict[str, Any], stored: Mapping[str, Any], connection: str) -> dict[str, Any]:
    """The row to write for an invoice `connection` sent: all of it from its origin, the payment state from a copy.

    Args:
        incoming: the invoice's column values as `connection` gave them.
        stored: the canonical row as stored.
        connection: the connection the invoice was read from.
    """
    origin = stored.get("origin_connection") or connection
    if connection == origin:
        return {**incoming, "origin_connection": origin}
    merged = {name: stored.get(name) for name in incoming}
    merged.update({name: incoming[name] for name in _ALWAYS_NEW})
    total, open_now = stored.get("total_minor"), stored.get("open_minor")
    their_total, their_open = incoming.get("total_minor"), incoming.get("open_minor")
    if total is None or their_total is None or their_open is None:
        return merged
    open_here = max(0, int(total) - (int(their_total) - int(their_open)))
    if open_now is None or open_here < int(open_now):
        merged["open_minor"] = open_here
        merged["status"] = "paid" if open_here == 0 else "partially_paid"
        if incoming.get("paid_on") is not None:
            merged["paid_on"] = incoming["paid_on"]
    return merged


def is_copy(stored: Mapping[str, Any], connection: str) -> bool:
    """True when `connection` holds a copy of the stored invoice (it was issued elsewhere)."""
    origin = stored.get("origin_connection")
    return bool(origin) and origin != connection



def moves_copy_state(row: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    """True when the row merged from a copy (`merge_invoice_row`) moves a column a copy can move (`COPY_STATE`)."""
    return any(row[name] != stored[name] for name in COPY_STATE)


def payment_is_echo(written_hash: str | None, deleted: bool) -> bool:
    """True when a changed payment read back is the push's own copy (its link carries the write ledger).

    A payment the service deleted is not an echo: the deletion is news.
    """
    return written_hash is not None and not deleted
