"""Facturalia wire shapes: the create payload made ready to send, and the 201 answer read back.

The payload the provider accepts is the mapping's outbound invoice merged with the outbound client
under ``customer``. `prepare_invoice` turns it into what the service takes and checks, before any
request, what the service would certainly refuse:

* null values are dropped everywhere (the service's defaults apply); `date` objects become ISO text;
* ``invoice.due_date`` (a connector-side key) becomes ``invoice.due_days`` = days after ``invoice.date``
  (an explicit ``due_days`` wins; ``due_days_after: em`` cannot go with an exact due date);
* each line needs a ``product_code``: its own, else the connection's ``default_product_code``;
* each line's ``vat_rate`` must be 0, 6, 12 or 21 (sent as an int);
* binary floats are refused anywhere (money is Decimal, sent as exact JSON numbers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connector.errors import ProtocolError
from connector.providers.facturalia.errors import InvalidPayload

__all__ = ["JSON_CONTENT_TYPE", "VAT_RATES", "Created", "prepare_invoice", "read_created"]

PROVIDER = "facturalia"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
VAT_RATES = (0, 6, 12, 21)


def _clean(value: Any, path: str, problems: dict[str, str]) -> Any:
    """A deep copy without nulls, with dates as ISO text; floats are reported."""
    if isinstance(value, Mapping):
        return {k: _clean(v, f"{path}.{k}" if path else str(k), problems) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_clean(v, f"{path}.{i}", problems) for i, v in enumerate(value) if v is not None]
    if isinstance(value, float):
        problems[path] = f"binary float {value!r}: give money and quantities as Decimal"
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _iso_date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def _due_days(invoice: dict[str, Any], problems: dict[str, str]) -> None:
    """Replace the connector-side ``due_date`` by the service's ``due_days``."""
    if "due_date" not in invoice:
        return
    due = invoice.pop("due_date")
    if "due_days" in invoice:
        return
    if invoice.get("due_days_after") == "em":
        problems["invoice.due_days_after"] = "'em' (end of month) cannot be combined with an exact due date"
        return
    issued, due_on = _iso_date(invoice.get("date")), _iso_date(due)
    if due_on is None:
        problems["invoice.due_date"] = f"not a date (YYYY-MM-DD): {due!r}"
    elif issued is None:
        problems["invoice.date"] = "needed (YYYY-MM-DD) to turn due_date into due_days"
    elif due_on < issued:
        problems["invoice.due_date"] = f"{due_on} is before the invoice date {issued}"
    else:
        invoice["due_days"] = (due_on - issued).days


def _line(line: Any, path: str, default_product_code: str | None, problems: dict[str, str]) -> None:
    if not isinstance(line, dict):
        problems[path] = "a line must be an object"
        return
    if not line.get("product_code"):
        if default_product_code:
            line["product_code"] = default_product_code
        else:
            problems[f"{path}.product_code"] = ("no product code: give the line an extra `product_code` or set "
                                                "the connection option `default_product_code`")
    rate = line.get("vat_rate")
    if rate is None:
        problems[f"{path}.vat_rate"] = "required: 0, 6, 12 or 21"
    elif isinstance(rate, bool) or not isinstance(rate, int | Decimal) or rate not in VAT_RATES:
        problems[f"{path}.vat_rate"] = f"VAT rate {rate} is not one Facturalia accepts (0, 6, 12 or 21)"
    else:
        line["vat_rate"] = int(rate)


def prepare_invoice(payload: Mapping[str, Any], default_product_code: str | None = None) -> dict[str, Any]:
    """Make a create payload ready to send (see the module docstring).

    Args:
        payload: the merged outbound invoice + ``customer``.
        default_product_code: the connection's ``default_product_code`` option.

    Returns:
        A new dict; the payload is not changed.

    Raises:
        InvalidPayload: every problem found, by the service's dot paths; nothing was sent.
    """
    problems: dict[str, str] = {}
    body = _clean(payload, "", problems)
    invoice = body.get("invoice")
    if isinstance(invoice, dict):
        _due_days(invoice, problems)
    else:
        problems["invoice"] = "required: an object with at least `date`"
    if not isinstance(body.get("customer"), dict):
        problems["customer"] = "required: merge {'customer': outbound('client', client)} into the payload"
    lines = body.get("lines")
    if not isinstance(lines, list) or not lines:
        problems["lines"] = "required: at least one line"
    else:
        for index, line in enumerate(lines):
            _line(line, f"lines.{index}", default_product_code, problems)
    if problems:
        raise InvalidPayload(problems, provider=PROVIDER)
    return body


@dataclass(frozen=True, slots=True)
class Created:
    """What a 201 answer says about the new (or replayed) invoice."""

    id: str
    number: str | None
    replayed: bool
    totals: dict[str, Decimal]
    pdf: str | None
    body: dict[str, Any]


def read_created(body: Any, replayed: bool) -> Created:
    """Read a 201 answer (decision 13 shape; only ``id`` is relied on).

    Raises:
        ProtocolError: not an object with an ``id``.
    """
    if not isinstance(body, dict) or isinstance(body.get("id"), bool) or not isinstance(body.get("id"), int | str) \
            or body.get("id") == "":
        raise ProtocolError("POST /invoices: expected a JSON object with an `id` in the 201 answer",
                            provider=PROVIDER)
    totals: dict[str, Any] = body["totals"] if isinstance(body.get("totals"), dict) else {}
    links: dict[str, Any] = body["links"] if isinstance(body.get("links"), dict) else {}
    number = body.get("number")
    return Created(
        id=str(body["id"]),
        number=None if number is None else str(number),
        replayed=replayed,
        totals={k: Decimal(v) for k, v in totals.items() if isinstance(v, Decimal | int) and not isinstance(v, bool)},
        pdf=links.get("pdf") if isinstance(links.get("pdf"), str) else None,
        body=body,
    )
