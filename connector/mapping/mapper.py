"""The compiled mapper: plans become closures at bind time, so a record costs a loop over tuples."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, overload

from connector.domain import CanonicalClient, CanonicalInvoice, CanonicalPayment, CanonicalRecord
from connector.errors import MappingError, MappingSpecError
from connector.mapping.fill import compile_fill
from connector.mapping.plan import EntityPlan, FieldPlan, ItemsPlan, RecordPlan
from connector.mapping.registry import Inbound, Outbound, References, Transform
from connector.mapping.steps import EMPTY_TYPES, READ_ERRORS, Reader, getter, problem, put_path, reader, writer
from connector.money import DEFAULT_EXPONENT, currency_exponent

__all__ = ["BoundMapper", "FieldsRead", "Mapper"]


# Canonical fields that change what the other money fields mean: a record holding one (non-zero) is refused
# outbound by a mapping that does not write it, rather than sent with totals the service would compute wrong.
_TOTALS_MEANING = ("discount_minor",)


class _Binder:
    """Builds the transforms a mapping needs, once per (transform, params), against reference data; a
    `per_currency` transform without an ``exponent`` of its own gets `exponent` (its record's currency's)."""

    def __init__(
        self, entity: str, references: References, provider: str = "the service", exponent: int = DEFAULT_EXPONENT
    ) -> None:
        self.entity, self.references, self.provider, self.exponent = entity, references, provider, exponent
        self.cache: dict[tuple[str, str], tuple[Inbound, Outbound | None]] = {}

    def pair(
        self, transform: Transform | None, params: Mapping[str, Any], file: str, label: str
    ) -> tuple[Inbound | None, Outbound | None]:
        if transform is None:
            return None, None
        missing = sorted(transform.references - set(self.references))
        if missing:
            raise MappingSpecError(
                file,
                self.entity,
                label,
                f"transform {transform.name!r} needs reference list {missing[0]!r}, which was not given to bind()",
            )
        if transform.per_currency and params.get("exponent") is None:
            params = {**params, "exponent": self.exponent}
        key = (transform.name, repr(sorted(params.items())))
        if key not in self.cache:
            try:
                self.cache[key] = transform.build(params, self.references)
            except (ValueError, TypeError, KeyError) as exc:
                raise MappingSpecError(file, self.entity, label, f"cannot bind {transform.name!r}: {exc}") from None
        return self.cache[key]


def _record_in(
    entity: str, plan: RecordPlan, binder: _Binder
) -> Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]:
    """Return fill(raw, kw) that adds the record's fields (and `extra`) to the constructor kwargs.

    The returned filler is compiled (see `fill`); the closure-per-field one below is its reference and
    handles every record a read fails on, so it is the one that names the entity and field.
    """
    bound = tuple((f, binder.pair(f.transform, f.params, f.file, f.label)[0]) for f in plan.fields)
    bound_extras = tuple((f, binder.pair(f.transform, f.params, f.file, f.label)[0]) for f in plan.extra)
    readers = tuple((f.name, reader(f, inbound)) for f, inbound in bound)
    extras = tuple((f.name, reader(f, inbound)) for f, inbound in bound_extras)
    unmapped, consumed = plan.include_unmapped, plan.consumed

    def fill(raw: dict[str, Any], kw: dict[str, Any]) -> dict[str, Any]:
        name = section = ""
        try:
            for name, read in readers:
                kw[name] = read(raw)
            if extras or unmapped:
                section, extra = "extra.", {}
                for name, read in extras:
                    value = read(raw)
                    if value is not None:
                        extra[name] = value
                if unmapped:
                    for key, value in raw.items():
                        if key not in consumed and key not in extra:
                            extra[key] = value
                kw["extra"] = extra
        except READ_ERRORS as exc:
            raise MappingError(entity, section + name, problem(exc)) from None
        return kw

    return compile_fill(bound, bound_extras, unmapped, consumed, fill)


def _items_in(entity: str, plan: ItemsPlan, binder: _Binder) -> Reader:
    get = getter(plan.path)
    inbound = binder.pair(plan.transform, plan.params, plan.file, plan.name)[0]
    name, cls = plan.name, plan.record.cls
    fill = _record_in(entity, plan.record, binder)

    def read(raw: dict[str, Any]) -> list[Any]:
        value = get(raw)
        if not value and type(value) in EMPTY_TYPES:
            return []
        try:
            items = inbound(value) if inbound is not None else value
        except READ_ERRORS as exc:
            raise MappingError(entity, name, problem(exc)) from None
        if type(items) is not list:
            raise MappingError(entity, name, f"expected a list, got {type(items).__name__}")
        result = []
        for position, item in enumerate(items, 1):
            if type(item) is not dict:
                raise MappingError(entity, f"{name}[{position}]", f"expected an object, got {type(item).__name__}")
            try:
                result.append(cls(**fill(item, {"position": position})))
            except MappingError as exc:
                raise MappingError(entity, f"{name}[{position}].{exc.field}", exc.problem) from None
        return result

    return read


def _record_out(entity: str, plan: RecordPlan, binder: _Binder) -> Callable[[Any, dict[str, Any]], dict[str, Any]]:
    def writers(
        fields: tuple[FieldPlan, ...],
    ) -> tuple[tuple[str, Callable[[Any], Any], tuple[str, ...], tuple[str, ...]], ...]:
        return tuple(
            (f.name, writer(f, binder.pair(f.transform, f.params, f.file, f.label)[1]), f.target, f.context)
            for f in fields
            if f.target is not None
        )

    fields, extras = writers(plan.fields), writers(plan.extra)

    def write_record(record: Any, out: dict[str, Any]) -> dict[str, Any]:
        name = section = ""
        try:
            for name, write, target, context in fields:
                value = getattr(record, name)
                if context:  # the transform reads other fields of the record too
                    value = (value, *[getattr(record, other) for other in context])
                put_path(out, target, write(value))
            section = "extra."
            for name, write, target, context in extras:
                if name in record.extra:
                    value = record.extra[name]
                    if context:
                        value = (value, *[getattr(record, other) for other in context])
                    put_path(out, target, write(value))
        except READ_ERRORS as exc:
            raise MappingError(entity, section + name, problem(exc)) from None
        return out

    return write_record


@dataclass(frozen=True, slots=True)
class FieldsRead:
    """What a mapping says about a record it reads: its canonical `fields`, and the `extra` keys it fills
    (None: every key, when the mapping keeps the service's unmapped fields)."""

    fields: frozenset[str]
    extra: frozenset[str] | None


class BoundMapper:
    """A mapper bound to the service's reference data: maps records both ways, one at a time."""

    def __init__(self, mapper: Mapper, references: References) -> None:
        """Build every closure; see `Mapper.bind`."""
        self.provider = mapper.provider
        self.entities: set[str] = set(mapper.plans)
        self._in: dict[str, Callable[[dict[str, Any]], Any]] = {}
        self._out: dict[str, Callable[[Any], dict[str, Any]]] = {}
        self._reads = {
            entity: FieldsRead(
                frozenset(f.name for f in plan.record.fields),
                None if plan.record.include_unmapped else frozenset(f.name for f in plan.record.extra),
            )
            for entity, plan in mapper.plans.items()
        }
        for entity, plan in mapper.plans.items():
            binder = _Binder(entity, references, mapper.provider)
            if not _per_currency(plan):
                self._in[entity] = self._inbound(plan, binder)
                self._out[entity] = self._outbound(plan, binder)
                continue
            # Amounts are read and written with the exponent of the record's own currency (JPY 0, KWD 3): one
            # set of closures per exponent met, each made once.
            inbound_for = _by_exponent(plan, references, mapper.provider, self._inbound)
            outbound_for = _by_exponent(plan, references, mapper.provider, self._outbound)
            self._in[entity] = _read_by_currency(inbound_for, _currency_reader(plan, binder))
            self._out[entity] = _write_by_currency(outbound_for)

    @staticmethod
    def _inbound(plan: EntityPlan, binder: _Binder) -> Callable[[dict[str, Any]], Any]:
        entity, cls = plan.entity, plan.record.cls
        fill = _record_in(entity, plan.record, binder)
        items = (plan.items.name, _items_in(entity, plan.items, binder)) if plan.items else None

        def inbound(raw: dict[str, Any]) -> Any:
            if type(raw) is not dict:
                raise MappingError(entity, "", f"expected an object, got {type(raw).__name__}")
            kw = fill(raw, {})
            if items is not None:
                kw[items[0]] = items[1](raw)
            return cls(**kw)

        return inbound

    @staticmethod
    def _outbound(plan: EntityPlan, binder: _Binder) -> Callable[[Any], dict[str, Any]]:
        entity, cls = plan.entity, plan.record.cls
        write_record = _record_out(entity, plan.record, binder)
        items = plan.items
        write_line = _record_out(entity, items.record, binder) if items and items.target else None
        items_out = binder.pair(items.transform, items.params, items.file, items.name)[1] if items else None
        written = {f.name for f in plan.record.fields if f.target is not None}
        uncarried = tuple(name for name in _TOTALS_MEANING if hasattr(cls, name) and name not in written)

        def outbound(record: Any) -> dict[str, Any]:
            if type(record) is not cls:
                raise MappingError(entity, "", f"expected a {cls.__name__}, got {type(record).__name__}")
            for name in uncarried:
                if getattr(record, name):
                    raise MappingError(entity, name, f"{getattr(record, name)} in minor units, which {binder.provider} "
                                       "cannot carry: its totals would come out wrong")
            out = write_record(record, {})
            if write_line is not None and items is not None and items.target is not None:
                lines = []
                for line in getattr(record, items.name):
                    try:
                        lines.append(write_line(line, {}))
                    except MappingError as exc:
                        raise MappingError(entity, f"{items.name}[{line.position}].{exc.field}", exc.problem) from None
                put_path(out, items.target, items_out(lines) if items_out is not None else lines)
            return out

        return outbound

    def reads(self, entity: str) -> FieldsRead:
        """Which canonical fields (and `extra` keys) this mapping fills when it reads `entity` from the service."""
        return self._reads[entity]

    @overload
    def inbound(self, entity: Literal["client"], raw: dict[str, Any]) -> CanonicalClient: ...
    @overload
    def inbound(self, entity: Literal["invoice"], raw: dict[str, Any]) -> CanonicalInvoice: ...
    @overload
    def inbound(self, entity: Literal["payment"], raw: dict[str, Any]) -> CanonicalPayment: ...
    @overload
    def inbound(self, entity: str, raw: dict[str, Any]) -> CanonicalRecord: ...

    def inbound(self, entity: str, raw: dict[str, Any]) -> CanonicalRecord:
        """Map one raw wire record of `entity` to its canonical record.

        Raises:
            MappingError: the record cannot be read; names entity and field (``invoice.lines[2].quantity``).
        """
        try:
            fn = self._in[entity]
        except KeyError:
            raise MappingError(
                entity,
                "",
                f"the {self.provider} mapping has no {entity!r}; mapped: {', '.join(sorted(self._in))}",
            ) from None
        record: CanonicalRecord = fn(raw)
        return record

    def outbound(self, entity: str, record: CanonicalRecord) -> dict[str, Any]:
        """Map a canonical record to the wire dict for the service (readonly fields left out).

        Raises:
            MappingError: a value the service cannot take (a country not in its list, an unknown status).
        """
        try:
            fn = self._out[entity]
        except KeyError:
            raise MappingError(
                entity,
                "",
                f"the {self.provider} mapping has no {entity!r}; mapped: {', '.join(sorted(self._out))}",
            ) from None
        return fn(record)


class Mapper:
    """A loaded, validated mapping of one provider; `bind` it to reference data to use it."""

    def __init__(self, provider: str, files: tuple[str, ...], plans: Mapping[str, EntityPlan]) -> None:
        """Args: provider: the provider id. files: the files it came from. plans: compiled entities."""
        self.provider = provider
        self.files = files
        self.plans = dict(plans)
        self.entities: set[str] = set(self.plans)
        self.references_needed: set[str] = {
            ref
            for plan in self.plans.values()
            for f in _all_fields(plan)
            if f.transform
            for ref in f.transform.references
        }

    def bind(self, references: Mapping[str, list[dict[str, Any]]]) -> BoundMapper:
        """Bind to the service's reference lists (raw, as fetched), e.g. ``{"countrylist": [...]}``.

        Raises:
            MappingSpecError: a needed reference list is missing or cannot be used.
        """
        return BoundMapper(self, references)

    def summary(self) -> str:
        """One line per entity: how many fields, items and extras it maps."""
        parts = []
        for entity, plan in self.plans.items():
            text = f"{entity} {len(plan.record.fields)} fields"
            if plan.items:
                text += f" + {plan.items.name} {len(plan.items.record.fields)} fields"
            if plan.record.extra or plan.record.include_unmapped:
                text += f", extra {len(plan.record.extra)}{' + unmapped' if plan.record.include_unmapped else ''}"
            parts.append(text)
        refs = f"; references: {', '.join(sorted(self.references_needed))}" if self.references_needed else ""
        return f"{self.provider}: {'; '.join(parts)}{refs}"


def _per_currency(plan: EntityPlan) -> bool:
    """Whether a transform of the entity takes its exponent from the record's currency."""
    return any(
        f.transform is not None and f.transform.per_currency and f.params.get("exponent") is None
        for f in _all_fields(plan)
    )


def _by_exponent(
    plan: EntityPlan, references: References, provider: str, build: Callable[[EntityPlan, _Binder], Any]
) -> Callable[[int], Any]:
    """Return for(exponent) -> `build`'s closure bound with that exponent, made on first use; the default one is
    made at once, so a mapping that cannot bind fails at bind time rather than at its first record."""
    made: dict[int, Any] = {}

    def get(exponent: int) -> Any:
        fn = made.get(exponent)
        if fn is None:
            fn = made[exponent] = build(plan, _Binder(plan.entity, references, provider, exponent))
        return fn

    get(DEFAULT_EXPONENT)
    return get


def _currency_reader(plan: EntityPlan, binder: _Binder) -> Reader:
    """Read the record's currency from its wire dict as its mapping does (None when it has none)."""
    field = next((f for f in plan.record.fields if f.name == "currency"), None)
    if field is None:
        return lambda raw: None
    return reader(field, binder.pair(field.transform, field.params, field.file, field.label)[0])


def _read_by_currency(inbound_for: Callable[[int], Any], currency: Reader) -> Callable[[dict[str, Any]], Any]:
    def inbound(raw: dict[str, Any]) -> Any:
        try:
            code = currency(raw) if type(raw) is dict else None
        except (MappingError, *READ_ERRORS):
            code = None  # the record's own reading names the field at fault
        return inbound_for(currency_exponent(code if type(code) is str else None))(raw)

    return inbound


def _write_by_currency(outbound_for: Callable[[int], Any]) -> Callable[[Any], dict[str, Any]]:
    def outbound(record: Any) -> dict[str, Any]:
        result: dict[str, Any] = outbound_for(currency_exponent(getattr(record, "currency", None)))(record)
        return result

    return outbound


def _all_fields(plan: EntityPlan) -> list[FieldPlan]:
    fields = [*plan.record.fields, *plan.record.extra]
    if plan.items:
        fields += [*plan.items.record.fields, *plan.items.record.extra]
    return fields
