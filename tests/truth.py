"""Compare the canonical store with a sandbox's own truth, computed independently of the mapping."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select

from connector.store.tables import Client, Invoice, InvoiceLine, Link, Payment


def minor(value: Any) -> int:
    """'62.92' (or a JSON number) -> 6292, exact."""
    return int((Decimal(str(value)) * 100).to_integral_value())


def _keyed(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value[k] for k in sorted(value, key=lambda k: int("".join(c for c in k if c.isdigit()) or 0))]
    return list(value or [])


def expected_from_truth(state: dict[str, Any]) -> dict[str, Any]:
    """What the store must hold, read straight off the sandbox's state."""
    clients = {str(c["clientnr"]): (c.get("email") or None) for c in state["clients"]}
    invoices = {}
    for inv in state["invoices"]:
        lines = [ln for ln in _keyed(inv.get("lines"))]
        invoices[str(inv["id"])] = {
            "total": minor(inv["totalintax"]),
            "tax": minor(inv["tax"]),
            "open": minor(inv["open"]),
            "lines": len(lines),
            "line_sum": sum(minor(ln.get("linetotal", 0)) for ln in lines),
            "client": str(inv["clientnr"]),
        }
    payments = Counter((str(p["invoice_id"]), str(p["date"]), minor(p["amount"])) for p in state["payments"])
    return {"clients": clients, "invoices": invoices, "payments": payments}


def store_snapshot(engine: Engine, connection: str) -> dict[str, Any]:
    """The live (not soft-deleted) records of one connection, keyed by remote id."""
    link = Link.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:

        def linked(kind: str) -> Any:
            return link.c.connection == connection, link.c.entity_kind == kind, link.c.remote_deleted_at.is_(None)

        clients = {
            rid: email
            for rid, email in conn.execute(
                select(link.c.remote_id, Client.email)
                .join(Client, Client.id == link.c.entity_id)
                .where(*linked("client"))  # type: ignore[arg-type]
            )
        }
        client_remote = {
            eid: rid
            for rid, eid in conn.execute(
                select(link.c.remote_id, link.c.entity_id).where(
                    link.c.connection == connection, link.c.entity_kind == "client"
                )
            )
        }
        line_stats = {
            iid: (n, s)
            for iid, n, s in conn.execute(
                select(InvoiceLine.invoice_id, func.count(), func.sum(InvoiceLine.line_total_minor)).group_by(  # type: ignore[arg-type]
                    InvoiceLine.invoice_id
                )
            )
        }
        invoices = {}
        invoice_remote = {}
        for rid, iid, total, tax, open_, client_id in conn.execute(
            select(
                link.c.remote_id,
                Invoice.id,
                Invoice.total_minor,
                Invoice.tax_minor,
                Invoice.open_minor,
                Invoice.client_id,
            )
            .join(Invoice, Invoice.id == link.c.entity_id)
            .where(*linked("invoice"))  # type: ignore[arg-type]
        ):
            n, s = line_stats.get(iid, (0, 0))
            invoices[rid] = {
                "total": total,
                "tax": tax,
                "open": open_,
                "lines": n,
                "line_sum": int(s or 0),
                "client": client_remote.get(client_id),
            }
            invoice_remote[iid] = rid
        payments = Counter(
            (invoice_remote[inv_id], paid_on.isoformat(), amount)
            for inv_id, paid_on, amount in conn.execute(
                select(Payment.invoice_id, Payment.paid_on, Payment.amount_minor)
                .join(link, (link.c.entity_id == Payment.id) & (link.c.entity_kind == "payment"))  # type: ignore[arg-type]
                .where(*linked("payment"))
            )
            if inv_id in invoice_remote  # payments of an invoice deleted at the service go with it
        )
        entity_counts = {
            "client": conn.execute(select(func.count()).select_from(Client)).scalar_one(),
            "invoice": conn.execute(select(func.count()).select_from(Invoice)).scalar_one(),
            "payment": conn.execute(select(func.count()).select_from(Payment)).scalar_one(),
        }
        link_counts = dict(
            conn.execute(
                select(link.c.entity_kind, func.count())
                .where(link.c.connection == connection)
                .group_by(link.c.entity_kind)
            ).all()
        )
    return {
        "clients": clients,
        "invoices": invoices,
        "payments": payments,
        "entity_counts": entity_counts,
        "link_counts": link_counts,
    }


def assert_store_matches(engine: Engine, connection: str, state: dict[str, Any]) -> None:
    """Every client, invoice, line and payment once, amounts exact, totals = lines + tax, no duplicates."""
    expected = expected_from_truth(state)
    actual = store_snapshot(engine, connection)
    assert actual["clients"] == expected["clients"]
    assert actual["invoices"].keys() == expected["invoices"].keys()
    mismatched = {k: (actual["invoices"][k], v) for k, v in expected["invoices"].items() if actual["invoices"][k] != v}
    assert not mismatched, list(mismatched.items())[:3]
    for inv in actual["invoices"].values():
        assert inv["line_sum"] + inv["tax"] == inv["total"]
    assert actual["payments"] == expected["payments"]
    # No duplicates: one canonical row per link, one link per remote record.
    for kind in ("client", "invoice", "payment"):
        assert actual["entity_counts"][kind] == actual["link_counts"].get(kind, 0), kind
