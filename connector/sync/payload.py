"""Stable text and hashes of raw payloads and canonical projections."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

from connector.domain import CanonicalClient, CanonicalInvoice, CanonicalLine, CanonicalPayment

__all__ = ["digest", "dump_payload", "load_payload", "projection_hash"]


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# One encoder for every payload: `json.dumps` with options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_default)


def dump_payload(data: Any) -> str:
    """Serialise a raw payload compactly, keeping the service's key order (Decimals become strings)."""
    return _ENCODER.encode(data)


def load_payload(text: str) -> Any:
    """Read a stored raw payload back, numbers as `Decimal`."""
    return json.loads(text, parse_float=Decimal)


def digest(text: str) -> str:
    """Return a short, stable content hash of `text`."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


_SKIP = frozenset(
    {"remote_id", "remote_updated_at", "invoice_remote_id", "client_remote_id", "lines", "discount_minor"}
)
_GETTERS: dict[tuple[type, frozenset[str]], Callable[[Any], list[Any]]] = {}


def _values_of(cls: type, skip: frozenset[str]) -> Callable[[Any], list[Any]]:
    """Return values(record) -> the record's slot values in declaration order, `skip` left out (cached)."""
    getter = _GETTERS.get((cls, skip))
    if getter is None:
        names = tuple(name for name in cls.__slots__ if name not in skip)  # type: ignore[attr-defined]
        if len(names) > 1:
            get = attrgetter(*names)
            getter = lambda record: list(get(record))  # noqa: E731
        else:
            getter = lambda record: [getattr(record, name) for name in names]  # noqa: E731
        _GETTERS[(cls, skip)] = getter
    return getter


def projection_hash(record: CanonicalClient | CanonicalInvoice | CanonicalPayment, **resolved: Any) -> str:
    """Hash the canonical content of a record (ids at the service excluded, resolved canonical ids included)."""
    values = _values_of(type(record), _SKIP)(record)
    if isinstance(record, CanonicalInvoice):
        line_values = _values_of(CanonicalLine, frozenset())
        values.append([line_values(line) for line in record.lines])
        if record.discount_minor:  # only when there is one: the hashes of invoices without stay what they were
            values.append(("discount_minor", record.discount_minor))
    values.append(sorted(resolved.items()))
    return digest(repr(values))
