"""Processing rules: due dates, line amounts and totals (decimal euros, 2 places, half up).

* ``due_date`` = ``date + due_days`` (``nf``, the default), or the last day of the month that
  ``date + due_days`` falls in (``em``, "einde maand"). Without ``due_days`` the term is 30 days.
* Per line: ``excl = round(quantity x unit_price)``. An invoice discount is spread over the lines:
  a percentage as ``round(excl x pct / 100)`` per line, an amount pro rata to ``excl`` with the
  rounding rest on the last line, so the shares add up to the amount. Then per line
  ``vat = round(net x vat_rate / 100)`` on the net amount (0 under a ``vat_exemption_code``).
* Totals: ``excl`` = sum of the net line amounts, ``vat`` = sum of the line VAT, ``incl`` = excl + vat,
  plus ``discount`` (sum of the shares) when a discount was given. ``round`` is half up to cents.
"""

from __future__ import annotations

import calendar
from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sandboxes.facturalia.errors import validation_error
from sandboxes.facturalia.inputs import InvoiceInput, LineInput

__all__ = ["DEFAULT_DUE_DAYS", "Amounts", "compute_amounts", "due_date", "next_number"]

DEFAULT_DUE_DAYS = 30
_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")


def _round(value: Decimal) -> Decimal:
    return value.quantize(_CENT, ROUND_HALF_UP)


def due_date(day: date, due_days: int | None, after: str) -> date:
    """The due date of an invoice dated `day` (see the module docstring)."""
    due = day + timedelta(days=DEFAULT_DUE_DAYS if due_days is None else due_days)
    if after == "em":
        due = due.replace(day=calendar.monthrange(due.year, due.month)[1])
    return due


@dataclass(frozen=True, slots=True)
class Amounts:
    """Every amount of one invoice: per line (excl before discount, VAT) and the totals."""

    line_excl: tuple[Decimal, ...]
    line_vat: tuple[Decimal, ...]
    excl: Decimal
    vat: Decimal
    incl: Decimal
    discount: Decimal | None


def _shares(excl: Sequence[Decimal], invoice: InvoiceInput) -> list[Decimal]:
    """Each line's part of the invoice discount."""
    if invoice.discount_percent is not None:
        return [_round(e * invoice.discount_percent / 100) for e in excl]
    amount = invoice.discount_amount
    subtotal = sum(excl, _ZERO)
    if not amount:
        return [_ZERO for _ in excl]
    if amount > subtotal:
        raise validation_error({"invoice.discount_amount": "Mag niet hoger zijn dan het totaal excl. btw."})
    shares = [_round(amount * e / subtotal) for e in excl]
    last = max(i for i, e in enumerate(excl) if e)
    shares[last] += amount - sum(shares, _ZERO)
    return shares


def compute_amounts(invoice: InvoiceInput, lines: Sequence[LineInput]) -> Amounts:
    """Compute line amounts and totals.

    Raises:
        ApiError: 422 when a discount amount is more than the total excluding VAT.
    """
    excl = [_round(line.quantity * line.unit_price) for line in lines]
    shares = _shares(excl, invoice)
    net = [e - s for e, s in zip(excl, shares, strict=True)]
    exempt = invoice.vat_exemption_code is not None
    vat = [_ZERO if exempt else _round(n * line.vat_rate / 100) for n, line in zip(net, lines, strict=True)]
    total_excl, total_vat = sum(net, _ZERO), sum(vat, _ZERO)
    given = invoice.discount_amount is not None or invoice.discount_percent is not None
    return Amounts(tuple(excl), tuple(vat), total_excl, total_vat, total_excl + total_vat,
                   sum(shares, _ZERO) if given else None)


def next_number(year: int, sequence: int, taken: Container[str]) -> tuple[str, int]:
    """The next free automatic number ``YYYY-NNNN`` after `sequence` in `year`; returns (number, sequence)."""
    while True:
        sequence += 1
        number = f"{year}-{sequence:04d}"
        if number not in taken:
            return number, sequence
