"""Collection queries: paging, DateFilter, OrderFilter and SearchFilter read from a PHP query tree.

Paging (decision 31): ``page`` (1-based; < 1 -> 400 "Page should not be less than 1"), ``itemsPerPage``
(default 30, silently clamped at 100, negative -> 400 "Limit should not be less than 0"), values read
with PHP's ``(int)`` cast. Filters (decision 32) per resource are declared in `SPECS`; unknown
parameters are ignored and an unparsable date leaves its filter out. Results are ordered by the
``order[...]`` parameters in the order given, then by id ascending (also the default order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sandboxes.hydra.errors import BadRequest
from sandboxes.hydra.phpquery import Params, php_int, values_of
from sandboxes.hydra.records import Record
from sandboxes.hydra.wire import API_PREFIX

__all__ = ["DEFAULT_PER_PAGE", "MAX_PER_PAGE", "SPECS", "FilterSpec", "Query", "parse_date", "read_query", "select"]

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
_OPS: dict[str, Callable[[float, float], bool]] = {
    "before": lambda v, x: v <= x,
    "strictly_before": lambda v, x: v < x,
    "after": lambda v, x: v >= x,
    "strictly_after": lambda v, x: v > x,
}


def _midnight(value: date | None) -> float | None:
    return None if value is None else datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()


# wire property -> how to read it from a record (numbers for dates: epoch seconds)
_GETTERS: dict[str, Callable[[Any], Any]] = {
    "id": lambda r: r.id,
    "updatedAt": lambda r: r.updated,
    "createdAt": lambda r: r.created,
    "name": lambda r: r.name,
    "customer": lambda r: r.customer_id,
    "invoice": lambda r: r.invoice_id,
    "status": lambda r: r.status,
    "externalId": lambda r: r.external_id,
}
_INVOICE_DATE: Callable[[Any], Any] = lambda r: _midnight(r.issued)  # noqa: E731
_TRANSACTION_DATE: Callable[[Any], Any] = lambda r: r.date  # noqa: E731


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """The filters one resource declares.

    Attributes:
        dates: DateFilter properties.
        orders: OrderFilter properties.
        search: SearchFilter properties (exact); the value names the resource a relation points to
            (its IRIs are accepted as well as plain ids), "" for a plain value.
        getters: extra property readers for this resource (``date`` differs per resource).
    """

    dates: tuple[str, ...]
    orders: tuple[str, ...]
    search: dict[str, str] = field(default_factory=dict)
    getters: dict[str, Callable[[Any], Any]] = field(default_factory=dict)

    def getter(self, name: str) -> Callable[[Any], Any]:
        """How to read property `name` from a record."""
        return self.getters.get(name) or _GETTERS[name]


SPECS: dict[str, FilterSpec] = {
    "customers": FilterSpec(("updatedAt", "createdAt"), ("id", "updatedAt", "createdAt", "name"),
                            {"externalId": ""}),
    "invoices": FilterSpec(("updatedAt", "createdAt", "date"), ("id", "updatedAt", "createdAt", "date"),
                           {"customer": "customers", "status": ""}, {"date": _INVOICE_DATE}),
    "invoice-rows": FilterSpec(("updatedAt", "createdAt"), ("id", "updatedAt"), {"invoice": "invoices"}),
    "invoice-transactions": FilterSpec(("updatedAt", "createdAt", "date"), ("id", "updatedAt", "date"),
                                       {"invoice": "invoices"}, {"date": _TRANSACTION_DATE}),
    "payment-methods": FilterSpec((), ("id", "updatedAt")),
}


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed collection request: which records (the cache key) and which page of them."""

    resource: str
    page: int
    per_page: int
    dates: tuple[tuple[str, str, float], ...] = ()
    order: tuple[tuple[str, bool], ...] = ()  # (property, descending)
    search: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    scope: str = ""  # "draft", "name:2024-03", "deleted"

    @property
    def key(self) -> tuple[Any, ...]:
        """What selects the records (paging aside)."""
        return (self.resource, self.scope, self.dates, self.order, self.search)


_RELATIVE = {"now": 0, "today": 0, "midnight": 0, "yesterday": -1, "tomorrow": 1}


def parse_date(text: str, now: float) -> float | None:
    """Read a DateFilter value as epoch seconds, roughly as PHP's DateTime does; None when unparsable.

    ISO 8601 dates and date-times (``T`` or space, optional seconds, fraction, ``Z`` or offset; naive
    values are UTC), ``@<epoch>``, and now/today/midnight/yesterday/tomorrow.
    """
    value = text.strip()
    lowered = value.lower()
    if lowered in _RELATIVE:
        if lowered == "now":
            return now
        day = datetime.fromtimestamp(now, UTC).date() + timedelta(days=_RELATIVE[lowered])
        return _midnight(day)
    if value.startswith("@") and value[1:].lstrip("-").isdigit():
        return float(value[1:])
    if len(value) < 10 or value[4:5] != "-" or value[7:8] != "-":
        return None
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _relation_id(value: str, target: str) -> Any:
    """A SearchFilter value on a relation: an IRI of the target resource or a plain id; else no match."""
    prefix = f"{API_PREFIX}/{target}/"
    text = value[len(prefix):] if value.startswith(prefix) else value
    return int(text) if text.isdigit() else ("<no match>", value)


def read_query(resource: str, params: Params, now: float, scope: str = "", max_per_page: int = MAX_PER_PAGE) -> Query:
    """Turn the parsed query string of a collection request into a `Query`.

    Raises:
        BadRequest: ``page`` below 1, a negative ``itemsPerPage``, or a page past 1 with zero per page.
    """
    spec = SPECS[resource]
    page = php_int(params.get("page"), 1)
    if page < 1:
        raise BadRequest("Page should not be less than 1")
    per_page = php_int(params.get("itemsPerPage"), DEFAULT_PER_PAGE)
    if per_page < 0:
        raise BadRequest("Limit should not be less than 0")
    per_page = min(per_page, max_per_page)
    if per_page == 0 and page > 1:
        raise BadRequest("Page should not be greater than 1 if limit is equal to 0")
    dates = []
    for prop in spec.dates:
        ops = params.get(prop)
        if isinstance(ops, dict):
            for op, raw in ops.items():
                moment = parse_date(raw, now) if op in _OPS and isinstance(raw, str) else None
                if moment is not None:
                    dates.append((prop, op, moment))
    order = []
    orders = params.get("order")
    if isinstance(orders, dict):
        for prop, direction in orders.items():
            if prop in spec.orders and isinstance(direction, str) and direction.lower() in ("asc", "desc"):
                order.append((prop, direction.lower() == "desc"))
    search = []
    for prop, target in spec.search.items():
        wanted = [v for v in values_of(params.get(prop)) if v != ""]
        if wanted:
            ids = tuple(_relation_id(v, target) if target else v for v in wanted)
            search.append((prop, tuple(sorted(set(ids), key=repr))))
    return Query(resource, page, per_page, tuple(dates), tuple(order), tuple(search), scope)


def select(records: Sequence[Record], query: Query) -> list[Record]:
    """Apply the query's search and date filters and its order to live records given in id order."""
    spec = SPECS[query.resource]
    items = list(records)
    for prop, wanted in query.search:
        get, allowed = spec.getter(prop), set(wanted)
        items = [r for r in items if get(r) in allowed]
    for prop, op, moment in query.dates:
        get, test = spec.getter(prop), _OPS[op]
        items = [r for r in items if (v := get(r)) is not None and test(v, moment)]
    for prop, descending in reversed(query.order):
        get = spec.getter(prop)
        items.sort(key=lambda r: (get(r) is not None, get(r) if get(r) is not None else 0), reverse=descending)
    return items
