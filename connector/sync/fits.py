"""Whether a canonical record fits the store, read off the table definitions rather than a hand list.

A service may send anything: an amount of 26 digits, ``1e9999``, a currency of ``5``. Written as it came, such
a value fails the whole page's transaction (an ``OverflowError`` in SQLite, a ``DataError`` in PostgreSQL, a
``ValueError`` from Python's 4,300-digit limit), on every rerun, so one record blocks its stream. So every
field of a mapped record is checked against the column it will be stored in, before any write: its Python
type, a whole number within the column's integer range, a decimal finite and within the column's text length,
a string within a bounded column's length, a required column given, an `extra` that JSON can hold. A record
that does not fit raises `MappingError` naming the field, and goes to quarantine with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Date, DateTime, Integer, String
from sqlalchemy.types import TypeDecorator

from connector.domain import CanonicalClient, CanonicalInvoice, CanonicalLine, CanonicalPayment, EntityKind
from connector.errors import MappingError
from connector.store.tables import client_table, invoice_line_table, invoice_table, link_table, payment_table
from connector.store.types import DecimalText

__all__ = ["check_fits"]

Check = Callable[[Any], str | None]  # a value -> None when it fits, else what is wrong with it
Rule = tuple[Check, str]  # the check, and the same test as a Python expression over `v` (the compiled fast path)

# canonical field -> the column it is stored in, where the names differ (remote ids live on the link)
_ELSEWHERE = {
    "remote_id": link_table.c.remote_id,
    "client_remote_id": link_table.c.remote_id,
    "invoice_remote_id": link_table.c.remote_id,
}
_NOT_STORED_AS_IS = frozenset({"archived", "lines"})  # a flag stored as a moment; lines checked one by one
# a record is nothing without them: its own id, a payment's invoice, an invoice's client
_REQUIRED = frozenset({"remote_id", "invoice_remote_id", "client_remote_id"})


def _integer(bits: int) -> Rule:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def check(value: Any) -> str | None:
        if type(value) is not int:
            return f"expected a whole number, got {type(value).__name__} {_short(value)}"
        return None if low <= value <= high else f"{_short(value)} is out of range ({low}..{high})"

    return check, f"type(v) is int and {low} <= v <= {high}"


def _text(length: int | None) -> Rule:
    def check(value: Any) -> str | None:
        if type(value) is not str:
            return f"expected text, got {type(value).__name__} {_short(value)}"
        if length is not None and len(value) > length:
            return f"{_short(value)} is longer than {length} characters"
        return None

    return check, "type(v) is str" + ("" if length is None else f" and len(v) <= {length}")


def _decimal(length: int) -> Rule:
    # Stored as its text (DecimalText), which must fit; and within `length` digits of the point either way, so
    # the plain text a push writes (no exponent) stays short too.
    def check(value: Any) -> str | None:
        if type(value) is not Decimal:
            return f"expected a decimal number, got {type(value).__name__} {_short(value)}"
        if not value.is_finite():
            return f"{value} is not a finite number"
        if not -length <= value.adjusted() < length or len(str(value)) > length:
            return f"{_short(value)} does not fit {length} characters"
        return None

    fast = f"v.is_finite() and {-length} <= v.adjusted() < {length} and len(str(v)) <= {length}"
    return check, "type(v) is Decimal and " + fast


def _instance(kind: type) -> Rule:
    def check(value: Any) -> str | None:
        if isinstance(value, kind) and (kind is datetime or type(value) is not datetime):
            return None
        return f"expected a {kind.__name__}, got {type(value).__name__} {_short(value)}"

    return check, "isinstance(v, datetime)" if kind is datetime else "type(v) is date"


def _json(value: Any) -> str | None:
    if not value:
        return None
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        return f"not storable as JSON ({type(exc).__name__}: {_short(str(exc))})"
    return None


_SCALARS = (str, bool, type(None))


def _plain_json(value: Any, depth: int = 0) -> bool:
    """The cheap proof that `value` encodes as JSON (`json.dumps` costs several microseconds a record)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is int:
        return value.bit_length() < 14_000  # Python's int-to-text limit is 4,300 digits
    if kind is float:
        return bool(value == value and abs(value) != float("inf"))
    if depth > 50:
        return False
    if kind is dict:
        return all(type(k) is str and _plain_json(v, depth + 1) for k, v in value.items())
    if kind is list:
        return all(_plain_json(v, depth + 1) for v in value)
    return False


def _short(value: Any) -> str:
    if isinstance(value, int) and abs(value) >= 10**60:  # repr() refuses past 4,300 digits
        return f"a number of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _column_check(column: Column[Any]) -> Rule:
    kind = column.type
    if isinstance(kind, DecimalText):
        return _decimal(getattr(kind.impl_instance, "length", None) or 40)
    if isinstance(kind, TypeDecorator):  # SQLModel's AutoString(n) is a VARCHAR(n)
        kind = kind.impl_instance
    if isinstance(kind, BigInteger):
        return _integer(64)
    if isinstance(kind, Integer):
        return _integer(32)
    if isinstance(kind, String):  # Text, AutoString and VARCHAR(n) alike
        return _text(kind.length)
    if isinstance(kind, DateTime):
        return _instance(datetime)
    if isinstance(kind, Date):
        return _instance(date)
    if isinstance(kind, JSON):
        return _json, "not v or _plain_json(v)"
    raise TypeError(f"no fit check for column {column} of type {kind!r}")


def _plan(cls: type, table: Any) -> tuple[tuple[str, Rule, bool], ...]:
    """(field, rule, required) per stored field of the canonical dataclass `cls`."""
    plan = []
    for f in fields(cls):
        if f.name in _NOT_STORED_AS_IS:
            continue
        column = _ELSEWHERE.get(f.name, table.c.get(f.name))
        if column is None:
            raise TypeError(f"canonical field {cls.__name__}.{f.name} has no column in {table.name}")
        required = f.name in _REQUIRED or (not column.nullable and f.name not in _ELSEWHERE)
        plan.append((f.name, _column_check(column), required))
    return tuple(plan)


_PLANS = {
    CanonicalClient: (EntityKind.CLIENT, _plan(CanonicalClient, client_table)),
    CanonicalInvoice: (EntityKind.INVOICE, _plan(CanonicalInvoice, invoice_table)),
    CanonicalLine: (EntityKind.INVOICE, _plan(CanonicalLine, invoice_line_table)),
    CanonicalPayment: (EntityKind.PAYMENT, _plan(CanonicalPayment, payment_table)),
}


def _compile(plan: tuple[tuple[str, Rule, bool], ...], lines: bool) -> Callable[[Any], bool]:
    """fits(record) -> True when every field fits: the rules' expressions inlined, one function per class (a pull
    checks every changed record; the closures per field cost more than the mapping does)."""
    code = ["def fits(r):"]
    for name, (_, expr), required in plan:
        code.append(f"    v = r.{name}")
        if required:
            empty = " or v == ''" if name in _REQUIRED else ""
            code.append(f"    if v is None{empty} or not ({expr}): return False")
        else:
            code.append(f"    if v is not None and not ({expr}): return False")
    if lines:
        code.append("    return all(map(line_fits, r.lines))")
    else:
        code.append("    return True")
    names: dict[str, Any] = {"Decimal": Decimal, "date": date, "datetime": datetime, "_plain_json": _plain_json}
    if lines:
        names["line_fits"] = _FAST[CanonicalLine]
    exec("\n".join(code), names)  # the source is built above from the table definitions only
    return names["fits"]


_FAST: dict[type, Callable[[Any], bool]] = {}
for _cls in (CanonicalLine, CanonicalClient, CanonicalInvoice, CanonicalPayment):
    _FAST[_cls] = _compile(_PLANS[_cls][1], lines=_cls is CanonicalInvoice)


def check_fits(record: Any, prefix: str = "") -> None:
    """Raise `MappingError` naming the first field of `record` (and of its lines) the store cannot take as it is.

    Raises:
        MappingError: a value of the wrong type, out of its column's range or length, or a required one missing.
    """
    if _FAST[type(record)](record):
        return
    entity, plan = _PLANS[type(record)]
    for name, (check, _), required in plan:
        value = getattr(record, name)
        if value is None or (value == "" and name in _REQUIRED):
            if required:
                raise MappingError(entity, prefix + name, "a value is required")
            continue
        problem = check(value)
        if problem is not None:
            raise MappingError(entity, prefix + name, problem)
    for line in getattr(record, "lines", ()):
        check_fits(line, f"lines[{line.position}].")
