"""How commands print: instants always with their zone, and `--json` output with real JSON types.

Every instant the store keeps is UTC (SQLite hands it back without a zone); printed, it always carries its
offset (``2026-12-07T18:40:41+00:00``), in text and in JSON alike, so nobody has to guess the zone.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

from connector.clock import as_utc

__all__ = ["print_json", "to_json", "when"]


def when(value: datetime | None) -> str:
    """An instant in ISO 8601 with its offset (a naive one is the store's UTC); ``-`` for none."""
    moment = as_utc(value)
    return moment.isoformat() if moment is not None else "-"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)  # exact: a float would round money
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(data: Any) -> str:
    """`data` as indented JSON: instants with their zone, decimals as exact strings."""
    return json.dumps(data, indent=2, default=_plain, ensure_ascii=False)


def print_json(data: Any, out: TextIO | None = None) -> None:
    """Print `data` as JSON (see `to_json`) on `out` (stdout by default)."""
    print(to_json(data), file=out or sys.stdout)
