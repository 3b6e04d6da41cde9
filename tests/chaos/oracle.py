"""The oracle: a service's truth (its control surface) against the store (plain SQL), by its own small rules.

Both sides are reduced to one shape, a `Snapshot` keyed by the service's own ids:

* clients: id -> a tuple of compared fields; invoices: id -> a dict of compared fields (lines included);
  payments: a multiset of (invoice id, date, cents) per live invoice; deleted: the ids per kind that
  the service deleted (truth) or the store marked deleted.

The rules per service, all written here and nowhere else (money in integer cents, dates as ISO days):

* factuursturen: client name = company, else contact; email, city ("" = none). Invoice number =
  invoicenr_full, else invoicenr; client = clientnr; issued = sent; due = duedate; total = totalintax;
  tax; open; lines = each linetotal in line order. Payment = (invoice id, date, amount) of every history
  item with an amount. Deleted = deleted_invoices, deleted_clients.
* fastfaktura: client name, email, archived (archived_at set). Invoice number, client = client_id,
  issued = the first `sent` event's day, due = due_date, subtotal/tax/total cents, open = 0 when paid
  or cancelled else the total, lines = quantity x unit_price_cents rounded half up. Payment = (invoice
  id, paid_at day, amount_cents) of every `paid` event. Nothing is ever deleted (clients are archived).
* hydra: customer name, email, city, country. Invoice number, customer id, issued = date's day, due =
  dueDate's day, net/vat/gross, openAmount, lines = each row's netAmount. Payment = (invoice id, date's
  day, amount) of every live transaction. Deleted = records marked "deleted".

The store side reads `link` (connection, entity_kind, remote_id, entity_id, remote_deleted_at) and the
`client`, `invoice`, `invoice_line` and `payment` tables; a record is live when neither its link nor its
row is marked deleted.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["Findings", "Snapshot", "compare", "store_snapshot", "truth_snapshot"]

KINDS = ("client", "invoice", "payment")


@dataclass
class Snapshot:
    """Clients, invoices and payments keyed by the service's ids, plus the ids known deleted."""

    clients: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    deleted: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in KINDS})


@dataclass
class Findings:
    """What the store gets wrong, by category; each item a short human line."""

    lost: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    undeleted: list[str] = field(default_factory=list)
    wrongly_deleted: list[str] = field(default_factory=list)

    CATEGORIES = ("lost", "extra", "wrong", "undeleted", "wrongly_deleted")

    def counts(self) -> dict[str, int]:
        """How many findings per category."""
        return {name: len(getattr(self, name)) for name in self.CATEGORIES}

    def __bool__(self) -> bool:
        """True when the store is wrong in any way."""
        return any(self.counts().values())

    def without_undeleted(self) -> Findings:
        """The same findings minus `undeleted` (before the sweep the product promises for deletions)."""
        return Findings(self.lost, self.extra, self.wrong, [], self.wrongly_deleted)

    def describe(self, limit: int = 8) -> str:
        """Counts and the first few items of each category."""
        parts = []
        for name in self.CATEGORIES:
            items = getattr(self, name)
            if items:
                shown = "; ".join(items[:limit]) + (" ..." if len(items) > limit else "")
                parts.append(f"{name}={len(items)} [{shown}]")
        return ", ".join(parts) or "ok"


# -- the rules --------------------------------------------------------------------------------------------


def cents(value: Any) -> int:
    """'62.92', 62.92 or Decimal -> 6292, exact (a value with more than two decimals is rounded half up)."""
    return int((Decimal(str(value)) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def _text(value: Any) -> str | None:
    """Empty or absent -> None; otherwise the stripped string."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _email(value: Any) -> str | None:
    text = _text(value)
    return text.lower() if text else None


def _day(value: Any) -> str | None:
    text = _text(value)
    return text[:10] if text else None


def _ordered(value: Any) -> list[Any]:
    """FactuurSturen's keyed objects (line1, line2, ... item10) in number order, or a list as it is."""
    if isinstance(value, dict):
        return [value[k] for k in sorted(value, key=lambda k: int("".join(c for c in k if c.isdigit()) or 0))]
    return list(value or [])


def _factuursturen(state: dict[str, Any]) -> Snapshot:
    snap = Snapshot()
    for c in state["clients"]:
        snap.clients[str(c["clientnr"])] = (_text(c.get("company")) or _text(c.get("contact")), _email(c.get("email")),
                                            _text(c.get("city")))
    for inv in state["invoices"]:
        snap.invoices[str(inv["id"])] = {
            "number": _text(inv.get("invoicenr_full")) or _text(inv.get("invoicenr")),
            "client": str(inv["clientnr"]), "issued": _day(inv.get("sent")), "due": _day(inv.get("duedate")),
            "total": cents(inv["totalintax"]), "tax": cents(inv["tax"]), "open": cents(inv["open"]),
            "lines": [cents(line["linetotal"]) for line in _ordered(inv.get("lines"))],
        }
    for p in state["payments"]:
        snap.payments[(str(p["invoice_id"]), str(p["date"])[:10], cents(p["amount"]))] += 1
    snap.deleted["invoice"] = {str(i) for i in state["deleted_invoices"]}
    snap.deleted["client"] = {str(c) for c in state["deleted_clients"]}
    return snap


def _fastfaktura(state: dict[str, Any]) -> Snapshot:
    snap = Snapshot()
    for c in state["clients"]:
        snap.clients[str(c["id"])] = (_text(c.get("name")), _email(c.get("email")), c.get("archived_at") is not None)
    for inv in state["invoices"]:
        sent = [e["created_at"] for e in inv["events"] if e["type"] == "sent"]
        settled = inv["status"] in ("paid", "cancelled")
        snap.invoices[str(inv["id"])] = {
            "number": _text(inv.get("number")), "client": str(inv["client_id"]),
            "issued": _day(sent[0]) if sent else None, "due": _day(inv.get("due_date")),
            "subtotal": int(inv["subtotal_cents"]), "tax": int(inv["tax_cents"]), "total": int(inv["total_cents"]),
            "open": 0 if settled else int(inv["total_cents"]),
            "lines": [int((Decimal(str(ln["quantity"])) * int(ln["unit_price_cents"])).quantize(Decimal(1),
                                                                                                  ROUND_HALF_UP))
                      for ln in inv["lines"]],
        }
        for e in inv["events"]:
            if e["type"] == "paid":
                snap.payments[(str(inv["id"]), _day(e["paid_at"]) or "", int(e["amount_cents"]))] += 1
    return snap


def _hydra(state: dict[str, Any]) -> Snapshot:
    snap = Snapshot()
    for c in state["customers"]:
        if c["deleted"]:
            snap.deleted["client"].add(str(c["id"]))
            continue
        snap.clients[str(c["id"])] = (_text(c.get("name")), _email(c.get("email")), _text(c.get("city")),
                                      _text(c.get("country")))
    for inv in state["invoices"]:
        rid = str(inv["id"])
        if inv["deleted"]:
            snap.deleted["invoice"].add(rid)
            snap.deleted["payment"].update(str(t["id"]) for t in inv["transactions"])
            continue
        snap.invoices[rid] = {
            "number": _text(inv.get("number")), "client": str(inv["customer"]).rsplit("/", 1)[-1],
            "issued": _day(inv.get("date")), "due": _day(inv.get("dueDate")),
            "subtotal": cents(inv["netAmount"]), "tax": cents(inv["vatAmount"]), "total": cents(inv["grossAmount"]),
            "open": cents(inv["openAmount"]),
            "lines": [cents(r["netAmount"]) for r in inv["rows"] if not r.get("deleted")],
        }
        for tx in inv["transactions"]:
            if tx["deleted"]:
                snap.deleted["payment"].add(str(tx["id"]))
            else:
                snap.payments[(rid, _day(tx["date"]) or "", cents(tx["amount"]))] += 1
    return snap


_TRUTH = {"factuursturen": _factuursturen, "fastfaktura": _fastfaktura, "hydra": _hydra}

# Which store columns stand for the compared client fields, per service (same order as the truth tuple).
_CLIENT_COLUMNS = {"factuursturen": ("name", "email", "city"), "fastfaktura": ("name", "email", "archived"),
                   "hydra": ("name", "email", "city", "country")}
# Which invoice fields each service's truth carries (FactuurSturen shows no subtotal).
_INVOICE_FIELDS = {"factuursturen": ("number", "client", "issued", "due", "total", "tax", "open", "lines"),
                   "fastfaktura": ("number", "client", "issued", "due", "subtotal", "tax", "total", "open", "lines"),
                   "hydra": ("number", "client", "issued", "due", "subtotal", "tax", "total", "open", "lines")}


def truth_snapshot(provider: str, state: dict[str, Any]) -> Snapshot:
    """The service's truth (its `/_sandbox/state` answer) in the oracle's shape."""
    return _TRUTH[provider](state)


# -- the store --------------------------------------------------------------------------------------------


def _connect(database_url: str) -> Any:
    """A DB-API connection for a `sqlite:///file` or `postgresql://...` URL."""
    if database_url.startswith("sqlite:///"):
        return sqlite3.connect(database_url.removeprefix("sqlite:///"))
    import psycopg

    return psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://", 1))


def _rows(db: Any, sql: str) -> list[tuple[Any, ...]]:
    cursor = db.cursor()
    cursor.execute(sql)
    return list(cursor.fetchall())


def store_snapshot(provider: str, database_url: str, connection: str) -> Snapshot:
    """What the store holds for one connection, in the oracle's shape (ids are the service's)."""
    if not connection.replace("_", "").isalnum():
        raise ValueError(f"connection name {connection!r}: letters, digits and _ only")
    db = _connect(database_url)
    try:
        links = _rows(db, "SELECT entity_kind, remote_id, entity_id, remote_deleted_at FROM link "
                          f"WHERE connection = '{connection}'")
        clients = {r[0]: r[1:] for r in _rows(db, "SELECT id, name, email, city, country, archived_at, "
                                                  "remote_deleted_at FROM client")}
        invoices = {r[0]: r[1:] for r in _rows(db, "SELECT id, client_id, number, issued_on, due_on, "
                                                   "subtotal_minor, tax_minor, total_minor, open_minor, "
                                                   "remote_deleted_at FROM invoice")}
        lines: dict[int, list[int]] = {}
        for invoice_id, total in _rows(db, "SELECT invoice_id, line_total_minor FROM invoice_line "
                                           "ORDER BY invoice_id, position"):
            lines.setdefault(invoice_id, []).append(int(total))
        payments = {r[0]: r[1:] for r in _rows(db, "SELECT id, invoice_id, paid_on, amount_minor, remote_deleted_at "
                                                   "FROM payment")}
    finally:
        db.close()
    # kind -> entity id -> remote id (any link of this connection)
    remote: dict[str, dict[Any, str]] = {kind: {} for kind in KINDS}
    for kind, rid, eid, _ in links:
        remote.setdefault(kind, {})[eid] = str(rid)
    snap = Snapshot()
    for kind, rid, eid, link_deleted in links:
        rid = str(rid)
        row = {"client": clients, "invoice": invoices, "payment": payments}.get(kind, {}).get(eid)
        if row is None:
            continue
        if link_deleted is not None or row[-1] is not None:
            snap.deleted.setdefault(kind, set()).add(rid)
            continue
        if kind == "client":
            name, email, city, country, archived, _ = row
            values = {"name": _text(name), "email": _email(email), "city": _text(city), "country": _text(country),
                      "archived": archived is not None}
            snap.clients[rid] = tuple(values[c] for c in _CLIENT_COLUMNS[provider])
        elif kind == "invoice":
            client_id, number, issued, due, subtotal, tax, total, open_, _ = row
            fields: dict[str, Any] = {"number": _text(number), "client": remote["client"].get(client_id),
                                      "issued": _day(issued), "due": _day(due), "subtotal": subtotal, "tax": tax,
                                      "total": total, "open": open_, "lines": lines.get(eid, [])}
            snap.invoices[rid] = {f: fields[f] for f in _INVOICE_FIELDS[provider]}
    for kind, _rid, eid, link_deleted in links:
        row = payments.get(eid) if kind == "payment" else None
        if row is None or link_deleted is not None or row[-1] is not None:
            continue
        invoice_id, paid_on, amount, _ = row
        invoice_rid = remote["invoice"].get(invoice_id, f"canonical:{invoice_id}")
        snap.payments[(invoice_rid, _day(paid_on) or "", int(amount))] += 1
    return snap


# -- the comparison ---------------------------------------------------------------------------------------


def compare(truth: Snapshot, store: Snapshot) -> Findings:
    """Every client, invoice and payment of the truth against the store."""
    out = Findings()
    for kind, want, have in (("client", truth.clients, store.clients), ("invoice", truth.invoices, store.invoices)):
        for rid, value in want.items():
            if rid in have:
                if have[rid] != value:
                    out.wrong.append(f"{kind} {rid}: {_diff(value, have[rid])}")
            elif rid in store.deleted.get(kind, set()):
                out.wrongly_deleted.append(f"{kind} {rid}")
            else:
                out.lost.append(f"{kind} {rid}")
        for rid in have:
            if rid in want:
                continue
            if rid in truth.deleted.get(kind, set()):
                out.undeleted.append(f"{kind} {rid}")
            else:
                out.extra.append(f"{kind} {rid}")
    # Payments of invoices live on both sides; the rest follow their invoice's finding.
    both = truth.invoices.keys() & store.invoices.keys()
    want_pay = Counter({k: n for k, n in truth.payments.items() if k[0] in both})
    have_pay = Counter({k: n for k, n in store.payments.items() if k[0] in both or k[0].startswith("canonical:")})
    for key, n in (want_pay - have_pay).items():
        out.lost.extend([f"payment {key[0]} {key[1]} {key[2]}"] * n)
    for key, n in (have_pay - want_pay).items():
        out.extra.extend([f"payment {key[0]} {key[1]} {key[2]}"] * n)
    return out


def _diff(want: Any, have: Any) -> str:
    if isinstance(want, dict):
        return ", ".join(f"{k} truth={want[k]!r} store={have.get(k)!r}" for k in want if want[k] != have.get(k))
    return f"truth={want!r} store={have!r}"
