"""The transform registry: paired (inbound, outbound) conversions found by name, with helpful misses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connector.money import DEFAULT_EXPONENT

__all__ = [
    "CURRENCY_EXPONENT",
    "REQUIRED",
    "Inbound",
    "Outbound",
    "Param",
    "References",
    "Transform",
    "UnknownName",
    "exponent_of",
    "get_transform",
    "known_transforms",
    "register",
]

Inbound = Callable[[Any], Any]
"""Wire value -> canonical value; raises ValueError (naming the value) for a value it cannot read."""
Outbound = Callable[[Any], Any]
"""Canonical value -> wire value; raises ValueError for a value the service cannot take. A transform with
`field` parameters gets a tuple instead: the value, then the values of the canonical fields they name."""
References = Mapping[str, list[dict[str, Any]]]
"""Raw reference lists fetched from the service at bind time, by name (e.g. ``countrylist``)."""
Builder = Callable[[Mapping[str, Any], References], tuple[Inbound, Outbound | None]]

REQUIRED: Any = object()
"""Marks a parameter without a default."""


class UnknownName(ValueError):
    """A name that is not in a registry; the message lists the known names."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown {kind} {name!r}; known: {', '.join(known)}")


@dataclass(frozen=True, slots=True)
class Param:
    """A transform parameter: a converter (raises ValueError on a bad value) and a default.

    A `field` parameter names a canonical field of the same record (``country_field: country``): the
    outbound side then receives ``(value, <that field's value>, ...)``, so a field can be written in the
    light of another one, declared in the mapping file rather than coded.
    """

    convert: Callable[[Any], Any]
    default: Any = REQUIRED
    field: bool = False


@dataclass(frozen=True, slots=True)
class Transform:
    """A named pair of conversions and what the mapper needs to know about it at load time.

    Attributes:
        name: the registry name used in mapping files.
        build: makes the (inbound, outbound) pair from converted params and bound reference data;
            outbound is None for a one-way transform.
        produces: the canonical types the inbound side returns (checked against the field's type).
        params: accepted parameters.
        arity: None for one `from` path; otherwise the exact number of paths (0 = any number >= 1).
        references: names of reference lists the transform needs at bind time.
        reversible: whether the transform has an outbound side (else the field must be readonly).
        summary: one line for error messages and `connector mappings check`.
        per_currency: the transform converts amounts to or from minor units: its ``exponent`` parameter (see
            `CURRENCY_EXPONENT`), when the mapping file leaves it out, is the ISO 4217 exponent of the record's
            own currency, which the mapper binds per record (`connector.money.currency_exponent`).
    """

    name: str
    build: Builder
    produces: tuple[type, ...]
    params: Mapping[str, Param] = field(default_factory=dict)
    arity: int | None = None
    references: frozenset[str] = frozenset()
    reversible: bool = True
    summary: str = ""
    per_currency: bool = False

    def context_fields(self, resolved: Mapping[str, Any]) -> tuple[str, ...]:
        """The canonical fields the outbound side reads besides the value: the `field` parameters' values,
        in the order the parameters are declared (`resolved` as returned by `resolve_params`)."""
        return tuple(resolved[name] for name, param in self.params.items() if param.field)

    def resolve_params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Check and convert parameters given in a mapping file, filling in defaults.

        Raises:
            ValueError: an unknown parameter (the message lists the allowed ones), a missing required
                one, or a value its converter refuses.
        """
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            allowed = ", ".join(sorted(self.params)) or "none"
            raise ValueError(f"transform {self.name!r} has no parameter {unknown[0]!r}; allowed: {allowed}")
        resolved: dict[str, Any] = {}
        for name, param in self.params.items():
            if name in given:
                try:
                    resolved[name] = param.convert(given[name])
                except (ValueError, TypeError) as exc:
                    raise ValueError(f"transform {self.name!r} parameter {name!r}: {exc}") from None
            elif param.default is REQUIRED:
                raise ValueError(f"transform {self.name!r} needs parameter {name!r}")
            else:  # defaults go through the converter too (a time zone name becomes a ZoneInfo)
                try:
                    resolved[name] = param.convert(param.default)
                except (ValueError, TypeError) as exc:
                    raise ValueError(f"transform {self.name!r} parameter {name!r}: {exc}") from None
        return resolved


def _exponent_or_currency(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise ValueError(f"expected a whole number 0..6, got {value!r}")
    return value


CURRENCY_EXPONENT = Param(_exponent_or_currency, None)
"""The ``exponent`` parameter of a `per_currency` transform: left out (None), the record's currency's; a whole
number 0..6 pins it for a service that writes every amount with that many decimals whatever the currency."""


def exponent_of(params: Mapping[str, Any]) -> int:
    """The exponent a `per_currency` transform was built with: the one the mapper bound (its record's currency's)
    or the mapping file pinned; `DEFAULT_EXPONENT` when it is built on its own, outside a mapper."""
    exponent = params.get("exponent")
    return DEFAULT_EXPONENT if exponent is None else int(exponent)


_REGISTRY: dict[str, Transform] = {}


def register(transform: Transform) -> Transform:
    """Add a transform to the registry (module import time); a second one of the same name is a bug."""
    if transform.name in _REGISTRY:
        raise RuntimeError(f"transform {transform.name!r} registered twice")
    _REGISTRY[transform.name] = transform
    return transform


def get_transform(name: str) -> Transform:
    """Return the transform registered under `name`.

    Raises:
        UnknownName: no such transform; the message lists every known name.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownName("transform", name, known_transforms()) from None


def known_transforms() -> list[str]:
    """Return the registered transform names, sorted."""
    return sorted(_REGISTRY)
