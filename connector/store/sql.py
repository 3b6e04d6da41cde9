"""Small dialect-aware SQL helpers shared by the store's writers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Connection, Date, Table, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from connector.store.types import DecimalText

__all__ = [
    "allocate_ids",
    "chunks",
    "insert_columns",
    "insert_columns_with_ids",
    "upsert",
]


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


def insert_columns_with_ids(conn: Connection, table: Table, columns: Mapping[str, Sequence[Any]], n: int) -> list[int]:
    """Insert `n` rows given column by column with allocated ids; return the ids in row order."""
    ids = allocate_ids(conn, table, n)
    if ids:
        insert_columns(conn, table, columns, ids=ids)
    return ids


_EMPTY_JSON = "{}"
_DECIMAL_SAMPLE = Decimal("-1.50")
_plain_decimals: dict[Any, bool] = {}


def _writes_decimals_as_text(processor: Any) -> bool:
    """Whether `processor` turns a Decimal into exactly its `str` (DecimalText does); checked once per processor."""
    known = _plain_decimals.get(processor)
    if known is None:
        try:
            known = _plain_decimals[processor] = processor(_DECIMAL_SAMPLE) == str(_DECIMAL_SAMPLE)
        except Exception:  # a processor that refuses Decimals has no shortcut
            known = _plain_decimals[processor] = False
    return known


def _processed(values: list[Any], processor: Any, column_type: Any) -> list[Any]:
    """Convert one column's values for the driver, as the column type's own bind processor would.

    A value repeated across the batch is converted once; so is each distinct date of a date column
    (equal dates convert alike); a Decimal stored as text is its `str`.
    """
    if column_type._type_affinity is JSON:
        return [_EMPTY_JSON if v == {} else (processor(v) if v is not None else None) for v in values]
    if processor is None:
        return values
    first = values[0]
    if all(v is first for v in values):  # e.g. the same `now` in every row's timestamps
        return [None if first is None else processor(first)] * len(values)
    if isinstance(column_type, DecimalText) and _writes_decimals_as_text(processor):
        return [None if v is None else str(v) if type(v) is Decimal else processor(v) for v in values]
    if column_type._type_affinity is Date:
        seen: dict[date, Any] = {}
        out = []
        for v in values:
            if type(v) is date:
                text = seen.get(v)
                if text is None:
                    text = seen[v] = processor(v)
                out.append(text)
            else:
                out.append(None if v is None else processor(v))
        return out
    return [None if v is None else processor(v) for v in values]


def insert_columns(
    conn: Connection, table: Table, columns: Mapping[str, Sequence[Any]], *, ids: Sequence[int] | None = None
) -> None:
    """Insert rows given column by column (all columns of one length).

    Each value goes through its column type's own bind processor, exactly as SQLAlchemy would convert
    it, but the statement is compiled once, values are converted column by column (a value shared by
    every row, like a timestamp, once) and no per-row parameter dictionaries are built; an empty JSON
    object skips the encoder. This is the hot path of a first load (DESIGN.md "Performance").
    `ids`, when given, fills the `id` column (one per row, in order).
    """
    names = list(columns)
    if not names or not len(columns[names[0]]):
        return
    dialect = conn.dialect
    converted: list[Sequence[Any]] = []
    if ids is not None:
        names.insert(0, "id")
        converted.append(ids)
    for name in names[len(converted) :]:
        column_type = table.c[name].type
        processor = column_type._cached_bind_processor(dialect)
        converted.append(_processed(list(columns[name]), processor, column_type))
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    quoted = ", ".join(dialect.identifier_preparer.quote(c) for c in names)
    markers = ", ".join([marker] * len(names))
    sql = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({quoted}) VALUES ({markers})"
    conn.exec_driver_sql(sql, list(zip(*converted, strict=True)))
