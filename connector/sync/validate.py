"""Checks on mapped records that no mapping file can switch off: money must add up."""

from __future__ import annotations

from connector.domain import CanonicalInvoice, CanonicalPayment, CanonicalRecord
from connector.errors import MappingError

__all__ = ["check_record"]


def check_record(record: CanonicalRecord) -> None:
    """Raise `MappingError` when a record is internally inconsistent.

    Raises:
        MappingError: an invoice whose subtotal differs from its lines, or whose total is not subtotal + tax.
    """
    if isinstance(record, CanonicalInvoice):
        lines_total = sum(line.line_total_minor for line in record.lines)
        if record.subtotal_minor != lines_total:
            raise MappingError(
                "invoice", "subtotal_minor", f"{record.subtotal_minor} differs from the sum of lines {lines_total}"
            )
        if record.subtotal_minor + record.tax_minor != record.total_minor:
            raise MappingError(
                "invoice",
                "total_minor",
                f"{record.total_minor} differs from subtotal {record.subtotal_minor} + tax {record.tax_minor}",
            )
    elif isinstance(record, CanonicalPayment) and record.amount_minor == 0:
        raise MappingError("payment", "amount_minor", "a payment of zero")
