"""Structured transforms: keyed lists, several inputs, tax, countries."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connector.mapping.countries import iso_from_name
from connector.mapping.registry import (
    CURRENCY_EXPONENT,
    Inbound,
    Outbound,
    Param,
    References,
    Transform,
    exponent_of,
    register,
)
from connector.mapping.values import to_decimal
from connector.money import minor_units

__all__ = ["keyed_items"]

_ONE = Decimal(1)
_DIGITS = "0123456789"


def _suffix(key: str) -> tuple[int, str]:
    stem = key.rstrip(_DIGITS)
    return (int(key[len(stem) :]) if len(stem) < len(key) else 0, key)


_ORDERS: dict[tuple[str, ...], tuple[str, ...]] = {}  # the keys of a keyed object -> those keys in order
_MAX_ORDERS = 1024  # distinct key sets remembered (a service sends few: line1..lineN)


def keyed_items(value: Any) -> list[Any]:
    """The items of a keyed object ({"line1": ..., "line2": ...}, in number order) or of a list; [] when empty.

    Raises:
        ValueError: neither an object nor a list.
    """
    if value is None or value == "":
        return []
    return _keyed_in(value)


def _keyed_in(value: Any) -> list[Any]:
    if type(value) is dict:
        if len(value) == 1:
            return list(value.values())
        keys = tuple(value)
        order = _ORDERS.get(keys)
        if order is None:
            order = tuple(sorted(keys, key=_suffix))
            if len(_ORDERS) < _MAX_ORDERS:
                _ORDERS[keys] = order
        return [value[key] for key in order]
    if type(value) is list:
        return value
    raise ValueError(f"expected a keyed object or a list, got {type(value).__name__}")


def _keyed_list(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    # Outbound stays a JSON array: FactuurSturen accepts lines posted as an array (production clients do).
    return _keyed_in, lambda value: value


def _first_non_empty(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    def inbound(values: tuple[Any, ...]) -> str | None:
        for value in values:
            if type(value) is str:
                if text := value.strip():
                    return text
            elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                return str(value)
        return None

    return inbound, lambda value: value  # the mapper writes it to `to`, else to the first path


def _amounts(a: Any, b: Any, names: str) -> tuple[Decimal, Decimal]:
    if a is None or a == "" or b is None or b == "":
        raise ValueError(f"{names} needs both amounts, got {a!r} and {b!r}")
    return to_decimal(a), to_decimal(b)


def _difference_to_minor(params: Mapping[str, Any], refs: References) -> tuple[Inbound, None]:
    exponent = exponent_of(params)

    def inbound(values: tuple[Any, ...]) -> int:
        a, b = _amounts(values[0], values[1], "difference_to_minor")
        return minor_units(a - b, exponent)

    return inbound, None


def _vat_rate(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    no_tax: Decimal | None = params["no_tax"]

    def inbound(value: Any) -> Decimal:
        rate = to_decimal(value)
        if rate == no_tax:  # "no tax" (FactuurSturen -1) reads as 0 %; `flag_when` can keep the flag in extra
            return Decimal(0)
        if rate < 0:
            raise ValueError(f"negative tax rate {value!r}")
        return rate

    def outbound(value: Decimal | None) -> str | None:
        return None if value is None else format(value.normalize(), "f")

    return inbound, outbound


def _country_id_to_iso(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    """Country ids of the service's English country list <-> ISO 3166-1 alpha-2, via the names."""
    iso_by_id: dict[str, str | None] = {}
    name_by_id: dict[str, str] = {}
    id_by_iso: dict[str, str] = {}
    for entry in refs["countrylist"]:
        if not isinstance(entry, dict) or entry.get("id") in (None, ""):
            continue
        key, name = str(entry["id"]).strip(), str(entry.get("name") or "")
        iso = iso_from_name(name) if name else None
        iso_by_id[key], name_by_id[key] = iso, name
        if iso is not None:
            id_by_iso.setdefault(iso, key)

    def inbound(value: Any) -> str | None:
        key = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        if key is None:
            raise ValueError(f"not a country id: {value!r}")
        if key == "0":  # "no country"
            return None
        if key in iso_by_id:
            iso = iso_by_id[key]
            if iso is None:
                raise ValueError(f"country id {key!r} ({name_by_id[key]!r}) has no known ISO 3166 code")
            return iso
        iso = None if key.isdigit() else iso_from_name(key)  # some records carry a name instead of an id
        if iso is None:
            raise ValueError(f"unknown country id {key!r} (not in the service's country list)")
        return iso

    def outbound(value: str | None) -> str:
        if value is None:
            return ""
        try:
            return id_by_iso[value.upper()]
        except KeyError:
            raise ValueError(f"country {value!r} is not in the service's country list") from None

    return inbound, outbound


def _optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else to_decimal(value)


for _t in (
    Transform(
        "keyed_list",
        _keyed_list,
        (list,),
        summary="object keyed line1, line2... (ordered by number) or a list -> list; [] and {} -> empty",
    ),
    Transform(
        "first_non_empty",
        _first_non_empty,
        (str,),
        arity=0,
        summary="[path, path...] -> the first non-empty text; outbound to `to` or the first path",
    ),
    Transform(
        "difference_to_minor",
        _difference_to_minor,
        (int,),
        {"exponent": CURRENCY_EXPONENT},
        arity=2,
        reversible=False,
        summary="[a, b] decimal amounts -> minor units of a - b (the currency's decimals)",
        per_currency=True,
    ),
    Transform(
        "vat_rate",
        _vat_rate,
        (Decimal,),
        {"no_tax": Param(_optional_decimal, None)},
        summary="tax percent -> Decimal; the `no_tax` value (FactuurSturen -1) reads as 0",
    ),
    Transform(
        "country_id_to_iso",
        _country_id_to_iso,
        (str,),
        references=frozenset({"countrylist"}),
        summary="service country id -> ISO 3166-1 alpha-2 via the English country list, and back",
    ),
):
    register(_t)
