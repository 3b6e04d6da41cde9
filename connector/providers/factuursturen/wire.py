"""FactuurSturen wire shapes: envelopes, keyed objects, and payment events derived from an invoice."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from connector.errors import NotFound, ProtocolError
from connector.providers.markers import marker

__all__ = ["decimal_or_none", "derive_payments", "expect_list", "keyed_values", "marker", "maybe_open", "unwrap"]

PROVIDER = "factuursturen"


def expect_list(body: Any, what: str) -> list[dict[str, Any]]:
    """Check that a list answer is a bare array of objects (the service's list envelope).

    Raises:
        ProtocolError: anything else.
    """
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise ProtocolError(f"{what}: expected a JSON array of objects, got {type(body).__name__}", provider=PROVIDER)
    return body


def unwrap(body: Any, key: str) -> dict[str, Any]:
    """Take a single record out of its singular wrapper (``{"invoice": {...}}``).

    The service was recorded answering a GET of an id it does not know with 200 and the whole list (a bare
    array) instead of a 404 (PROVIDERS.md decision 21): an array where the wrapper was expected is "not found".

    Raises:
        NotFound: the answer is an array (the id is unknown there).
        ProtocolError: the wrapper is missing.
    """
    if isinstance(body, dict) and isinstance(body.get(key), dict):
        return body[key]
    if isinstance(body, list):
        raise NotFound(f"no {key} with that id (the service answered its whole list)", status=200, provider=PROVIDER)
    raise ProtocolError(f"expected an object wrapped in {key!r}", provider=PROVIDER)


_DIGITS = "0123456789"


def _suffix(key: str) -> tuple[int, str]:
    """Order key: the key's digits as a number (``item12`` -> 12), then the key."""
    stem = key.rstrip(_DIGITS)
    if not stem or stem.isalpha():  # "item12": every digit is in the tail
        tail = key[len(stem) :]
        return (int(tail) if tail else 0, key)
    digits = "".join(filter(str.isdigit, key))
    return (int(digits) if digits else 0, key)


def keyed_values(value: Any) -> list[Any]:
    """Return the members of a ``line1``/``item1``-keyed object in numeric order; ``[]`` and lists pass through."""
    if isinstance(value, dict):
        if len(value) < 2:
            return list(value.values())
        return [value[k] for k in sorted(value, key=_suffix)]
    if isinstance(value, list):
        return value
    return []


def _amount(value: Any) -> Decimal | None:
    kind = type(value)
    if kind is Decimal:  # a JSON number (decoded with parse_float=Decimal): already exact
        return value
    if kind is bool or value is None or value == "":
        return None
    try:
        return Decimal(value if kind is str else str(value))
    except InvalidOperation:
        return None


def decimal_or_none(value: Any) -> Decimal | None:
    """A wire amount (string, JSON number or Decimal) as a Decimal; None when it is empty or unreadable."""
    return _amount(value)


def maybe_open(invoice: dict[str, Any]) -> bool:
    """Whether the service may count the invoice as open (``filter=open``: an open amount above zero).

    An unreadable amount counts as open: remembering one invoice too many costs one read later, one
    too few could miss its payment.
    """
    amount = _amount(invoice.get("open"))
    return amount is None or amount > 0


def derive_payments(invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """Derive one payment record per payment event of an invoice (the service has no payment list).

    Each history item that carries an ``amount`` is a payment, numbered in history order, so its id
    (``<invoice id>:<n>``) is stable while history only grows. When the paid total (total - open) is
    more than the history shows (a payment registered at creation, ``alreadypaid``), the difference
    becomes one more payment ``<invoice id>:rest`` dated ``paiddate``. Values stay wire-typed strings;
    an unreadable amount is passed through for the mapping to quarantine.
    """
    invoice_id = str(invoice.get("id", ""))
    number = str(invoice.get("invoicenr_full") or invoice.get("invoicenr") or "")
    events = [
        h for h in keyed_values(invoice.get("history")) if isinstance(h, dict) and h.get("amount") not in (None, "")
    ]
    payments = []
    seen_total = Decimal(0)
    for n, item in enumerate(events, start=1):
        amount = _amount(item.get("amount"))
        seen_total += amount or 0
        payments.append(
            _payment(
                f"{invoice_id}:{n}", invoice_id, number, item.get("date", ""), item.get("time", ""), item.get("amount")
            )
        )
    total, open_ = _amount(invoice.get("totalintax")), _amount(invoice.get("open"))
    if total is not None and open_ is not None:
        rest = total - open_ - seen_total
        if rest != 0 and invoice.get("paiddate"):
            payments.append(_payment(f"{invoice_id}:rest", invoice_id, number, invoice["paiddate"], "", rest))
    return payments


def _payment(pid: str, invoice_id: str, number: str, date: Any, time: Any, amount: Any) -> dict[str, Any]:
    text = f"{amount:.2f}" if isinstance(amount, Decimal) else str(amount)
    return {
        "id": pid,
        "invoice_id": invoice_id,
        "invoicenr": number,
        "date": str(date or ""),
        "time": str(time or ""),
        "amount": text,
        "method": "",
        "currency": "EUR",
    }
