"""The connector's mark on what it creates at a service without idempotency keys.

A short text, stable per idempotency key (one entity version), that a provider leaves in a field the
service keeps (a reference line, notes, an external id) and searches for after an ambiguous create.
`unmarked` takes it out of a value read back, so it never becomes canonical data.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["found_marker", "marker", "unmarked"]

_MARK = re.compile(r"(?:^|\s+)sync:[0-9a-f]{16}(?=\s|$)")


def marker(idempotency_key: str | None) -> str:
    """Return ``sync:<16 hex digits>`` for the key."""
    digest = hashlib.blake2b((idempotency_key or "").encode(), digest_size=8).hexdigest()
    return f"sync:{digest}"


def unmarked(text: str | None) -> str | None:
    """`text` without the connector's markers (None when nothing else is left); other text passes unchanged."""
    if not text or "sync:" not in text:
        return text
    rest = _MARK.sub("", text).strip()
    return rest or None


def found_marker(text: object) -> str | None:
    """The connector's marker in a value read back, if it carries one (None otherwise)."""
    if not isinstance(text, str) or "sync:" not in text:
        return None
    found = _MARK.search(text)
    return found.group(0).strip() if found else None
