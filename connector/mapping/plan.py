"""Compile a validated spec into plans checked against the canonical dataclasses (the load-time half)."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.domain import (
    CanonicalClient,
    CanonicalInvoice,
    CanonicalLine,
    CanonicalPayment,
    EntityKind,
    InvoiceStatus,
)
from connector.errors import MappingSpecError
from connector.mapping.registry import Transform
from connector.mapping.spec import EntitySpec, ExtraSpec, FieldSpec, ItemsSpec
from connector.mapping.transforms import get_transform

__all__ = ["ENTITY_CLASSES", "EntityPlan", "FieldPlan", "ItemsPlan", "RecordPlan", "compile_entity"]

ENTITY_CLASSES: dict[str, type] = {
    EntityKind.CLIENT: CanonicalClient,
    EntityKind.INVOICE: CanonicalInvoice,
    EntityKind.PAYMENT: CanonicalPayment,
}
_ITEM_CLASSES: dict[str, dict[str, type]] = {EntityKind.INVOICE: {"lines": CanonicalLine}}
_AUTO: dict[type, set[str]] = {CanonicalLine: {"position"}}  # set by the mapper from the item's order
_RESERVED = {"extra", "lines"}
_ENUMS: dict[tuple[type, str], tuple[str, ...]] = {
    (CanonicalInvoice, "status"): tuple(s.value for s in InvoiceStatus)
}
# A field without `transform` gets its canonical type's natural one.
_TYPE_TRANSFORMS = {
    str: "string",
    Decimal: "decimal",
    int: "int_str",
    bool: "bool_str",
    date: "date",
    datetime: "datetime_local",
}


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One field, ready for the mapper to turn into closures at bind time."""

    name: str
    label: str  # "number", "lines.quantity", "extra.category": what errors name
    file: str
    paths: tuple[tuple[str, ...], ...]
    multi: bool
    transform: Transform | None
    params: Mapping[str, Any]
    table: Mapping[str, str] | None  # inbound map, wire -> canonical
    reverse: Mapping[str, str] | None  # outbound map, canonical -> wire
    fallback: Any  # used for a missing or empty wire value (and an unknown map value if `default` was given)
    has_default: bool
    required: bool  # a missing value is a MappingError
    target: tuple[str, ...] | None  # outbound path; None = never written
    context: tuple[str, ...] = ()  # canonical fields the outbound transform reads with the value


@dataclass(frozen=True, slots=True)
class RecordPlan:
    """The fields of one record class, plus what goes into its `extra` dict."""

    cls: type
    fields: tuple[FieldPlan, ...]
    extra: tuple[FieldPlan, ...]
    include_unmapped: bool
    consumed: frozenset[str]  # top-level wire keys that fields read (the rest is "unmapped")


@dataclass(frozen=True, slots=True)
class ItemsPlan:
    """A nested list, such as invoice lines."""

    name: str
    file: str
    path: tuple[str, ...]
    transform: Transform | None
    params: Mapping[str, Any]
    target: tuple[str, ...] | None
    record: RecordPlan


@dataclass(frozen=True, slots=True)
class EntityPlan:
    """Everything needed to map one entity both ways."""

    entity: str
    record: RecordPlan
    items: ItemsPlan | None


@dataclass(frozen=True, slots=True)
class _Slot:
    base: type
    optional: bool
    has_default: bool
    default: Any


def _slots(cls: type) -> dict[str, _Slot]:
    hints = typing.get_type_hints(cls)
    slots = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) else ()
        base = next((a for a in args if a is not type(None)), hint)
        base = typing.get_origin(base) or base
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        slots[f.name] = _Slot(
            base, type(None) in args, has_default, f.default if f.default is not dataclasses.MISSING else None
        )
    return slots


class _Context:
    """Where we are, so every error names the file, the entity and the field."""

    def __init__(self, entity: str, origins: Mapping[str, str], default_file: str) -> None:
        self.entity, self.origins, self.default_file = entity, origins, default_file

    def file(self, label: str) -> str:
        return self.origins.get(label, self.default_file)

    def error(self, label: str, problem: str) -> MappingSpecError:
        return MappingSpecError(self.file(label), self.entity, label, problem)


def _path(text: str) -> tuple[str, ...]:
    return tuple(text.split("."))


def _coerce_default(value: Any, slot: _Slot) -> Any:
    """Turn a YAML default into the canonical field's type; ValueError when it cannot be one."""
    if value is None:
        if not slot.optional:
            raise ValueError("default null for a field that cannot be empty")
        return None
    base = slot.base
    if base is Decimal and not isinstance(value, bool) and isinstance(value, (int, float, str)):
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            number = Decimal("NaN")
        if not number.is_finite():
            raise ValueError(f"default {value!r} is not a valid Decimal")
        return number
    if base is str and isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    if base is date and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"default {value!r} is not a date (YYYY-MM-DD)") from None
    if isinstance(value, base) and (base is bool or not isinstance(value, bool)):
        return value
    raise ValueError(f"default {value!r} is not a valid {base.__name__}")


def _transform(
    ctx: _Context, label: str, spec: FieldSpec, slot: _Slot | None
) -> tuple[Transform | None, dict[str, Any]]:
    if spec.transform is not None:
        name = spec.transform.name
    elif slot is not None and spec.from_ is not None and not isinstance(spec.from_, list):
        name = _TYPE_TRANSFORMS.get(slot.base, "")
    else:
        name = ""
    if not name:
        return None, {}
    try:
        transform = get_transform(name)
        params = transform.resolve_params(spec.transform.params if spec.transform else {})
    except ValueError as exc:
        raise ctx.error(label, str(exc)) from None
    count = len(spec.from_) if isinstance(spec.from_, list) else None
    if transform.arity is None and count is not None:
        raise ctx.error(label, f"transform {name!r} reads one value; `from` must be a single path")
    if transform.arity is not None and count is None:
        raise ctx.error(label, f"transform {name!r} reads several values; `from` must be a list of paths")
    if transform.arity and count != transform.arity:
        raise ctx.error(label, f"transform {name!r} reads {transform.arity} values; `from` lists {count}")
    return transform, params


def _tables(
    ctx: _Context, label: str, spec: FieldSpec, readonly: bool
) -> tuple[dict[str, str] | None, dict[str, str] | None]:
    if spec.map is None:
        return None, None
    if spec.reverse is not None:
        missing = sorted(set(spec.map.values()) - set(spec.reverse))
        if missing and not readonly:
            raise ctx.error(label, f"`reverse` has no wire value for {', '.join(map(repr, missing))}")
        return dict(spec.map), dict(spec.reverse)
    inverse: dict[str, str] = {}
    for wire, canonical in spec.map.items():
        if canonical in inverse and not readonly:
            raise ctx.error(
                label,
                f"`map` is not one-to-one ({canonical!r} comes from {inverse[canonical]!r} and "
                f"{wire!r}); add a `reverse` table (canonical -> wire) or make it readonly",
            )
        inverse.setdefault(canonical, wire)
    return dict(spec.map), inverse


def _context(ctx: _Context, label: str, transform: Transform, params: Mapping[str, Any], cls: type) -> tuple[str, ...]:
    """The canonical fields the outbound side reads besides the value, checked against the record class."""
    context = transform.context_fields(params)
    known = [n for n in _slots(cls) if n not in _RESERVED] if context else []
    for other in context:
        if other not in known:
            raise ctx.error(
                label,
                f"transform {transform.name!r} reads field {other!r}, which {cls.__name__} does not have; "
                f"valid fields: {', '.join(known)}",
            )
    return context


def _field(ctx: _Context, name: str, label: str, spec: FieldSpec, slot: _Slot | None, cls: type) -> FieldPlan:
    transform, params = _transform(ctx, label, spec, slot)
    readonly = spec.readonly or spec.from_ is None
    if transform is None and isinstance(spec.from_, list):
        raise ctx.error(
            label,
            "a list in `from` needs a transform that reads several values "
            "(first_non_empty, difference_to_minor, ...)",
        )
    if not readonly and transform is not None and not transform.reversible:
        raise ctx.error(label, f"transform {transform.name!r} only reads; mark the field `readonly: true`")
    if spec.to is not None and readonly:
        raise ctx.error(label, "`to` on a readonly field is never used")
    table, reverse = _tables(ctx, label, spec, readonly)
    produces = (str,) if table is not None else transform.produces if transform else None
    if table is not None and transform is not None and str not in transform.produces:
        raise ctx.error(
            label,
            f"`map` needs text, but transform {transform.name!r} produces "
            f"{'/'.join(t.__name__ for t in transform.produces)}",
        )
    if slot is not None and produces is not None and slot.base not in produces:
        raise ctx.error(
            label,
            f"field type is {slot.base.__name__}, but "
            f"{'`map`' if table else repr(transform.name if transform else '')} produces "
            f"{'/'.join(t.__name__ for t in produces)}",
        )
    has_default = "default" in spec.model_fields_set
    try:
        fallback = _coerce_default(spec.default, slot) if slot is not None and has_default else spec.default
    except ValueError as exc:
        raise ctx.error(label, str(exc)) from None
    allowed = _ENUMS.get((cls, name)) if slot is not None else None
    if allowed:
        bad = sorted({*(table or {}).values(), *([fallback] if has_default else [])} - set(allowed))
        if bad:
            raise ctx.error(
                label, f"{', '.join(map(repr, bad))} is not a canonical {name}; valid: {', '.join(allowed)}"
            )
    if slot is not None and not has_default and not slot.optional and slot.has_default:
        fallback = slot.default  # e.g. a text-only line has no quantity: Decimal(0)
    required = slot is not None and not slot.optional and fallback is None
    paths = tuple(
        _path(p) for p in (spec.from_ if isinstance(spec.from_, list) else [spec.from_] if spec.from_ else [])
    )
    target = None if readonly else _path(spec.to) if spec.to else paths[0]
    context = _context(ctx, label, transform, params, cls) if transform is not None and target is not None else ()
    return FieldPlan(
        name,
        label,
        ctx.file(label),
        paths,
        isinstance(spec.from_, list),
        transform,
        params,
        table,
        reverse,
        fallback,
        has_default,
        required,
        target,
        context,
    )


def _record(
    ctx: _Context,
    cls: type,
    fields: Mapping[str, FieldSpec],
    extra: ExtraSpec | None,
    prefix: str,
    extra_keys: frozenset[str],
) -> RecordPlan:
    slots = _slots(cls)
    auto = _AUTO.get(cls, set())
    valid = sorted(n for n in slots if n not in _RESERVED and n not in auto)
    plans = []
    for name, spec in fields.items():
        label = prefix + name
        if name in auto:
            raise ctx.error(label, f"{name} is set by the mapper from the order of the items; do not map it")
        if name not in valid:
            hint = "; it is a list: map it under `items`" if name in _ITEM_CLASSES.get(ctx.entity, {}) else ""
            raise ctx.error(label, f"unknown field of {cls.__name__}{hint}; valid fields: {', '.join(valid)}")
        plans.append(_field(ctx, name, label, spec, slots[name], cls))
    for name in valid:
        if not slots[name].has_default and name not in fields:
            raise ctx.error(prefix + name, f"{cls.__name__} requires {name!r}; map it or give it a `default`")
    extras = tuple(
        _field(ctx, n, f"{prefix}extra.{n}", s, None, cls) for n, s in (extra.fields if extra else {}).items()
    )
    consumed = frozenset(
        {*extra_keys, *(p.paths[i][0] for p in (*plans, *extras) for i in range(len(p.paths)))}
    )
    return RecordPlan(cls, tuple(plans), extras, bool(extra and extra.include_unmapped), consumed)


def _items(ctx: _Context, name: str, spec: ItemsSpec) -> ItemsPlan:
    cls = _ITEM_CLASSES.get(ctx.entity, {}).get(name)
    if cls is None:
        known = ", ".join(_ITEM_CLASSES.get(ctx.entity, {})) or "none"
        raise ctx.error(name, f"unknown item list for {ctx.entity}; valid: {known}")
    if spec.from_ is None:
        raise ctx.error(name, "needs `from`: the wire path of the list")
    transform: Transform | None = None
    params: dict[str, Any] = {}
    if spec.transform is not None:
        transform, params = _transform(
            ctx, name, FieldSpec.model_validate({"from": spec.from_, "transform": spec.transform}), None
        )
        if transform is not None and list not in transform.produces:
            raise ctx.error(name, f"transform {transform.name!r} does not produce a list")
    if spec.to is not None and spec.readonly:
        raise ctx.error(name, "`to` on a readonly list is never used")
    record = _record(ctx, cls, spec.fields, spec.extra, f"{name}.", frozenset())
    target = None if spec.readonly else _path(spec.to or spec.from_)
    return ItemsPlan(name, ctx.file(name), _path(spec.from_), transform, params, target, record)


def compile_entity(
    entity: str, spec: EntitySpec, origins: Mapping[str, str], default_file: str
) -> EntityPlan:
    """Check one entity's spec against its canonical dataclass and compile it.

    Args:
        entity: "client", "invoice" or "payment".
        spec: the (merged) entity spec.
        origins: label -> file that defined it (user overrides), for error messages.
        default_file: the file named when a label has no origin of its own.

    Raises:
        MappingSpecError: unknown field, transform or parameter; a mismatched type; a map that is not
            one-to-one; an unmapped required field; and so on, naming file, entity and field.
    """
    ctx = _Context(entity, origins, default_file)
    items = [_items(ctx, name, item) for name, item in spec.items.items()]
    item_keys = frozenset(i.path[0] for i in items)
    record = _record(ctx, ENTITY_CLASSES[entity], spec.fields, spec.extra, "", item_keys)
    return EntityPlan(entity, record, items[0] if items else None)
