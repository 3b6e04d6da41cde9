"""Transforms particular to the facturalia mapping; importing this module registers them.

Facturalia (PROVIDERS.md section 2) takes money and quantities as JSON numbers in decimal euros, VAT
rates from a closed set, invoices in EUR only and no line discounts. The outbound sides check what the
service would refuse, so a bad record fails in the mapping (MappingError naming the field) before any
request is made. An outbound ``None`` means "not sent": the provider drops null values from the payload.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connector.mapping.registry import Inbound, Outbound, References, Transform, register
from connector.mapping.values import to_decimal

__all__ = ["FACTURALIA_VAT_RATES"]

FACTURALIA_VAT_RATES = (0, 6, 12, 21)
_ISO2 = re.compile(r"^[A-Za-z]{2}$")


def _number(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    def outbound(value: Decimal | None) -> Decimal | None:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"expected a finite Decimal, got {value!r}")
        return value  # sent as an exact JSON number by the HTTP layer, never through float

    return to_decimal, outbound


def _vat_rate(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    def outbound(value: Decimal | None) -> int:
        if value is None or value not in FACTURALIA_VAT_RATES:
            allowed = ", ".join(map(str, FACTURALIA_VAT_RATES))
            raise ValueError(f"VAT rate {value}% is not one Facturalia accepts ({allowed})")
        return int(value)

    return to_decimal, outbound


def _currency(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    def inbound(value: Any) -> str:
        if type(value) is not str or not value.strip():
            raise ValueError(f"not a currency code: {value!r}")
        return value.strip().upper()

    def outbound(value: str | None) -> None:
        if value is not None and value.upper() != "EUR":
            raise ValueError(f"Facturalia invoices are in EUR only, not {value}")
        return None  # EUR is the service's default; the request has no currency field

    return inbound, outbound


def _no_discount(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    def outbound(value: Decimal | None) -> None:
        if value:
            raise ValueError(f"Facturalia invoice lines take no discount ({value}% given)")
        return None

    return to_decimal, outbound


def _country(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    def inbound(value: Any) -> str:
        if type(value) is not str or not _ISO2.match(value.strip()):
            raise ValueError(f"not an ISO 3166-1 alpha-2 country code: {value!r}")
        return value.strip().upper()

    def outbound(value: str | None) -> str | None:
        return None if value is None else inbound(value)

    return inbound, outbound


for _t in (
    Transform("facturalia_number", _number, (Decimal,),
              summary="JSON number -> Decimal; outbound the Decimal itself (an exact JSON number)"),
    Transform("facturalia_vat_rate", _vat_rate, (Decimal,),
              summary="VAT percent -> Decimal; outbound an int, only 0, 6, 12 or 21"),
    Transform("facturalia_currency", _currency, (str,),
              summary="currency code; outbound EUR is not sent (the default), anything else is refused"),
    Transform("facturalia_no_discount", _no_discount, (Decimal,),
              summary="line discount; outbound 0 is not sent, anything else is refused"),
    Transform("facturalia_country", _country, (str,),
              summary="ISO 3166-1 alpha-2 country code, upper case, both ways"),
):
    register(_t)
