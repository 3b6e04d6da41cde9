"""Compare the canonical store with the FastFaktura sandbox's truth, computed here independently of the mapping."""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Engine, func, select

from connector.store.tables import Client, Invoice, InvoiceLine, Link, Payment

CANONICAL_STATUS = {"draft": "draft", "sent": "sent", "opened": "sent", "paid": "paid", "overdue": "overdue",
                    "cancelled": "cancelled"}


def _cents(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), ROUND_HALF_UP))


def expected_from_truth(state: dict[str, Any]) -> dict[str, Any]:
    """What the store must hold, read straight off the sandbox's state (decision 8 done by hand)."""
    clients = {c["id"]: (c["name"], c["email"], c["archived_at"] is not None) for c in state["clients"]}
    invoices = {}
    for inv in state["invoices"]:
        lines = []
        for ln in inv["lines"]:
            quantity, rate = Decimal(ln["quantity"]), Decimal(ln["tax_rate"])
            gross = quantity * ln["unit_price_cents"]
            lines.append((quantity, Decimal(ln["unit_price_cents"]) / 100, rate, _cents(gross),
                          _cents(gross * rate / 100)))
        sent = [e["created_at"][:10] for e in inv["events"] if e["type"] == "sent"]
        paid = [e["paid_at"][:10] for e in inv["events"] if e["type"] == "paid"]
        invoices[inv["id"]] = {
            "number": inv["number"], "client": inv["client_id"], "currency": inv["currency"],
            "status": CANONICAL_STATUS[inv["status"]], "issued_on": sent[0] if sent else None,
            "due_on": inv["due_date"], "subtotal": inv["subtotal_cents"], "tax": inv["tax_cents"],
            "total": inv["total_cents"], "open": 0 if inv["status"] in ("paid", "cancelled") else inv["total_cents"],
            "paid_on": paid[-1] if paid else None, "lines": lines,
        }
    payments = Counter((p["invoice_id"], p["paid_at"][:10], p["amount_cents"]) for p in state["payments"])
    return {"clients": clients, "invoices": invoices, "payments": payments}


def store_snapshot(engine: Engine, connection: str) -> dict[str, Any]:
    """The live records of one connection, keyed by remote id, in the same shapes."""
    link = Link.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:

        def linked(kind: str) -> Any:
            return link.c.connection == connection, link.c.entity_kind == kind, link.c.remote_deleted_at.is_(None)

        client_rows = conn.execute(
            select(link.c.remote_id, Client.id, Client.name, Client.email, Client.archived_at)
            .join(Client, Client.id == link.c.entity_id).where(*linked("client"))  # type: ignore[arg-type]
        ).all()
        clients = {r.remote_id: (r.name, r.email, r.archived_at is not None) for r in client_rows}
        client_remote = {r.id: r.remote_id for r in client_rows}
        lines: dict[int, list[tuple[Any, ...]]] = {}
        for row in conn.execute(select(InvoiceLine).order_by(InvoiceLine.invoice_id, InvoiceLine.position)):  # type: ignore[arg-type]
            lines.setdefault(row.invoice_id, []).append(
                (row.quantity, row.unit_price, row.vat_rate, row.line_total_minor, row.tax_minor))
        invoices, invoice_remote = {}, {}
        for r in conn.execute(
            select(link.c.remote_id, Invoice).join(Invoice, Invoice.id == link.c.entity_id).where(*linked("invoice"))  # type: ignore[arg-type]
        ):
            invoice_remote[r.id] = r.remote_id
            invoices[r.remote_id] = {
                "number": r.number, "client": client_remote.get(r.client_id), "currency": r.currency,
                "status": r.status, "issued_on": r.issued_on.isoformat() if r.issued_on else None,
                "due_on": r.due_on.isoformat() if r.due_on else None, "subtotal": r.subtotal_minor,
                "tax": r.tax_minor, "total": r.total_minor, "open": r.open_minor,
                "paid_on": r.paid_on.isoformat() if r.paid_on else None, "lines": lines.get(r.id, []),
            }
        payments = Counter(
            (invoice_remote.get(r.invoice_id), r.paid_on.isoformat(), r.amount_minor)
            for r in conn.execute(
                select(Payment.invoice_id, Payment.paid_on, Payment.amount_minor)
                .join(link, (link.c.entity_id == Payment.id) & (link.c.entity_kind == "payment"))  # type: ignore[arg-type]
                .where(*linked("payment"))
            )
        )
        entity_counts = {kind: conn.execute(select(func.count()).select_from(table)).scalar_one()
                         for kind, table in (("client", Client), ("invoice", Invoice), ("payment", Payment))}
        link_counts = dict(conn.execute(
            select(link.c.entity_kind, func.count()).where(link.c.connection == connection)
            .group_by(link.c.entity_kind)).all())
    return {"clients": clients, "invoices": invoices, "payments": payments, "entity_counts": entity_counts,
            "link_counts": link_counts}


def assert_store_matches(engine: Engine, connection: str, state: dict[str, Any]) -> None:
    """Every client (archived ones too), invoice, line and payment once, amounts exact, no duplicates."""
    expected = expected_from_truth(state)
    actual = store_snapshot(engine, connection)
    assert actual["clients"] == expected["clients"]
    assert actual["invoices"].keys() == expected["invoices"].keys()
    wrong = {k: (actual["invoices"][k], v) for k, v in expected["invoices"].items() if actual["invoices"][k] != v}
    assert not wrong, list(wrong.items())[:2]
    for inv in actual["invoices"].values():
        assert sum(line[3] for line in inv["lines"]) == inv["subtotal"]
        assert inv["subtotal"] + inv["tax"] == inv["total"]
    assert actual["payments"] == expected["payments"]
    for kind in ("client", "invoice", "payment"):
        assert actual["entity_counts"][kind] == actual["link_counts"].get(kind, 0), kind
