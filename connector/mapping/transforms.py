"""Scalar transforms (text, numbers, money, booleans, dates); importing this module fills the registry.

Every inbound side receives a non-empty wire value (the mapper handles missing and empty values
before calling it) and raises ValueError naming the value it cannot read. Floats are refused: wire
JSON is decoded with ``parse_float=Decimal``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from importlib import import_module
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connector.mapping.registry import (
    CURRENCY_EXPONENT,
    Inbound,
    Outbound,
    Param,
    References,
    Transform,
    exponent_of,
    get_transform,
    known_transforms,
    register,
)
from connector.mapping.values import decimal_text, to_decimal
from connector.money import minor_text, minor_units, plain_text_minor, round_half_up
from connector.plugins import plugin_modules

__all__ = ["get_transform", "known_transforms"]

_ZERO_DATES = frozenset({"0000-00-00", "0000-00-00 00:00:00"})
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _identity(value: Any) -> Any:
    return value


def _text(value: Any) -> str | None:
    if type(value) is str:
        return value.strip() or None
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return decimal_text(to_decimal(value))  # numeric ids such as clientnr 42; bounded: no 1E+999999999
    raise ValueError(f"expected text, got {type(value).__name__} {value!r}")


def _string(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    return _text, _identity


def _empty_to_none(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    return _text, lambda value: "" if value is None else value


def _decimal(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    return to_decimal, lambda value: None if value is None else decimal_text(value)


def _price_decimal(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    places = params["places"]

    def inbound(value: Any) -> Decimal:
        number = to_decimal(value)
        rounded = round_half_up(number, places)  # more places is float noise from the service's encoder
        return number if rounded == number else rounded

    def outbound(value: Decimal | None) -> str | None:
        if value is None:
            return None
        return decimal_text(round_half_up(value, places).normalize())

    return inbound, outbound


def _minor(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    exponent, allow_negative, send_zero = exponent_of(params), params["allow_negative"], params["send_zero"]
    scale = 10**exponent

    def inbound(value: Any) -> int:
        kind = type(value)
        if kind is int:
            minor = value * scale
        else:  # "62.92": the common case, read without a Decimal; more decimals than the currency has round
            plain = plain_text_minor(value, exponent) if kind is str else None
            minor = plain if plain is not None else minor_units(to_decimal(value), exponent)
        if minor < 0 and not allow_negative:
            raise ValueError(f"negative amount {value!r} is not accepted here")
        return minor

    def outbound(value: int | None) -> str | None:
        if value is None:
            return None
        if type(value) is not int:
            raise ValueError(f"minor units must be an int, got {value!r}")
        if not value and not send_zero:
            raise ValueError("an amount of zero, which the service does not take (it moves no money)")
        return minor_text(value, exponent)

    return inbound, outbound


def _int_in(value: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is str and value.strip().lstrip("-").isdigit():
        return int(value)
    if type(value) is Decimal and value.is_finite() and value == value.to_integral_value():
        return int(to_decimal(value))  # bounded first: int(Decimal("1E+999999999")) would not end
    raise ValueError(f"not a whole number: {value!r}")


def _int_str(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    return _int_in, lambda value: None if value is None else str(value)


def _bool_in(value: Any) -> bool:
    if type(value) is bool:
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int, Decimal)) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _bool_str(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    return _bool_in, lambda value: None if value is None else ("true" if value else "false")


def _not_bool_str(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    return (
        lambda value: not _bool_in(value)
    ), lambda value: None if value is None else ("false" if value else "true")


_DAYS: dict[str, date] = {}  # wire text -> its date: a pull reads the same few thousand days again and again
_MAX_DAYS = 8192


def _date_in(value: Any) -> date | None:
    if type(value) is date:
        return value
    if type(value) is str:
        day = _DAYS.get(value)
        if day is None:
            day = _text_date(value)
            if day is not None and len(_DAYS) < _MAX_DAYS:
                _DAYS[value] = day
        return day
    raise ValueError(f"not a date (YYYY-MM-DD): {value!r}")


def _text_date(value: str) -> date | None:
    text = value.strip()
    if text in _ZERO_DATES:  # MySQL's "no date"
        return None
    if len(text) > 10 and text[10] in " T":  # a date-time: keep its date part
        text = text[:10]
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"not a date (YYYY-MM-DD): {value!r}")


def _date(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    pattern: str | None = params["format"]
    outbound = lambda value: None if value is None else value.isoformat()  # noqa: E731
    if pattern is None:
        return _date_in, outbound

    def inbound(value: Any) -> date | None:
        if type(value) is str:
            try:
                return datetime.strptime(value.strip(), pattern).date()
            except ValueError:
                pass
        try:
            return _date_in(value)
        except ValueError:
            raise ValueError(f"not a date ({pattern} or YYYY-MM-DD): {value!r}") from None

    return inbound, outbound


def _pattern(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or "%" not in value:
        raise ValueError(f"expected a strptime pattern such as '%d-%m-%Y', got {value!r}")
    try:
        datetime.strptime(datetime(2001, 2, 3).strftime(value), value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a usable strptime pattern ({exc})") from None
    return value


def _zone(value: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (is the tz database installed?)") from None


def _dates_param(value: Any) -> str:
    if value not in ("midnight", "unknown"):
        raise ValueError(f"expected midnight or unknown, got {value!r}")
    return str(value)


def _datetime_local(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    zone: ZoneInfo = params["zone"]
    dates_unknown = params["dates"] == "unknown"

    def inbound(value: Any) -> datetime | None:
        text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        if text is not None and text.isdigit() and len(text) >= 9:  # Unix seconds
            return datetime.fromtimestamp(int(text), UTC)
        if text in _ZERO_DATES or (dates_unknown and text is not None and len(text) == 10):
            return None  # a date alone does not say when in the day: no time (``dates: unknown``)
        try:
            moment = datetime.fromisoformat(text) if text else None
        except ValueError:
            moment = None
        if moment is None:
            raise ValueError(f"not a date-time (YYYY-MM-DD HH:MM:SS): {value!r}")
        if moment.tzinfo is None:  # the service's local wall clock; an ambiguous hour reads as the first
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)

    def outbound(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

    return inbound, outbound


def _flag_when(params: Mapping[str, Any], refs: References) -> tuple[Inbound, None]:
    target = params["equals"]
    try:
        number: Decimal | None = Decimal(target)
    except InvalidOperation:
        number = None

    def inbound(value: Any) -> bool | None:
        if type(value) is str:
            hit = value.strip() == target
        elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            hit = number is not None and value == number
        else:
            hit = False
        return True if hit else None

    return inbound, None


def _text_param(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"expected text or a whole number, got {value!r}")
    return str(value)


def _int_param(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise ValueError(f"expected a whole number 0..6, got {value!r}")
    return value


def _bool_param(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


_MINOR_PARAMS = {
    "exponent": CURRENCY_EXPONENT,
    "allow_negative": Param(_bool_param, True),
    "send_zero": Param(_bool_param, True),  # false: outbound, zero is refused (a payment the service would refuse)
}

for _t in (
    Transform("string", _string, (str,), summary="text, stripped; empty -> none; outbound as is"),
    Transform(
        "empty_to_none", _empty_to_none, (str,), summary="text, stripped; empty -> none; outbound none -> ''"
    ),
    Transform("decimal", _decimal, (Decimal,), summary="number -> Decimal; outbound plain text"),
    Transform(
        "price_decimal",
        _price_decimal,
        (Decimal,),
        {"places": Param(_int_param, 3)},
        summary="price -> Decimal with at most `places` decimals (3)",
    ),
    Transform(
        "decimal_str_to_minor",
        _minor,
        (int,),
        _MINOR_PARAMS,
        summary="'62.92' -> 6292 minor units (the currency's decimals: JPY '1234' -> 1234); outbound 6292 -> '62.92'",
        per_currency=True,
    ),
    Transform("int_str", _int_str, (int,), summary="'30' -> 30; outbound '30'"),
    Transform(
        "bool_str", _bool_str, (bool,), summary="'true'/'false'/'1'/'0' -> bool; outbound 'true'/'false'"
    ),
    Transform("not_bool_str", _not_bool_str, (bool,), summary="negated bool_str (active -> archived)"),
    Transform(
        "date",
        _date,
        (date,),
        {"format": Param(_pattern, None)},
        summary="'YYYY-MM-DD' (or the strptime `format`, e.g. '%d-%m-%Y', besides it) -> date; outbound ISO date",
    ),
    Transform(
        "datetime_local",
        _datetime_local,
        (datetime,),
        {"zone": Param(_zone, "Europe/Amsterdam"), "dates": Param(_dates_param, "midnight")},
        summary="naive local date-time in `zone` (Europe/Amsterdam) -> aware UTC; a date alone is its midnight, "
        "or no time with `dates: unknown`",
    ),
    Transform(
        "flag_when",
        _flag_when,
        (bool,),
        {"equals": Param(_text_param)},
        reversible=False,
        summary="true when the value equals `equals`, else none (for flags in extra)",
    ),
):
    register(_t)

# The structured transforms register themselves on import, and so do each installed provider's own
# (``<provider package>.transforms``, found through its entry point).
from connector.mapping import composite as _composite  # noqa: E402,F401
from connector.mapping import phones as _phones  # noqa: E402,F401

for _module in plugin_modules("transforms"):
    import_module(_module)
