"""The gap audit brings back records deleted from the store behind the connector's back, at the cost of the
listing plus one request per missing record, and reports the gap (`connector_gap_records`, `connector status`).

FactuurSturen sandbox on a real socket; SQLite and PostgreSQL. The rows are deleted with plain SQL.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select, text

from connector.cli.status import collect_status
from connector.observability.store_gauges import StoreGauges
from connector.store.tables import Client, Invoice, Link, Payment, Quarantine
from tests.support import FsSandbox, make_app, seed_until_yesterday


def _count(app: Any, table: Any, *where: Any) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def _lose_invoices(app: Any, remote_ids: list[str]) -> None:
    """Delete invoices (their lines, payments, links and raw records) from the store with plain SQL."""
    with app.engine.begin() as conn:
        for invoice_id in [_entity_id(conn, "invoice", rid) for rid in remote_ids]:
            payments = conn.execute(text("SELECT id FROM payment WHERE invoice_id = :i"), {"i": invoice_id}).scalars()
            for payment_id in list(payments):
                _drop_links(conn, "payment", payment_id)
                conn.execute(text("DELETE FROM payment WHERE id = :p"), {"p": payment_id})
            conn.execute(text("DELETE FROM invoice_line WHERE invoice_id = :i"), {"i": invoice_id})
            _drop_links(conn, "invoice", invoice_id)
            conn.execute(text("DELETE FROM invoice WHERE id = :i"), {"i": invoice_id})


def _lose_invoice_row(app: Any, remote_id: str) -> None:
    """Delete only an invoice's canonical row (and lines): its link stays, pointing at nothing."""
    with app.engine.begin() as conn:
        invoice_id = _entity_id(conn, "invoice", remote_id)
        conn.execute(text("DELETE FROM invoice_line WHERE invoice_id = :i"), {"i": invoice_id})
        conn.execute(text("DELETE FROM invoice WHERE id = :i"), {"i": invoice_id})


def _lose_client_link(app: Any, remote_id: str) -> None:
    """Delete only a client's link (and raw record): the canonical client stays."""
    with app.engine.begin() as conn:
        _drop_links(conn, "client", _entity_id(conn, "client", remote_id))


def _entity_id(conn: Any, kind: str, remote_id: str) -> int:
    query = "SELECT entity_id FROM link WHERE connection = 'fs' AND entity_kind = :k AND remote_id = :r"
    return int(conn.execute(text(query), {"k": kind, "r": remote_id}).scalar_one())


def _drop_links(conn: Any, kind: str, entity_id: int) -> None:
    where = "entity_kind = :k AND entity_id = :e"
    conn.execute(text(f"DELETE FROM raw_record WHERE link_id IN (SELECT id FROM link WHERE {where})"),
                 {"k": kind, "e": entity_id})
    conn.execute(text(f"DELETE FROM link WHERE {where}"), {"k": kind, "e": entity_id})


def _gap_metric(app: Any) -> dict[str, float]:
    [family] = [f for f in StoreGauges.for_engine(app.engine).collect() if f.name == "connector_gap_records"]
    return {s.labels["kind"]: s.value for s in family.samples if s.labels["connection"] == "fs"}


_LIST = re.compile(r"/api/v1/(clients|invoices)$")
_ONE = re.compile(r"/api/v1/(clients|invoices)/[^/]+$")


def test_the_audit_brings_back_what_was_deleted_behind_the_connectors_back(database_url: str, fs: FsSandbox) -> None:
    seed_until_yesterday(fs, days=60, seed=7, clients=12, invoices=45)
    app = make_app(database_url, fs.connection(page_size=20))
    app.sync("fs")
    truth = fs.state()
    invoices, clients, payments = _count(app, Invoice), _count(app, Client), _count(app, Payment)
    assert (invoices, clients, payments) == (45, 12, len(truth["payments"]))
    paid = [i["id"] for i in truth["invoices"] if i["history"]]
    lost = [paid[0], paid[5], truth["invoices"][-1]["id"]]
    _lose_invoices(app, lost)
    with app.engine.connect() as conn:
        unpaid = conn.execute(
            text("SELECT remote_id FROM link WHERE entity_kind = 'invoice' AND NOT EXISTS "
                 "(SELECT 1 FROM payment WHERE payment.invoice_id = link.entity_id) ORDER BY remote_id")
        ).scalars().first()
    assert unpaid is not None and unpaid not in lost
    _lose_invoice_row(app, unpaid)
    lost.append(unpaid)
    _lose_client_link(app, truth["clients"][3]["clientnr"])
    assert _count(app, Invoice) == 41 and _count(app, Payment) < payments

    fs.clear_requests()
    report = app.audit("fs")

    assert report.status == "repaired"
    assert {g.kind: (g.missing, g.fetched, g.remaining) for g in report.kinds} == {
        "client": (1, 1, 0), "invoice": (4, 4, 0)
    }
    assert (_count(app, Invoice), _count(app, Client), _count(app, Payment)) == (invoices, clients, payments)
    assert _count(app, Link, Link.entity_kind == "client") == 12  # type: ignore[arg-type]
    assert _count(app, Link, Link.entity_kind == "invoice") == 45  # type: ignore[arg-type]  (the dangling one replaced)
    assert _count(app, Quarantine) == 0
    log = [r for r in fs.requests() if r["path"].startswith("/api/v1/")]
    pages = [r for r in log if _LIST.search(r["path"])]
    singles = sorted(r["path"].rsplit("/", 1)[1] for r in log if _ONE.search(r["path"]))
    assert singles == sorted([*lost, truth["clients"][3]["clientnr"]])
    assert len(log) == len(pages) + 5, [r["path"] for r in log]
    assert len(pages) >= 1 + 3  # 12 clients on a page, 45 invoices on three or more (20 a page, one overlapping)
    assert report.requests == len(log)
    assert _gap_metric(app) == {"client": 1, "invoice": 4}
    status = {item["connection"]: item for item in collect_status(app)}["fs"]
    assert status["audit"]["kinds"]["invoice"]["missing"] == 4 and not status["failing"]

    fs.clear_requests()
    again = app.audit("fs")
    assert again.status == "ok" and again.missing == 0
    assert len(fs.requests()) == len(pages)  # the listing only
    assert _gap_metric(app) == {"client": 0, "invoice": 0}


def test_an_audit_that_cannot_bring_everything_back_ends_as_a_gap(sqlite_url: str, fs: FsSandbox) -> None:
    seed_until_yesterday(fs, days=60, seed=8, clients=6, invoices=12)
    app = make_app(sqlite_url, fs.connection(audit_max_fetch=1))
    app.sync("fs")
    lost = [i["id"] for i in fs.state()["invoices"][:3]]
    _lose_invoices(app, lost)

    report = app.audit("fs", kind="invoice")

    assert report.status == "gap" and (report.missing, report.remaining) == (3, 2)
    assert _count(app, Invoice) == 10
    status = {item["connection"]: item for item in collect_status(app)}["fs"]
    assert status["failing"]
    assert app.audit("fs", kind="invoice").status == "gap"  # one more each audit
    assert app.audit("fs", kind="invoice").status == "repaired"
    assert app.audit("fs", kind="invoice").status == "ok"
    assert _count(app, Invoice) == 12
