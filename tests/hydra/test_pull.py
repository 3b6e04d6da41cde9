"""Hydra end to end over real sockets: full sync, a person's changes, deletions, request growth, flavours."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connector.app import App
from tests.hydra.harness import HydraHarness
from tests.hydra.truth import assert_store_matches, store_snapshot
from tests.support import make_app

PER_PAGE = 100


def _seed(hy: HydraHarness, customers: int, invoices: int) -> None:
    hy.seed(clients=customers, invoices=invoices, seed=11)


def _pages(n: int) -> int:
    """Requests to list n records, 100 per page (an empty listing still costs one)."""
    return max(1, -(-n // PER_PAGE))


def _payments(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for i in state["invoices"] for t in i["transactions"] if not t["deleted"] and not i["deleted"]]


def test_full_sync_equals_the_sandbox_truth(database_url: str, hy: HydraHarness) -> None:
    _seed(hy, customers=200, invoices=1000)
    truth = hy.state()
    statuses = {i["status"] for i in truth["invoices"]}
    assert {"draft", "sent", "paid", "partially_paid", "overdue", "cancelled"} <= statuses, statuses
    assert any(len(i["transactions"]) > 1 for i in truth["invoices"]), "seed lacks instalments"

    app = make_app(database_url, hy.connection("hy"))
    report = app.sync("hy")

    assert report.totals.quarantined == 0 and report.totals.unresolved_refs == 0
    assert_store_matches(app.engine, "hy", truth)
    assert report.totals.by_kind == {"client": 200, "invoice": 1000, "payment": len(_payments(truth))}


def _person_changes(hy: HydraHarness, truth: dict[str, Any], changed: int) -> set[str]:
    """Edit `changed` invoices the way a person does (rows, payments, fields); returns their ids."""
    live = [i for i in truth["invoices"] if not i["deleted"] and i["status"] not in ("draft", "cancelled")]
    touched = set()
    for n, inv in enumerate(live[:changed]):
        touched.add(str(inv["id"]))
        if n % 3 == 0:
            hy.act("edit_row", id=inv["rows"][0]["id"], changes={"quantity": n + 2, "netPrice": "19.99"})
        elif n % 3 == 1 and Decimal(inv["openAmount"]) > 0:
            hy.act("add_transaction", invoice=inv["id"], amount="1.25")
        else:
            hy.act("edit_invoice", id=inv["id"], changes={"reference": f"REF-{n}"})
    return touched


def test_a_person_s_changes_are_all_picked_up_and_a_rerun_writes_nothing(
    database_url: str, hy: HydraHarness
) -> None:
    _seed(hy, customers=200, invoices=1000)
    app = make_app(database_url, hy.connection("hy"))
    app.sync("hy")
    truth = hy.state()
    old = [i for i in truth["invoices"] if not i["deleted"]]
    paid = next(i for i in old if len(i["transactions"]) >= 1 and i["status"] == "paid")

    # Given a person at work: customers edited, invoices made and changed, rows and payments added,
    # a payment removed, an invoice deleted.
    for customer in truth["customers"][:5]:
        hy.act("edit_customer", id=customer["id"], changes={"city": "Zwolle", "email": f"n{customer['id']}@ex.nl"})
    new_customer = hy.act("create_customer", name="Nieuw & Co B.V.", email="nieuw@example.nl", country="BE")
    fresh = hy.act("create_invoice", customer=new_customer["id"], rows=[
        {"productName": "Advies", "quantity": 3, "netPrice": "95.50", "vatRate": "21.00", "unit": "uur"},
        {"productName": "Reiskosten", "quantity": 1, "netPrice": "12.10", "vatRate": "0.00"}])
    hy.act("add_transaction", invoice=fresh["id"], amount="100.00")
    _person_changes(hy, truth, 12)
    hy.act("add_row", invoice=old[20]["id"], row={"productName": "Extra", "quantity": 1.5, "netPrice": "40.00",
                                                  "vatRate": "9.00"})
    hy.act("delete_transaction", id=paid["transactions"][0]["id"])
    hy.act("delete_invoice", id=old[30]["id"])
    hy.act("cancel_invoice", id=old[40]["id"])

    report = app.sync("hy")
    assert report.totals.quarantined == 0
    swept = app.sync("hy", streams=["sweep"])

    after = hy.state()
    assert_store_matches(app.engine, "hy", after)
    assert swept.totals.deleted == 1 + 1 + len(old[30]["transactions"]) - (1 if paid is old[30] else 0)

    # An immediate rerun with no changes writes nothing.
    again = app.sync("hy")
    assert again.totals.created == again.totals.updated == again.totals.deleted == again.totals.quarantined == 0


def _incremental_requests(app: App, hy: HydraHarness, changed: int, truth: dict[str, Any]) -> tuple[int, int]:
    touched = _person_changes(hy, truth, changed)
    hy.clear_requests()
    report = app.sync("hy")
    assert report.totals.quarantined == 0
    assert report.requests == len(hy.requests())
    return report.requests, len(touched)


def test_incremental_requests_grow_with_the_changes_not_with_the_total(sqlite_url: str, hy: HydraHarness) -> None:
    _seed(hy, customers=300, invoices=3000)
    app = make_app(sqlite_url, hy.connection("hy", lookback_days=0))
    first = app.sync("hy")
    truth = hy.state()
    # A change lands in a later second than the first run's window end (timestamps are whole seconds).
    hy.clock(advance_seconds=2)

    small, n_small = _incremental_requests(app, hy, 30, truth)  # 1 %
    hy.clock(advance_seconds=2)
    large, n_large = _incremental_requests(app, hy, 300, truth)  # 10 %
    assert_store_matches(app.engine, "hy", hy.state())

    def bound(n: int) -> int:
        # the clock per stream (2) + customers' empty window (1) + per page of changed invoices: the page,
        # its rows (3-4 per invoice) and its transactions, 100 per request; one page more for records of
        # the boundary second.
        pages = _pages(n) + 1
        return 3 + 3 * pages + _pages(4 * n) + _pages(3 * n)

    assert small <= bound(n_small), (small, bound(n_small))
    assert large <= bound(n_large), (large, bound(n_large))
    assert small < large < first.requests / 4, (small, large, first.requests)


def test_both_flavours_sync_to_identical_stores(tmp_path: Any, hy: HydraHarness) -> None:
    _seed(hy, customers=40, invoices=250)
    snapshots = []
    for n, flavour in enumerate(("3", "4")):
        hy.flavour(flavour)
        app = make_app(f"sqlite:///{tmp_path / f'store{n}.db'}", hy.connection("hy", page_size=25))
        report = app.sync("hy")
        assert report.totals.quarantined == 0
        assert_store_matches(app.engine, "hy", hy.state())
        snapshots.append(store_snapshot(app.engine, "hy"))
        app.engine.dispose()
    assert snapshots[0] == snapshots[1]
