"""Small dialect-aware SQL helpers shared by the store's writers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, Connection, Table, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["allocate_ids", "bulk_insert", "chunks", "insert_with_ids", "upsert"]


def upsert(conn: Connection, table: Table, values: dict[str, Any], keys: Sequence[str]) -> None:
    """Insert `values` into `table`, or update the row with the same `keys`."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(table).values(**values)
    updates = {k: statement.excluded[k] for k in values if k not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=updates))


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    """Yield consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def allocate_ids(conn: Connection, table: Table, n: int) -> list[int]:
    """Reserve `n` primary keys of `table` for a bulk insert in this transaction.

    PostgreSQL draws them from the table's sequence; SQLite takes the next ones after the current
    maximum, which is safe because every SQLite transaction here starts with BEGIN IMMEDIATE (the write
    lock is held from the start, see `connector.store.db`). Bulk inserts with RETURNING fall back to one
    statement per row on SQLite, so explicit ids keep the hot path batched.
    """
    if n <= 0:
        return []
    if conn.dialect.name == "postgresql":
        statement = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
        return [int(i) for i in conn.execute(statement, {"table": table.name, "n": n}).scalars()]
    first = int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
    return list(range(first, first + n))


def insert_with_ids(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert `rows` in one batched statement with allocated ids; return the ids in row order."""
    ids = allocate_ids(conn, table, len(rows))
    if ids:
        bulk_insert(conn, table, [{**row, "id": i} for i, row in zip(ids, rows, strict=True)])
    return ids


_EMPTY_JSON = "{}"


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows (all with the same keys) through the driver's executemany.

    Each value goes through its column type's own bind processor, exactly as SQLAlchemy would convert
    it, but the statement is compiled once and no per-row parameter dictionaries are built; an empty
    JSON object skips the encoder. This is the hot path of a first load (DESIGN.md "Performance").
    """
    if not rows:
        return
    dialect = conn.dialect
    columns = list(rows[0])
    processors = []
    for name in columns:
        column = table.c[name]
        processor = column.type._cached_bind_processor(dialect)
        processors.append((processor, column.type._type_affinity is JSON))
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    quoted = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
    markers = ", ".join([marker] * len(columns))
    sql = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({quoted}) VALUES ({markers})"
    params = []
    for row in rows:
        values = []
        for name, (processor, is_json) in zip(columns, processors, strict=True):
            value = row[name]
            if is_json and value == {}:
                values.append(_EMPTY_JSON)
            elif processor is not None and value is not None:
                values.append(processor(value))
            else:
                values.append(value)
        params.append(tuple(values))
    conn.exec_driver_sql(sql, params)
