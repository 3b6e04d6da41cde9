"""Transforms particular to the FactuurSturen mapping; importing this module registers them.

An invoice-level discount (PROVIDERS.md section 3: ``discounttype`` percentage|amount, ``discount``; the client's
``stddiscount`` when the invoice names none) lowers each VAT rate's base (``taxes.sum_of``) below the sum of its
lines' ``linetotal``: a percentage per rate, rounded half up to cents per rate; an amount spread over the rates.
The canonical invoice keeps it as ``discount_minor`` (see docs/decisions.md), so its subtotal is the lines less it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connector.domain import InvoiceStatus
from connector.mapping.composite import keyed_items
from connector.mapping.registry import (
    CURRENCY_EXPONENT,
    Inbound,
    Outbound,
    References,
    Transform,
    exponent_of,
    register,
)
from connector.mapping.values import to_decimal
from connector.money import minor_text, minor_units, round_half_up

__all__: list[str] = []

_HUNDRED = Decimal(100)


def _rate_bases(lines: Any) -> dict[Decimal, Decimal]:
    """Sum of `linetotal` per `tax_rate` over the lines (keyed object or list) that count."""
    bases: dict[Decimal, Decimal] = {}
    for line in keyed_items(lines):
        if type(line) is not dict:
            raise ValueError(f"expected an invoice line object, got {type(line).__name__}")
        total = line.get("linetotal")
        if total in (None, ""):
            continue
        rate = to_decimal(line.get("tax_rate") if line.get("tax_rate") not in (None, "") else 0)
        bases[rate] = bases.get(rate, Decimal(0)) + to_decimal(total)
    return bases


def _invoice_discount(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    exponent = exponent_of(params)

    def inbound(values: tuple[Any, ...]) -> int:
        amount, kind, lines = values  # `discount` first: the outbound writes to the first path
        discount = to_decimal(amount) if amount not in (None, "") else Decimal(0)
        if not discount:
            return 0
        if kind == "amount":
            taken = discount
        elif kind in ("percentage", "", None):  # an empty type is a percentage, as the service reads it
            if not 0 < discount <= _HUNDRED:
                raise ValueError(f"a discount of {discount}% is not a percentage")
            taken = sum(
                (base - round_half_up(base * (_HUNDRED - discount) / _HUNDRED, exponent)
                 for base in _rate_bases(lines).values()),
                Decimal(0),
            )
        else:
            raise ValueError(f"unknown discounttype {kind!r} (percentage or amount)")
        return minor_units(taken, exponent)

    def outbound(value: int | None) -> str:
        # Always an amount, "0.00" included: without one the service applies the client's standard discount
        # to an invoice whose totals were made elsewhere (the provider sends it with discounttype=amount).
        if value is not None and type(value) is not int:
            raise ValueError(f"minor units must be an int, got {value!r}")
        return minor_text(value or 0, exponent)

    return inbound, outbound


def _is_empty(value: Any) -> bool:
    return value is None or (type(value) is str and not value.strip()) or value == [] or value == {}


def _invoice_status(params: Mapping[str, Any], refs: References) -> tuple[Inbound, None]:
    """Derive the canonical status from [open, totalintax, uncollectible].

    No clock here, so `overdue` is never produced: it is a function of `due_on`, `open_minor` and
    today, which the reader of the canonical store computes.
    """

    def inbound(values: tuple[Any, ...]) -> str:
        open_raw, total_raw, uncollectible = values
        if uncollectible and not _is_empty(uncollectible):
            return InvoiceStatus.UNCOLLECTIBLE.value
        if open_raw is None or open_raw == "" or total_raw is None or total_raw == "":
            raise ValueError(f"factuursturen_invoice_status needs both amounts, got {open_raw!r} and {total_raw!r}")
        open_, total = to_decimal(open_raw), to_decimal(total_raw)
        if total < 0:  # a credit invoice: compare magnitudes
            open_, total = -open_, -total
        if not open_:
            return InvoiceStatus.PAID.value
        if open_ < 0:
            return InvoiceStatus.OVERPAID.value
        return InvoiceStatus.PARTIALLY_PAID.value if open_ < total else InvoiceStatus.SENT.value

    return inbound, None


register(Transform(
    "factuursturen_invoice_status",
    _invoice_status,
    (str,),
    arity=3,
    reversible=False,
    summary="[open, totalintax, uncollectible] -> uncollectible|paid|overpaid|partially_paid|sent",
))
register(Transform(
    "factuursturen_invoice_discount",
    _invoice_discount,
    (int,),
    {"exponent": CURRENCY_EXPONENT},
    arity=3,
    summary="[discount, discounttype, lines] -> the invoice-level discount in cents (a percentage per VAT "
            "rate, rounded per rate, or an amount); outbound the amount as text",
    per_currency=True,
))
