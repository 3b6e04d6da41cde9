"""FactuurSturen end to end over real sockets: full sync, incremental sync, reruns, deletions."""

from __future__ import annotations

import pytest

from tests.support import FsSandbox, make_app, seed_until_yesterday
from tests.truth import assert_store_matches


def _seed(fs: FsSandbox, clients: int, invoices: int) -> None:
    seed_until_yesterday(fs, days=3 * 365, seed=7, clients=clients, invoices=invoices)


def _pages(n: int, size: int) -> int:
    """Requests to list n records with start/count paging overlapping one record per page."""
    if n < size:
        return 1
    return 1 + -(-(n - size + 1) // (size - 1))


def test_full_sync_equals_the_sandbox_truth(database_url: str, fs: FsSandbox) -> None:
    _seed(fs, clients=1000, invoices=5000)
    truth = fs.state()
    payments_per_invoice: dict[str, int] = {}
    for p in truth["payments"]:
        payments_per_invoice[p["invoice_id"]] = payments_per_invoice.get(p["invoice_id"], 0) + 1
    assert any(n > 1 for n in payments_per_invoice.values()), "seed lacks partial payments"
    assert any(float(i["open"]) < 0 for i in truth["invoices"]), "seed lacks over-payments"

    app = make_app(database_url, fs.connection())
    report = app.sync("fs")

    assert report.totals.quarantined == 0
    assert_store_matches(app.engine, "fs", truth)


def test_incremental_sync_sees_every_change_with_few_requests(database_url: str, fs: FsSandbox) -> None:
    _seed(fs, clients=1000, invoices=5000)
    app = make_app(database_url, fs.connection())
    app.sync("fs")
    truth = fs.state()

    # Given a person working in the web app: 1% of clients edited, new invoices, payments on old
    # invoices (far outside the since window), one open invoice paid in full, one open invoice deleted.
    for client in truth["clients"][:10]:
        fs.act(
            "edit_client",
            clientnr=client["clientnr"],
            changes={"city": "Zwolle", "email": f"new{client['clientnr']}@ex.nl"},
        )
    for _ in range(3):
        fs.act(
            "create_invoice",
            clientnr=truth["clients"][1]["clientnr"],
            lines=[{"amount": 3, "description": "Werk", "tax_rate": 21, "price": "12.345"}],
        )
    open_old = [i for i in truth["invoices"] if float(i["open"]) > 0 and i["sent"] < truth["invoices"][100]["sent"]]
    for inv in open_old[:5]:
        fs.act("register_payment", invoice=inv["id"], amount="1.00")
    fs.act("register_payment", invoice=open_old[5]["id"], amount=str(open_old[5]["open"]))
    fs.act("delete_invoice", invoice=open_old[6]["id"])
    fs.clear_requests()

    report = app.sync("fs")

    after = fs.state()
    assert_store_matches(app.engine, "fs", after)
    open_count = sum(1 for i in after["invoices"] if float(i["open"]) > 0)
    budget = _pages(len(after["clients"]), 500) + _pages(open_count, 500) + 1 + 2 + 3  # + window + left open + const
    sent = len(fs.requests())
    assert sent == report.requests
    assert sent <= budget, f"{sent} requests, budget {budget}"
    assert report.totals.deleted == 1

    # An immediate second sync with no changes writes nothing.
    again = app.sync("fs")
    assert again.totals.created == again.totals.updated == again.totals.deleted == again.totals.quarantined == 0
    assert again.totals.unchanged > 0


def test_full_sync_sweeps_deletions_the_increment_cannot_see(sqlite_url: str, fs: FsSandbox) -> None:
    _seed(fs, clients=50, invoices=300)
    app = make_app(sqlite_url, fs.connection())
    app.sync("fs")
    paid = next(i for i in fs.state()["invoices"] if float(i["open"]) == 0)
    fs.act("delete_invoice", invoice=paid["id"])

    incremental = app.sync("fs")
    assert incremental.totals.deleted == 0  # a paid, old invoice is outside every incremental read

    full = app.sync("fs", full=True)
    assert full.totals.deleted >= 1
    assert_store_matches(app.engine, "fs", fs.state())


@pytest.mark.parametrize("stream", ["clients", "invoices", "open_invoices", "sweep"])
def test_single_stream_runs(sqlite_url: str, fs: FsSandbox, stream: str) -> None:
    _seed(fs, clients=20, invoices=60)
    app = make_app(sqlite_url, fs.connection())
    report = app.sync("fs", streams=[stream])
    assert [s.stream for s in report.streams] == [stream]
    assert report.streams[0].status == "ok"
