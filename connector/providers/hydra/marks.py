"""The connector's marks on what it creates at hydra, and how a create is recognised after an ambiguous failure.

The service takes no idempotency key and its POST is not idempotent, so a create whose answer was lost (a
timeout, a dropped connection) may or may not have happened. Before trying again the push asks the provider
to look (`Provider.find_marked`). What identifies a create, per kind (`connector.providers.markers`):

- a customer without an external id of its own carries the marker as its ``externalId`` (found with the
  ``externalId`` search filter); one with an external id keeps it, and is recognised by that external id
  and its name;
- an invoice carries the marker at the end of its ``reference`` (after the record's own reference, if any)
  and is looked for among its customer's invoices;
- a transaction has no free field: it is recognised by content (same invoice, amount and date) among those
  no other canonical payment is linked to.

Records read from the service lose the markers (`unmark`), so a marker never becomes canonical data, a
push diff or a reason to think a record was edited.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from connector.errors import ProtocolError
from connector.providers.hydra.rows import number
from connector.providers.hydra.wire import iri_id
from connector.providers.markers import unmarked

__all__ = ["carries", "mark", "same_customer", "same_transaction", "unmark"]

_MARKED = {"client": "externalId", "invoice": "reference"}  # kind -> the field the marker goes in


def mark(kind: str, body: dict[str, Any], marker: str) -> dict[str, Any]:
    """The create body with the marker in the kind's field (a customer's own external id is left alone)."""
    field = _MARKED.get(kind)
    if field is None:
        return body
    own = str(body.get(field) or "").strip()
    if kind == "client" and own:
        return body
    return {**body, field: f"{own} {marker}" if own else marker}


def unmark(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """A record as read, without the connector's markers (the same dict when it carries none)."""
    field = _MARKED.get(kind)
    value = record.get(field) if field else None
    if field is None or not isinstance(value, str) or unmarked(value) == value:
        return record
    rest = unmarked(value)
    cleaned = {key: item for key, item in record.items() if key != field}
    if rest is not None:
        cleaned[field] = rest  # the service leaves null properties out, so an emptied field goes too
    return cleaned


def carries(kind: str, record: Mapping[str, Any], marker: str) -> bool:
    """True when the record holds this marker in the kind's field."""
    field = _MARKED.get(kind)
    value = record.get(field) if field else None
    return isinstance(value, str) and marker in value.split()


def same_customer(record: Mapping[str, Any], sent: Mapping[str, Any]) -> bool:
    """True when a customer has the external id and the name a create sent."""
    return all(_text(record.get(key)) == _text(sent.get(key)) for key in ("externalId", "name"))


def same_transaction(record: Mapping[str, Any], sent: Mapping[str, Any]) -> bool:
    """True when a transaction is on the same invoice, for the same amount, on the same date as a create sent."""
    try:
        if iri_id(record.get("invoice")) != iri_id(sent.get("invoice")):
            return False
    except ProtocolError:  # a relation that is neither an IRI nor an id
        return False
    same_amount = number(record.get("amount")) == number(sent.get("amount"))
    return same_amount and _same_day(record.get("date"), sent.get("date"))


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _same_day(held: Any, sent: Any) -> bool:
    """A date-time the service holds against what was sent: a plain date compares by day, else the instant."""
    try:
        moment = datetime.fromisoformat(str(held))
        if isinstance(sent, datetime):
            return moment == sent
        if isinstance(sent, date):
            return moment.date() == sent
        text = str(sent)
        return moment.date() == date.fromisoformat(text) if len(text) == 10 else moment == datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return False
