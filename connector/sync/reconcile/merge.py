"""Field-level merge: a service speaks for the fields its mapping reads, and for nothing else.

A client is kept at several services, and each maps a different subset of the canonical fields (hydra's
customers have no currency, FactuurSturen's no external id). Reading a client back from a service must not
blank what that service never carried, or every pull would rewrite the canonical record (and, through it,
push to every other service). So an update takes the columns the connection's mapping fills (`FieldsRead`),
and the `extra` keys it fills, and keeps every other column as stored.

Within the fields it reads, a service speaks only for those it changed: a field whose value is what the
service held the last time the connector saw it there (its last payload read, or the image the push wrote)
keeps the stored value (`unchanged_there`). So a service that writes a field its own way (FastFaktura's
phone in E.164) does not, when a person edits another field there, send that spelling to every other
service; and a field edited elsewhere since is not overwritten by the service's older value.

The same holds for the connector's own writes read back: a service adds its defaults to what it was sent
(FactuurSturen a send method, a payment method), so a record read back is the connector's write when every
value the connector sent comes back equal, whatever the service added (`is_own_write`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

__all__ = ["ReadsFields", "column_of", "is_own_write", "merge_row", "seen_there", "unchanged_there"]

_COLUMN = {"archived": "archived_at"}  # canonical field -> the column it is stored in, where they differ
_ALWAYS_NEW = ("updated_at", "remote_deleted_at", "remote_updated_at")  # the accepted change is the newest
_UNSENT = (None, "")  # providers leave empty values out of what they send


def column_of(field: str) -> str:
    """The client column a canonical field is stored in (``archived`` is ``archived_at``)."""
    return _COLUMN.get(field, field)


class ReadsFields(Protocol):
    """What a mapping fills when it reads a record (`connector.mapping.mapper.FieldsRead`)."""

    fields: frozenset[str]
    extra: frozenset[str] | None


def merge_row(
    incoming: dict[str, Any],
    stored: Mapping[str, Any],
    reads: ReadsFields | None,
    unchanged: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The row to write: the incoming values of the fields `reads` names, the stored values of the rest.

    Args:
        incoming: the record's column values as the connection gave them.
        stored: the canonical row as stored.
        reads: what the connection's mapping fills; None takes the incoming row whole.
        unchanged: columns (and ``extra.<key>`` entries) the service has not changed since the connector last
            saw it (`unchanged_there`); they keep their stored values.
    """
    if reads is None:
        return incoming
    merged = {name: stored.get(name) for name in incoming}
    merged.update({name: incoming[name] for name in _ALWAYS_NEW if name in incoming})
    for field in reads.fields:
        column = column_of(field)
        if column in incoming and column != "extra" and column not in unchanged:
            merged[column] = incoming[column]
    if "extra" in incoming:
        theirs = dict(incoming["extra"] or {})
        ours = dict(stored.get("extra") or {})
        for key in [k for k in theirs if f"extra.{k}" in unchanged]:
            if key in ours:
                theirs[key] = ours[key]
            else:
                del theirs[key]  # a value the service holds (a default of its own) but never changed
        if reads.extra is None:
            merged["extra"] = theirs
        else:
            kept = {k: v for k, v in dict(stored.get("extra") or {}).items() if k not in reads.extra}
            merged["extra"] = {**kept, **theirs}
    return merged


def unchanged_there(
    incoming: Mapping[str, Any], before: Mapping[str, Any], reads: ReadsFields | None
) -> frozenset[str]:
    """The columns among those `reads` names that hold the same value in `incoming` as in `before`.

    Args:
        incoming: the record's column values as the service gives them now.
        before: the column values of what the service held when the connector last saw it there.
        reads: what the connection's mapping fills.
    """
    if reads is None:
        return frozenset()
    columns = (column_of(field) for field in reads.fields)
    same = {c for c in columns if c != "extra" and c in incoming and c in before and _same(c, incoming[c], before[c])}
    now_extra, then_extra = incoming.get("extra") or {}, before.get("extra") or {}
    same.update(f"extra.{k}" for k, v in now_extra.items() if k in then_extra and then_extra[k] == v)
    return frozenset(same)


def seen_there(payload: Mapping[str, Any], then: Mapping[str, Any], image: bool) -> dict[str, Any]:
    """What the service held when the connector last saw it there, as a payload its mapping reads.

    Args:
        payload: the payload read now.
        then: the link's raw record: the payload last read, or the image the push last wrote.
        image: whether `then` is the push's image (its ledger hash is the link's write ledger).

    A payload read from the service is whole: a key it lacks was empty there (hydra leaves nulls out), so a
    value that appears since is a change. An image holds only what the connector sends (no id, no service
    timestamps); the keys it lacks are read from the new payload, so they count as unchanged and the fields
    the connector wrote are compared as written.
    """
    return {**payload, **then} if image else dict(then)


def _same(column: str, now: Any, then: Any) -> bool:
    if column in _COLUMN.values():  # a flag stored as the moment it was set: archived or not is what counts
        return (now is None) == (then is None)
    return bool(now == then)


def is_own_write(written: Mapping[str, Any], read_back: Mapping[str, Any]) -> bool:
    """True when every value in the `written` image comes back equal in the image of the record read back.

    Both are outbound images of the same mapping (the second made from the record the service returned), so
    spellings agree; keys the connector did not send (None, "" or absent) are the service's to fill.
    """
    return all(_plain(read_back.get(key)) == _plain(value) for key, value in written.items() if value not in _UNSENT)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return format(Decimal(str(value)).normalize(), "f")
    return value if value is None or isinstance(value, (bool, str)) else str(value)
