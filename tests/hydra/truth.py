"""Compare the canonical store with the Hydra sandbox's truth, read independently of the mapping."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from connector.store.tables import Client, Invoice, InvoiceLine, Link, Payment

__all__ = ["assert_store_matches", "expected_from_truth", "store_snapshot"]


def minor(value: Any) -> int:
    """'62.92' or a JSON number -> 6292, exact (two decimals at most on this service)."""
    cents = Decimal(str(value)) * 100
    assert cents == cents.to_integral_value(), value
    return int(cents)


def _id(iri: str) -> str:
    return str(iri).rsplit("/", 1)[-1]


def expected_from_truth(state: dict[str, Any]) -> dict[str, Any]:
    """What the store must hold for the live records, read straight off ``/_sandbox/state``."""
    customers = {str(c["id"]): (c["name"], c.get("email"), c.get("country"))
                 for c in state["customers"] if not c["deleted"]}
    invoices, payments = {}, Counter()
    for inv in state["invoices"]:
        if inv["deleted"]:
            continue
        rows = [(Decimal(str(r["quantity"])), Decimal(r["netPrice"]), Decimal(r["vatRate"]), minor(r["netAmount"]),
                 minor(r["vatAmount"])) for r in inv["rows"]]
        invoices[str(inv["id"])] = {
            "number": inv.get("number"), "status": inv["status"], "customer": _id(inv["customer"]),
            "subtotal": minor(inv["netAmount"]), "tax": minor(inv["vatAmount"]), "total": minor(inv["grossAmount"]),
            "open": minor(inv["openAmount"]), "lines": rows,
        }
        for tx in inv["transactions"]:
            if not tx["deleted"]:
                payments[(str(tx["id"]), str(inv["id"]), str(tx["date"])[:10], minor(tx["amount"]))] += 1
    return {"customers": customers, "invoices": invoices, "payments": payments}


def store_snapshot(engine: Engine, connection: str) -> dict[str, Any]:
    """The live (not soft-deleted) records of one connection, keyed by remote id."""
    link = Link.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        def linked(kind: str) -> tuple[Any, ...]:
            return link.c.connection == connection, link.c.entity_kind == kind, link.c.remote_deleted_at.is_(None)

        client_remote = dict(conn.execute(select(link.c.entity_id, link.c.remote_id).where(
            link.c.connection == connection, link.c.entity_kind == "client")).all())
        customers = {rid: (name, email, country) for rid, name, email, country in conn.execute(
            select(link.c.remote_id, Client.name, Client.email, Client.country)  # type: ignore[call-overload]
            .join(Client, Client.id == link.c.entity_id).where(*linked("client")))}
        lines: dict[int, list[tuple[Any, ...]]] = {}
        for row in conn.execute(select(InvoiceLine.invoice_id, InvoiceLine.quantity, InvoiceLine.unit_price,  # type: ignore[call-overload]
                                       InvoiceLine.vat_rate, InvoiceLine.line_total_minor, InvoiceLine.tax_minor)
                                .order_by(InvoiceLine.invoice_id, InvoiceLine.position)):
            lines.setdefault(row[0], []).append(tuple(row[1:]))
        invoices, invoice_remote = {}, {}
        for rid, iid, number, status, client_id, sub, tax, total, open_ in conn.execute(
            select(link.c.remote_id, Invoice.id, Invoice.number, Invoice.status, Invoice.client_id,  # type: ignore[call-overload]
                   Invoice.subtotal_minor, Invoice.tax_minor, Invoice.total_minor, Invoice.open_minor)
            .join(Invoice, Invoice.id == link.c.entity_id).where(*linked("invoice"))):
            invoices[rid] = {"number": number, "status": status, "customer": client_remote.get(client_id),
                             "subtotal": sub, "tax": tax, "total": total, "open": open_, "lines": lines.get(iid, [])}
            invoice_remote[iid] = rid
        payments = Counter(
            (rid, invoice_remote.get(inv_id), paid_on.isoformat(), amount)
            for rid, inv_id, paid_on, amount in conn.execute(
                select(link.c.remote_id, Payment.invoice_id, Payment.paid_on, Payment.amount_minor)  # type: ignore[call-overload]
                .join(Payment, Payment.id == link.c.entity_id).where(*linked("payment"))))
        duplicates = {kind: conn.execute(select(link.c.remote_id).where(
            link.c.connection == connection, link.c.entity_kind == kind).group_by(link.c.remote_id)).all()
            for kind in ("client", "invoice", "payment")}
        counts = {kind: conn.execute(select(link.c.id).where(
            link.c.connection == connection, link.c.entity_kind == kind)).all() for kind in duplicates}
    return {"customers": customers, "invoices": invoices, "payments": payments,
            "links": {k: len(v) for k, v in counts.items()}, "distinct": {k: len(v) for k, v in duplicates.items()}}


def assert_store_matches(engine: Engine, connection: str, state: dict[str, Any]) -> None:
    """Every live customer, invoice (rows exact) and payment once, amounts exact, no duplicate links."""
    expected, actual = expected_from_truth(state), store_snapshot(engine, connection)
    assert actual["customers"] == expected["customers"]
    want, have = expected["invoices"].keys(), actual["invoices"].keys()
    missing, extra = want - have, have - want
    assert not missing and not extra, f"invoices missing from the store {sorted(missing)}, extra {sorted(extra)}"
    wrong = {k: (actual["invoices"][k], v) for k, v in expected["invoices"].items() if actual["invoices"][k] != v}
    assert not wrong, list(wrong.items())[:2]
    for inv in actual["invoices"].values():
        assert sum(line[3] for line in inv["lines"]) == inv["subtotal"]
        assert inv["subtotal"] + inv["tax"] == inv["total"]
    assert actual["payments"] == expected["payments"]
    assert actual["links"] == actual["distinct"], "one link per remote record"
