"""Ambiguous creates at hydra (no idempotency key): the service commits, then the connection drops. No duplicates.

Records issued at one hydra account are pushed to another whose every customer and transaction create, the
first 20 invoice POSTs (creates and sends) and every third row POST lose their answer after the service has
committed them. The retries look before creating again (`HydraProvider.find_marked`): a customer by the marker
in its ``externalId`` (or by its own external id and name), an invoice by the marker in its ``reference``
(finishing its rows and sending it when the failure cut the create short), a transaction by its content among
those no other payment is linked to (two identical payments on one invoice make that matter). Afterwards the
target holds each record once, complete, and reading it back neither shows a marker nor plans a push.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from connector.store.tables import Client, Invoice, InvoiceLine, Link, Outbox, Payment, RawRecord
from tests.hydra.harness import HydraHarness
from tests.push.drops import push_until_settled, stepped_app

TRIALS = 20
CLIENTS = 12
INVOICES = 30
CLIENT = Client.__table__  # type: ignore[attr-defined]
INVOICE = Invoice.__table__  # type: ignore[attr-defined]
LINE = InvoiceLine.__table__  # type: ignore[attr-defined]
PAYMENT = Payment.__table__  # type: ignore[attr-defined]
LINK = Link.__table__  # type: ignore[attr-defined]
OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
RAW = RawRecord.__table__  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def hy_source_server() -> Iterator[HydraHarness]:
    """A second hydra account that records originate at, for the module."""
    harness = HydraHarness.start()
    yield harness
    harness.stop()


@pytest.fixture
def hy_source(hy_source_server: HydraHarness) -> HydraHarness:
    """The source account, reset and seeded, plus two identical payments (amount and day) on one open invoice."""
    hy_source_server.reset()
    hy_source_server.seed(clients=CLIENTS, invoices=INVOICES, seed=11)
    open_one = next(
        i for i in hy_source_server.state()["invoices"]
        if i["status"] in ("sent", "overdue", "partially_paid") and Decimal(str(i["openAmount"])) > 2
    )
    day = f"{date.today() - timedelta(days=1)}T10:00:00+00:00"
    for _ in range(2):
        hy_source_server.act("add_transaction", invoice=open_one["id"], amount="1.00", date=day)
    return hy_source_server


def _live(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if not r["deleted"]]


def test_dropped_creates_at_hydra_leave_no_duplicates(
    database_url: str, hy_source: HydraHarness, hy: HydraHarness
) -> None:
    app, clock = stepped_app(
        database_url,
        hy_source.connection("src"),
        hy.connection("dst", receives=["client", "invoice", "payment"], max_attempts=1),
    )
    app.sync("src")
    with app.engine.connect() as conn:
        counts = {
            kind: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for kind, table in (("client", CLIENT), ("invoice", INVOICE), ("payment", PAYMENT))
        }
    assert counts == {"client": CLIENTS, "invoice": INVOICES, "payment": counts["payment"]}
    assert counts["payment"] >= TRIALS
    faults = [
        {"kind": "drop_after_commit", "method": "POST", "path_prefix": "/api/customers", "times": CLIENTS},
        {"kind": "drop_after_commit", "method": "POST", "path_prefix": "/api/invoices", "times": TRIALS},
        {"kind": "drop_after_commit", "method": "POST", "path_prefix": "/api/invoice-rows", "every": 3,
         "times": TRIALS},
        {"kind": "drop_after_commit", "method": "POST", "path_prefix": "/api/invoice-transactions",
         "times": counts["payment"]},
    ]
    hy.faults(faults)

    push_until_settled(app, clock, "dst", rounds=3 * (CLIENTS + 2 * TRIALS + counts["payment"]))

    dropped = Counter(r["path"].split("/")[2] for r in hy.requests() if r["status"] == 0)
    assert dropped == {"customers": CLIENTS, "invoices": TRIALS, "invoice-rows": TRIALS,
                       "invoice-transactions": counts["payment"]}, "every fault fired"
    with app.engine.connect() as conn:
        by_status = select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status)
        statuses: dict[str, int] = dict(conn.execute(by_status).all())
        unfinished = conn.execute(select(OUTBOX.c.last_error).where(OUTBOX.c.status != "done")).scalars().all()
        linked = {
            kind: {int(e): str(r) for e, r in conn.execute(
                select(LINK.c.entity_id, LINK.c.remote_id).where(LINK.c.connection == "dst", LINK.c.entity_kind == kind)
            )}
            for kind in counts
        }
        by_invoice = select(LINE.c.invoice_id, func.count()).group_by(LINE.c.invoice_id)
        lines: dict[int, int] = dict(conn.execute(by_invoice).all())
        subtotals: dict[int, int] = dict(conn.execute(select(INVOICE.c.id, INVOICE.c.subtotal_minor)).all())
    assert unfinished == [], unfinished
    assert statuses == {"done": sum(counts.values())}
    for kind, count in counts.items():
        assert len(linked[kind]) == count, f"every canonical {kind} is linked at the target"
        assert len(set(linked[kind].values())) == count, f"each to its own {kind} there"

    state = hy.state()
    customers, invoices = _live(state["customers"]), _live(state["invoices"])
    transactions = [t for i in invoices for t in _live(i["transactions"])]
    assert len(customers) == CLIENTS, "one customer per canonical client"
    assert len(invoices) == INVOICES, "one invoice per canonical invoice"
    assert len(transactions) == counts["payment"], "one transaction per canonical payment"
    assert {str(c["id"]) for c in customers} == set(linked["client"].values())
    assert {str(t["id"]) for t in transactions} == set(linked["payment"].values())
    by_id = {str(i["id"]): i for i in invoices}
    for entity_id, remote_id in linked["invoice"].items():
        invoice = by_id[remote_id]
        assert len(_live(invoice["rows"])) == lines.get(entity_id, 0), "every row, once"
        assert Decimal(str(invoice["netAmount"])) * 100 == subtotals[entity_id]
    assert sum(1 for i in invoices if i["status"] != "draft" and i.get("number")) == sum(
        1 for i in _live(hy_source.state()["invoices"]) if i["status"] != "draft"
    ), "every invoice that was sent at the source is sent (numbered) at the target"

    # The markers stay at the service: reading the target back changes nothing, and neither the raw records
    # kept nor the canonical ones carry a marker, even after a person edits a marked customer there.
    hy.faults([])
    assert [c for c in customers if str(c.get("externalId", "")).startswith("sync:")], "markers were left there"
    assert [i for i in invoices if " sync:" in str(i.get("reference", ""))], "after the invoice's own reference"
    echo = app.sync("dst")
    assert (echo.totals.created, echo.totals.updated, echo.totals.conflicts) == (0, 0, 0), echo.totals
    marked = next(c for c in customers if str(c.get("externalId", "")).startswith("sync:"))
    hy.act("edit_customer", id=marked["id"], changes={"phone": "+31201234567"})
    edited = app.sync("dst")
    assert edited.totals.updated == 1, edited.totals
    client_id = next(e for e, r in linked["client"].items() if r == str(marked["id"]))
    with app.engine.connect() as conn:
        phone, external_id = conn.execute(
            select(CLIENT.c.phone, CLIENT.c.external_id).where(CLIENT.c.id == client_id)
        ).one()
        external_ids = conn.execute(select(CLIENT.c.external_id)).scalars().all()
        references = [(e or {}).get("reference") for e in conn.execute(select(INVOICE.c.extra)).scalars()]
        raw = conn.execute(
            select(RAW.c.read_payload).join(LINK, LINK.c.id == RAW.c.link_id).where(LINK.c.connection == "dst")
        ).scalars().all()
    assert (phone, external_id) == ("+31201234567", None)
    assert not [v for v in [*external_ids, *references, *raw] if v and "sync:" in v], "no marker read back"
    assert any(references), "the invoices' own references are kept"
    app.sync("src")
    [again] = app.push("dst")
    assert again.planned == 0 and again.drain is not None and again.drain.requests == 0
