"""Checks on mapped records that no mapping file can switch off: every value fits the store, money adds up."""

from __future__ import annotations

from connector.domain import CanonicalClient, CanonicalInvoice, CanonicalPayment, CanonicalRecord, EntityKind
from connector.errors import MappingError
from connector.sync.fits import check_fits

__all__ = ["check_record"]


def check_record(record: CanonicalRecord) -> None:
    """Raise `MappingError` when a record does not fit the store or is internally inconsistent.

    Raises:
        MappingError: a value the store cannot take as it is (`fits`), a currency that is not an ISO 4217
            code, an invoice whose subtotal differs from its lines, or whose total is not subtotal + tax.
    """
    check_fits(record)
    currency = record.currency
    if currency is not None and not (len(currency) == 3 and currency.isascii() and currency.isalpha()
                                     and currency.isupper()):
        raise MappingError(_ENTITY[type(record)], "currency", f"{currency!r} is not an ISO 4217 code (like 'EUR')")
    if isinstance(record, CanonicalInvoice):
        lines_total = sum(line.line_total_minor for line in record.lines)
        if record.subtotal_minor != lines_total - record.discount_minor:
            less = f" less the discount {record.discount_minor}" if record.discount_minor else ""
            raise MappingError(
                EntityKind.INVOICE,
                "subtotal_minor",
                f"{record.subtotal_minor} differs from the sum of lines {lines_total}{less}",
            )
        if record.subtotal_minor + record.tax_minor != record.total_minor:
            raise MappingError(
                EntityKind.INVOICE,
                "total_minor",
                f"{record.total_minor} differs from subtotal {record.subtotal_minor} + tax {record.tax_minor}",
            )


_ENTITY = {
    CanonicalClient: EntityKind.CLIENT, CanonicalInvoice: EntityKind.INVOICE, CanonicalPayment: EntityKind.PAYMENT
}
