"""The service's reference lists (e.g. FactuurSturen's country list), kept between runs.

A pull fetches them fresh and keeps a copy in `sync_state` (stream ``_references``), so a push can bind
its mapping without spending a request of a tight budget, and a dry run can bind it without any request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from connector.store import runs

__all__ = ["REFERENCES_STREAM", "cached_references", "references_for", "save_references"]

REFERENCES_STREAM = "_references"
References = dict[str, list[dict[str, Any]]]


def save_references(conn: Connection, connection: str, references: References, now: datetime) -> None:
    """Keep the latest copy of the reference lists of `connection`."""
    if references:
        runs.save_cursor(conn, connection, REFERENCES_STREAM, {"lists": references}, now)


def cached_references(engine: Engine, connection: str) -> References:
    """The kept copy (empty if a pull never fetched any)."""
    state = runs.load_cursor(engine, connection, REFERENCES_STREAM)
    return dict(state.get("lists") or {})


def references_for(
    engine: Engine, connection: str, needed: set[str], fetch: Callable[[set[str]], References] | None, now: datetime
) -> References:
    """The lists `needed`: the kept copy where complete, else fetched (when `fetch` is given) and kept.

    A dry run passes no `fetch`, so whatever is missing stays missing.
    """
    cached = cached_references(engine, connection)
    missing = needed - set(cached)
    if missing and fetch is not None:
        cached.update(fetch(missing))
        with engine.begin() as conn:
            save_references(conn, connection, cached, now)
    return {name: cached[name] for name in needed if name in cached}
