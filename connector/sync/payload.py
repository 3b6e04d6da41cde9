"""Stable text and hashes of raw payloads and canonical projections."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.domain import CanonicalClient, CanonicalInvoice, CanonicalPayment

__all__ = ["digest", "dump_payload", "load_payload", "projection_hash"]


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dump_payload(data: Any) -> str:
    """Serialise a raw payload compactly, keeping the service's key order (Decimals become strings)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=_default)


def load_payload(text: str) -> Any:
    """Read a stored raw payload back, numbers as `Decimal`."""
    return json.loads(text, parse_float=Decimal)


def digest(text: str) -> str:
    """Return a short, stable content hash of `text`."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _values(record: Any, skip: frozenset[str]) -> list[Any]:
    return [getattr(record, name) for name in record.__slots__ if name not in skip]


_SKIP = frozenset({"remote_id", "remote_updated_at", "invoice_remote_id", "client_remote_id"})


def projection_hash(record: CanonicalClient | CanonicalInvoice | CanonicalPayment, **resolved: Any) -> str:
    """Hash the canonical content of a record (ids at the service excluded, resolved canonical ids included)."""
    values = _values(record, _SKIP | {"lines"})
    if isinstance(record, CanonicalInvoice):
        values.append([_values(line, frozenset()) for line in record.lines])
    values.append(sorted(resolved.items()))
    return digest(repr(values))
