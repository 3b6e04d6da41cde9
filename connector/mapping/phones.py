"""Phone numbers in E.164 (``+<country code><national number>``, at most 15 digits) from how people write them.

A number already written internationally (``+31 20 123 4567``, ``0031 20 1234567``, ``+31 (0)20 1234567``)
needs no country; a national one (``020 123 4567``) is read with the record's country: its trunk prefix
is dropped and its calling code put in front. Anything that cannot be made E.164 without guessing (letters,
a national number without its trunk prefix, no country, a country not in the table, too few or too many
digits) raises ValueError naming the problem, so the mapper refuses the record instead of sending
something wrong or dropping the number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connector.mapping.registry import Inbound, Outbound, Param, References, Transform, get_transform, register

__all__ = ["PLANS", "NumberingPlan", "to_e164"]

MAX_DIGITS = 15  # E.164: country code + national number
MIN_DIGITS = 7  # the shortest numbers in use (+683 Niue: 3 + 4 digits); fewer is a typing slip
_SEPARATORS = str.maketrans("", "", "-./()")  # besides white space; "/" is common in German numbers


@dataclass(frozen=True, slots=True)
class NumberingPlan:
    """How one country's numbers are written at home.

    Attributes:
        code: the calling code, digits only ("31").
        trunks: trunk prefixes a national number starts with, dropped in E.164 ("0"; Hungary "06");
            empty where there is none (Italy: the leading 0 belongs to the number).
        trunk_optional: numbers are often written without the trunk prefix (NANP: "212 555 0100").
        international: prefixes of a number dialled abroad ("00"; NANP "011", and "00" as written in Europe:
            no national number there starts with 0).
        national_digits: the exact length of a national number, where every number has the same one.
        first_digits: the digits a national number (without trunk prefix) can start with, where that is fixed.
    """

    code: str
    trunks: tuple[str, ...]
    trunk_optional: bool = False
    international: tuple[str, ...] = ("00",)
    national_digits: int | None = None
    first_digits: str = "0123456789"


# ISO 3166-1 alpha-2, calling code, trunk prefix ("-": none, "a/b": either) and, where every national number
# has the same length, that length: the EU and EEA states, GB, CH. Sources: the ITU-T E.164 list of country
# codes and the national numbering plans. Lithuania's trunk prefix is 0 since March 2024, 8 before (still
# written); its numbers all have 8 digits, so a national number starting with 8 is never misread.
_EUROPE = """
AT 43 0|BE 32 0|BG 359 0|CH 41 0|CY 357 -|CZ 420 -|DE 49 0|DK 45 -|EE 372 -|ES 34 -|FI 358 0|FR 33 0
GB 44 0|GR 30 -|HR 385 0|HU 36 06|IE 353 0|IS 354 -|IT 39 -|LI 423 -|LT 370 0/8 8|LU 352 -|LV 371 -|MT 356 -
NL 31 0|NO 47 -|PL 48 -|PT 351 -|RO 40 0|SE 46 0|SI 386 0|SK 421 0
"""


def _plans(table: str) -> dict[str, NumberingPlan]:
    plans = {}
    for row in table.replace("\n", "|").split("|"):
        if row.strip():
            iso, code, trunk, *digits = row.split()
            trunks = () if trunk == "-" else tuple(trunk.split("/"))
            plans[iso] = NumberingPlan(code, trunks, national_digits=int(digits[0]) if digits else None)
    return plans


# The North American Numbering Plan: trunk prefix 1, usually left out; ten digits, the area code first (2-9);
# 011 abroad.
_NANP = NumberingPlan("1", ("1",), True, ("011", "00"), 10, "23456789")
PLANS: Mapping[str, NumberingPlan] = {**_plans(_EUROPE), "US": _NANP, "CA": _NANP}
"""Numbering plans by ISO 3166-1 alpha-2 country code."""


def _clean(text: str) -> str:
    """Drop white space and separators; "+31 (0)20" -> "+3120": the (0) is the trunk prefix, shown for callers
    at home, never dialled from abroad."""
    compact = "".join(text.split())
    if compact.startswith(("+", "00")):
        compact = compact.replace("(0)", "", 1)
    return compact.translate(_SEPARATORS)


def _refuse(text: str, problem: str) -> ValueError:
    return ValueError(f"{text!r} cannot be written in E.164: {problem}")


def _checked(text: str, digits: str) -> str:
    """`digits` (country code + national number) as E.164, or ValueError for a wrong length."""
    if not digits or digits[0] == "0":
        raise _refuse(text, "a country code never starts with 0")
    if len(digits) > MAX_DIGITS:
        raise _refuse(text, f"too long: {len(digits)} digits, E.164 allows at most {MAX_DIGITS}")
    if len(digits) < MIN_DIGITS:
        raise _refuse(text, f"too short: {len(digits)} digits with the country code, at least {MIN_DIGITS}")
    return "+" + digits


def _national(text: str, number: str, country: str | None) -> str:
    if not country:
        raise _refuse(text, "it is a national number and the record has no country to read it in")
    plan = PLANS.get(country.strip().upper())
    if plan is None:
        raise _refuse(text, f"no calling code known for country {country!r}")
    trunk = next((t for t in plan.trunks if number.startswith(t)), None)
    if trunk is not None and not (plan.trunk_optional and len(number) == plan.national_digits):
        number = number[len(trunk) :]
    elif plan.trunks and not plan.trunk_optional:
        trunks = " or ".join(plan.trunks)
        raise _refuse(
            text, f"it is not international (+ or 00) and a national number in {country} starts with {trunks}"
        )
    if plan.national_digits is not None and len(number) != plan.national_digits:
        raise _refuse(text, f"a national number in {country} has {plan.national_digits} digits, not {len(number)}")
    if number[:1] not in plan.first_digits:
        raise _refuse(text, f"a national number in {country} does not start with {number[:1] or 'nothing'}")
    return _checked(text, plan.code + number)


def to_e164(text: str, country: str | None) -> str:
    """Write a phone number in E.164.

    Args:
        text: the number as written: international ("+31 20 123 4567", "0031 20 1234567") or national
            ("020 123 4567"); white space, dashes, dots, slashes and parentheses are ignored.
        country: ISO 3166-1 alpha-2 code of the country a national number is read in (None: unknown).

    Returns:
        "+" and 7 to 15 digits.

    Raises:
        ValueError: the number cannot be written in E.164 without guessing; the message names the problem.
    """
    compact = _clean(text)
    plan = PLANS.get(country.strip().upper()) if country else None
    international = plan.international if plan is not None else ("00",)
    prefix = "+" if compact.startswith("+") else next((p for p in international if compact.startswith(p)), None)
    number = None if prefix is None else compact[len(prefix) :]
    body = compact if number is None else number
    if not body.isdigit() or not body.isascii():
        letters = "".join(ch for ch in body if ch.isalpha())
        if letters:
            raise _refuse(text, f"it contains letters ({letters!r})")
        odd = "".join(dict.fromkeys(ch for ch in body if not (ch.isascii() and ch.isdigit())))
        raise _refuse(text, f"it contains {odd!r}" if odd else "it has no digits")
    if number is not None:
        return _checked(text, number)
    return _national(text, compact, country)


def _e164_phone(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    inbound = get_transform("string").build({}, refs)[0]  # read as any text: what the service holds is its own

    def outbound(values: tuple[Any, ...]) -> str | None:
        phone, country = values
        if phone is None or (type(phone) is str and not phone.strip()):
            return None
        if type(phone) is not str:
            raise ValueError(f"expected a phone number as text, got {type(phone).__name__} {phone!r}")
        return to_e164(phone, country if type(country) is str else None)

    return inbound, outbound


def _field_name(value: Any) -> str:
    if not isinstance(value, str) or not value.isidentifier():
        raise ValueError(f"expected the name of a canonical field, got {value!r}")
    return value


register(
    Transform(
        "e164_phone",
        _e164_phone,
        (str,),
        {"country_field": Param(_field_name, "country", field=True)},
        summary="text as read; outbound E.164 (+31201234567), a national number read in the record's "
        "`country_field` (default country); refused when that would be a guess",
    )
)
