"""Field-level steps: read one canonical value from a wire dict, or turn one back into its wire value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import DecimalException
from typing import Any

from connector.mapping.plan import FieldPlan
from connector.mapping.registry import Inbound, Outbound

__all__ = ["EMPTY_TYPES", "READ_ERRORS", "Reader", "getter", "problem", "put_path", "reader", "writer"]

Reader = Callable[[dict[str, Any]], Any]
EMPTY_TYPES = frozenset({str, list, dict, type(None)})  # with falsiness: "", [], {}, None (never 0 or False)
# OSError: datetime.fromtimestamp of a time past what the platform holds
READ_ERRORS = (ValueError, TypeError, ArithmeticError, KeyError, AttributeError, IndexError, OSError)


def problem(exc: Exception) -> str:
    """Describe an exception raised while reading or writing a value."""
    if isinstance(exc, DecimalException):  # its text is only a list of signal classes
        return f"a number out of range for decimal arithmetic ({type(exc).__name__})"
    return str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"


def getter(path: tuple[str, ...]) -> Reader:
    """Return a function reading a dotted path from a wire dict (None where it is missing)."""
    if len(path) == 1:
        key = path[0]
        return lambda raw: raw.get(key)

    def get(raw: dict[str, Any]) -> Any:
        value: Any = raw
        for key in path:
            if type(value) is not dict:
                return None
            value = value.get(key)
        return value

    return get


def put_path(out: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Write `value` at a dotted path of a wire dict, creating nested dicts on the way."""
    for key in path[:-1]:
        out = out.setdefault(key, {})
    out[path[-1]] = value


def _lookup(table: Mapping[str, str], what: str, fallback: Any, use_fallback: bool) -> Callable[[Any], Any]:
    def look(value: Any) -> Any:
        try:
            return table[value]
        except (KeyError, TypeError):
            if use_fallback:
                return fallback
            raise ValueError(f"no {what} for {value!r}; known: {', '.join(map(repr, table))}") from None

    return look


def reader(plan: FieldPlan, inbound: Inbound | None) -> Reader:
    """Build one field's wire -> canonical step: get, treat empty as missing, transform, map, fall back.

    Args:
        plan: the compiled field.
        inbound: the bound inbound side of its transform, if it has one.

    Returns:
        read(raw) -> canonical value; raises ValueError (the caller adds entity and field) for a value
        it cannot read or a required value that is missing or empty.
    """
    fallback, required = plan.fallback, plan.required
    where = ", ".join(".".join(p) for p in plan.paths)
    look = _lookup(plan.table, "canonical value", fallback, plan.has_default) if plan.table is not None else None
    if not plan.paths:
        return lambda raw: fallback

    def missing() -> Any:
        if required:
            raise ValueError(f"missing value at {where!r}")
        return fallback

    if plan.multi:  # the transform sees every value, empty or not
        getters = tuple(getter(p) for p in plan.paths)
        keys = tuple(p[0] for p in plan.paths) if all(len(p) == 1 for p in plan.paths) else None
        convert = inbound if inbound is not None else tuple

        def read_many(raw: dict[str, Any]) -> Any:
            values = tuple(map(raw.get, keys)) if keys is not None else tuple([g(raw) for g in getters])
            value = convert(values)
            if look is not None and value is not None:
                value = look(value)
            return missing() if value is None else value

        return read_many
    path = plan.paths[0]
    if len(path) == 1 and look is None and inbound is not None:  # the common case, kept short
        key = path[0]

        def read_key(raw: dict[str, Any]) -> Any:
            value = raw.get(key)
            if not value and type(value) in EMPTY_TYPES:
                return missing()
            value = inbound(value)
            return missing() if value is None else value

        return read_key
    get = getter(path)

    def read(raw: dict[str, Any]) -> Any:
        value = get(raw)
        if not value and type(value) in EMPTY_TYPES:
            return missing()
        if inbound is not None:
            value = inbound(value)
        if look is not None and value is not None:
            value = look(value)
        return missing() if value is None else value

    return read


def writer(plan: FieldPlan, outbound: Outbound | None) -> Callable[[Any], Any]:
    """One field's canonical -> wire step: reverse map, then the outbound transform.

    A field whose transform reads other fields (`plan.context`) is given ``(value, *their values)``; the
    reverse map applies to the value alone.
    """
    look = _lookup(plan.reverse, "wire value", None, False) if plan.reverse is not None else None
    if plan.context and look is not None and outbound is not None:
        return lambda values: outbound((None if values[0] is None else look(values[0]), *values[1:]))
    if look is None and outbound is None:
        return lambda value: value
    if look is None:
        return outbound  # type: ignore[return-value]
    if outbound is None:
        return lambda value: None if value is None else look(value)
    return lambda value: outbound(None if value is None else look(value))
