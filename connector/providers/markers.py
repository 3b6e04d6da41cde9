"""The connector's mark on what it creates at a service without idempotency keys.

A short text, stable per idempotency key (one entity version), that a provider leaves in a field the
service keeps (a reference line, notes, an external id) and searches for after an ambiguous create.
"""

from __future__ import annotations

import hashlib

__all__ = ["marker"]


def marker(idempotency_key: str | None) -> str:
    """Return ``sync:<16 hex digits>`` for the key."""
    digest = hashlib.blake2b((idempotency_key or "").encode(), digest_size=8).hexdigest()
    return f"sync:{digest}"
