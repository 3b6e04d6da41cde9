"""Reads and writes of `conflict`: what a connection's conflict policy decided, kept with both versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from connector.store.tables import conflict_table

__all__ = ["insert_conflict", "latest_conflicts"]

_conflict = conflict_table


def insert_conflict(
    conn: Connection,
    kind: str,
    entity_id: int,
    fields: str,
    policy: str,
    versions: dict[str, Any],
    decision: str,
    now: datetime,
) -> None:
    """Keep one decided conflict (`fields` and `decision` are cut to their columns' length)."""
    conn.execute(
        _conflict.insert().values(
            entity_kind=kind,
            entity_id=entity_id,
            field=fields[:100],
            policy=policy,
            versions=versions,
            decision=decision[:100],
            created_at=now,
        )
    )


def latest_conflicts(conn: Connection, limit: int = 200) -> list[dict[str, Any]]:
    """The latest conflict rows, newest first."""
    rows = conn.execute(select(_conflict).order_by(_conflict.c.id.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]
