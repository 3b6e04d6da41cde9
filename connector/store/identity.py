"""Identity across services: the canonical client a newly seen remote client already is.

Rules (DESIGN.md "Reconcile"): the same normalised e-mail, VAT number or external id as a canonical
client that this connection does not hold yet. Ambiguous matches (two canonical clients) match nothing:
a wrong merge is worse than a duplicate, which a person can merge later.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, func, select

from connector.domain import CanonicalClient, EntityKind
from connector.store.sql import chunks
from connector.store.tables import client_table, link_table

__all__ = ["match_clients", "normal_email", "normal_vat"]

_client = client_table
_link = link_table


def normal_email(value: str | None) -> str | None:
    """Lower-cased, trimmed e-mail; None when empty."""
    text = (value or "").strip().lower()
    return text or None


def normal_vat(value: str | None) -> str | None:
    """VAT number without spaces, dots or dashes, upper-cased; None when empty."""
    text = "".join(ch for ch in (value or "") if ch.isalnum()).upper()
    return text or None


def match_clients(conn: Connection, connection: str, records: Sequence[CanonicalClient]) -> dict[int, int]:
    """Return {position in `records`: canonical client id} for records that are a known client."""
    keys: dict[str, set[str]] = {
        "email": {e for e in (normal_email(r.email) for r in records) if e},
        "vat": {v for v in (normal_vat(r.vat_number) for r in records) if v},
        "external": {x for x in ((r.external_id or "").strip() for r in records) if x},
    }
    if not any(keys.values()):
        return {}
    held = select(_link.c.entity_id).where(
        _link.c.connection == connection, _link.c.entity_kind == EntityKind.CLIENT, _link.c.remote_deleted_at.is_(None)
    )
    email_sql = func.lower(func.trim(_client.c.email))
    vat_sql = func.upper(func.replace(func.replace(func.replace(_client.c.vat_number, " ", ""), ".", ""), "-", ""))
    found: dict[str, dict[str, set[int]]] = {"email": {}, "vat": {}, "external": {}}
    for name, column in (("email", email_sql), ("vat", vat_sql), ("external", _client.c.external_id)):
        for batch in chunks(sorted(keys[name]), 500):
            rows = conn.execute(
                select(_client.c.id, column).where(
                    column.in_(batch), _client.c.remote_deleted_at.is_(None), _client.c.id.not_in(held)
                )
            )
            for client_id, key in rows:
                found[name].setdefault(str(key), set()).add(int(client_id))
    matches: dict[int, int] = {}
    taken: set[int] = set()
    for position, record in enumerate(records):
        candidates: set[int] = set()
        for name, key in (
            ("email", normal_email(record.email)),
            ("vat", normal_vat(record.vat_number)),
            ("external", (record.external_id or "").strip() or None),
        ):
            if key is not None:
                candidates |= found[name].get(key, set())
        if len(candidates) == 1 and not candidates & taken:
            matches[position] = candidates.pop()
            taken.add(matches[position])
    return matches
