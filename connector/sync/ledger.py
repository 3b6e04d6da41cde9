"""The write ledger: what the connector wrote to a service, as pull and push both need to know it.

A push keeps, per link, the hash of the *image* it wrote (the mapping's outbound dict: the content a push
writes, without what the service works out itself) and the image itself as the link's raw record. A later
pull recognises its own echo by that hash even when the service reformats what it was sent, and the push
tells a target that already holds an entity's content from one that needs it. This module is neutral: the
pull and the push packages both import it, never each other.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.sync.payload import digest

__all__ = ["is_written", "ledger_hash"]


def ledger_hash(image: dict[str, Any]) -> str:
    """Hash an image so that spellings of the same value agree (12.5 and "12.50", 3 and 3.0, key order)."""
    return digest(json.dumps(_plain(image), sort_keys=True, separators=(",", ":"), ensure_ascii=False))


def is_written(image: object, written_hash: str | None) -> bool:
    """True when `image` (a link's raw record, decoded) is what the push wrote there: its ledger hash is the
    link's `written_hash`. False when the link has no write ledger or its raw record was read since."""
    return written_hash is not None and isinstance(image, dict) and ledger_hash(image) == written_hash


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, Decimal)):
        return format(Decimal(value).normalize(), "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)
