"""Transforms particular to the fastfaktura mapping; importing this module registers them.

FastFaktura sends money as integer cents and numbers as JSON numbers, shows no line totals (they follow
from quantity x unit price, decision 8) and no invoice or payment dates (they follow from the event
timeline, decision 7): these transforms read exactly that.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connector.domain import InvoiceStatus
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
from connector.money import major_units, whole_units

__all__: list[str] = []

_HUNDRED = Decimal(100)
_SETTLED = frozenset({"paid", "cancelled"})  # nothing is owed on these
_EVENT_FIELDS = frozenset({"created_at", "paid_at"})


def _whole(value: Any) -> int:
    """A whole number from a JSON integer (or an integral decimal); anything else is refused."""
    if type(value) is int:
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a whole number of cents: {value!r}")
    number = to_decimal(value)
    if number != number.to_integral_value():
        raise ValueError(f"not a whole number of cents: {value!r}")
    return int(number)


def _cents(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    def outbound(value: int | None) -> int | None:
        if value is not None and type(value) is not int:
            raise ValueError(f"minor units must be an int, got {value!r}")
        return value

    return _whole, outbound


def _cents_to_major(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    exponent = exponent_of(params)

    def inbound(value: Any) -> Decimal:
        return major_units(_whole(value), exponent)

    def outbound(value: Decimal | None) -> int | None:
        if value is None:
            return None
        shifted = value.scaleb(exponent)
        if shifted != shifted.to_integral_value():
            raise ValueError(f"{value} has more decimals than whole cents; the service takes integer cents")
        return int(shifted)

    return inbound, outbound


def _json_number(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    def outbound(value: Decimal | None) -> Decimal | None:
        if value is not None and not value.is_finite():
            raise ValueError(f"not a finite number: {value}")
        return value  # the HTTP layer writes a Decimal as an exact JSON number

    return to_decimal, outbound


def _line_amount(values: tuple[Any, ...]) -> Decimal:
    quantity, price = values[0], values[1]
    if quantity is None or quantity == "" or price is None or price == "":
        raise ValueError(f"needs quantity and unit_price_cents, got {quantity!r} and {price!r}")
    return to_decimal(quantity) * _whole(price)


def _line_net(params: Mapping[str, Any], refs: References) -> tuple[Inbound, None]:
    def inbound(values: tuple[Any, ...]) -> int:
        return whole_units(_line_amount(values))

    return inbound, None


def _line_tax(params: Mapping[str, Any], refs: References) -> tuple[Inbound, None]:
    def inbound(values: tuple[Any, ...]) -> int:
        rate = values[2]
        if rate is None or rate == "":
            raise ValueError("needs tax_rate")
        return whole_units(_line_amount(values) * to_decimal(rate) / _HUNDRED)

    return inbound, None


def _instant(value: Any) -> datetime:
    if type(value) is not str:
        raise ValueError(f"not an ISO 8601 instant: {value!r}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 instant: {value!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _event_date(params: Mapping[str, Any], refs: References) -> tuple[Inbound, None]:
    wanted, first, field = params["type"], params["pick"] == "first", params["field"]

    def inbound(events: Any) -> date | None:
        if type(events) is not list:
            raise ValueError(f"expected a list of events, got {type(events).__name__}")
        found = None
        for event in events:
            if type(event) is dict and event.get("type") == wanted:
                found = _instant(event.get(field) or event.get("created_at")).date()
                if first:
                    break
        return found

    return inbound, None


def _open_minor(params: Mapping[str, Any], refs: References) -> tuple[Inbound, None]:
    def inbound(values: tuple[Any, ...]) -> int:
        status, total = values
        if status in _SETTLED:
            return 0
        if total is None or total == "":
            raise ValueError("needs total_cents")
        return _whole(total)

    return inbound, None


def _is_set(params: Mapping[str, Any], refs: References) -> tuple[Inbound, None]:
    return (lambda value: True), None  # the mapper reads a missing or empty value as the field's default


def _choice(options: frozenset[str]) -> Any:
    def convert(value: Any) -> str:
        if value not in options:
            raise ValueError(f"expected one of {', '.join(sorted(options))}, got {value!r}")
        return str(value)

    return convert


def _event_type(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected an event type, got {value!r}")
    return value


for _t in (
    Transform("cents", _cents, (int,), summary="JSON integer cents <-> minor units (int); fractions refused"),
    Transform(
        "cents_to_major",
        _cents_to_major,
        (Decimal,),
        {"exponent": CURRENCY_EXPONENT},
        summary="integer minor units -> Decimal major units (12345 -> 123.45 in EUR); outbound whole ones only",
        per_currency=True,
    ),
    Transform("json_number", _json_number, (Decimal,), summary="JSON number -> Decimal; outbound an exact number"),
    Transform(
        "fastfaktura_line_net",
        _line_net,
        (int,),
        arity=2,
        reversible=False,
        summary="[quantity, unit_price_cents] -> round_half_up(quantity x price) cents",
    ),
    Transform(
        "fastfaktura_line_tax",
        _line_tax,
        (int,),
        arity=3,
        reversible=False,
        summary="[quantity, unit_price_cents, tax_rate] -> round_half_up(quantity x price x rate / 100) cents",
    ),
    Transform(
        "fastfaktura_event_date",
        _event_date,
        (date,),
        {
            "type": Param(_event_type),
            "pick": Param(_choice(frozenset({"first", "last"})), "first"),
            "field": Param(_choice(_EVENT_FIELDS), "created_at"),
        },
        reversible=False,
        summary="events -> UTC date of the first (or last) event of `type` (its `field`, else created_at)",
    ),
    Transform(
        "fastfaktura_open_minor",
        _open_minor,
        (int,),
        arity=2,
        reversible=False,
        summary=f"[status, total_cents] -> 0 when {InvoiceStatus.PAID.value} or cancelled, else the total",
    ),
    Transform(
        "is_set",
        _is_set,
        (bool,),
        reversible=False,
        summary="true when the value is present and not empty (archived_at -> archived)",
    ),
):
    register(_t)
