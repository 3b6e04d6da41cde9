"""Transforms particular to the hydra mapping; importing this module registers them.

The service mixes money shapes (PROVIDERS.md section 4): row prices and rates are decimal strings with
scale 2 (``"12.50"``, ``"21.00"``), quantities and transaction amounts are JSON numbers, relations are
IRIs (``/api/customers/5``) and instants RFC 3339 with an offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

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
from connector.mapping.values import decimal_text, to_decimal
from connector.money import major_units, minor_units, round_half_up

__all__: list[str] = []


def _iri_id_in(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        tail = value.strip().rstrip("/").rsplit("/", 1)[-1]
        if tail:
            return tail
    raise ValueError(f"expected an IRI such as /api/customers/5, got {value!r}")


def _iri_id(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    # Outbound stays the bare id: only the provider knows the API's path prefix to build the IRI.
    return _iri_id_in, lambda value: value


def _datetime_in(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
        if moment is not None:
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    raise ValueError(f"not an RFC 3339 date-time: {value!r}")


def _datetime(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    return _datetime_in, lambda value: None if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


def _number_in(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    return to_decimal(value)


def _number(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    # Outbound a Decimal, which the HTTP layer writes as an exact JSON number (the service wants a float).
    return _number_in, lambda value: value


def _number_to_minor(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    exponent = exponent_of(params)

    def inbound(value: Any) -> int:
        return minor_units(_number_in(value), exponent)

    def outbound(value: int | None) -> Decimal | None:
        if value is None:
            return None
        if type(value) is not int:
            raise ValueError(f"minor units must be an int, got {value!r}")
        return major_units(value, exponent)

    return inbound, outbound


def _decimal_str(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    places = params["places"]

    def outbound(value: Decimal | None) -> str | None:
        return None if value is None else decimal_text(round_half_up(value, places))

    return _number_in, outbound


def _places(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise ValueError(f"expected a whole number 0..6, got {value!r}")
    return value


for _t in (
    Transform("hydra_iri_id", _iri_id, (str,),
              summary="IRI /api/customers/5 (or a plain id) -> '5'; outbound the bare id (the provider makes the IRI)"),
    Transform("hydra_datetime", _datetime, (datetime,),
              summary="RFC 3339 with an offset -> aware UTC datetime; outbound ISO 8601 in UTC"),
    Transform("hydra_number", _number, (Decimal,),
              summary="JSON number (row quantity) -> Decimal; outbound a JSON number"),
    Transform("hydra_number_to_minor", _number_to_minor, (int,), {"exponent": CURRENCY_EXPONENT},
              summary="JSON number 60.5 (transaction amount) -> 6050 minor units (the currency's decimals); "
                      "outbound a JSON number", per_currency=True),
    Transform("hydra_decimal_str", _decimal_str, (Decimal,), {"places": Param(_places, 2)},
              summary="decimal string '21.00' -> Decimal; outbound a string with `places` decimals"),
):
    register(_t)
