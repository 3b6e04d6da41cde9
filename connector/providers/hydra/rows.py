"""An invoice row's wire body: the net amount it must come to, said in the service's own terms.

The service keeps ``netPrice`` with two decimals and derives a row's net itself:
``netAmount = round_half_up(quantity x netPrice, 2) - netDiscountAmount``; ``netAmount`` cannot be written.
A line priced in tenths of a cent (5.952) or discounted by a percentage would therefore come out a few
cents off the origin's line total, and the invoice's totals (and what a full payment leaves open) with it.
So the mapping hands the provider the net the row must reach (``netAmount``), and `row_body` turns it into
a price in cents (rounded up when rounding to the nearest cent would fall short) and the discount that
closes the gap.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

__all__ = ["number", "row_body"]

_CENT = Decimal("0.01")


def _round2(value: Decimal) -> Decimal:
    return value.quantize(_CENT, ROUND_HALF_UP)


def number(value: Any) -> Decimal | None:
    """A wire number or decimal string as a Decimal; None for a missing or unreadable value."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def row_body(line: dict[str, Any]) -> dict[str, Any]:
    """The row to send: ``netAmount`` (the net to reach) becomes ``netPrice`` and ``netDiscountAmount``.

    Rows without a positive quantity, price or net, and values that are not numbers, are sent as
    mapped (without ``netAmount``); the service will answer for them.
    """
    body = dict(line)
    net = number(body.pop("netAmount", None))
    quantity, price = number(body.get("quantity")), number(body.get("netPrice"))
    if net is None or quantity is None or price is None or quantity <= 0 or price <= 0 or net <= 0:
        return body
    price = price.quantize(_CENT, ROUND_HALF_UP)
    if _round2(quantity * price) < net:  # the nearest cent falls short: the smallest cent price that reaches it
        price = (net / quantity).quantize(_CENT, ROUND_CEILING)
    body["netPrice"] = f"{price:.2f}"
    body["netDiscountAmount"] = f"{_round2(quantity * price) - net:.2f}"
    return body
