"""FastFaktura end to end over real sockets: full sync, a person's changes, request counts, reruns."""

from __future__ import annotations

from typing import Any

from tests.fastfaktura.harness import FastFakturaHarness
from tests.fastfaktura.truth import assert_store_matches
from tests.support import make_app


def _details(log: list[dict[str, Any]]) -> list[str]:
    """Paths of invoice detail requests in a request log."""
    return [r["path"] for r in log if r["path"].startswith("/api/v1/invoices/")]


def _lists(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in log if r["path"] in ("/api/v1/clients", "/api/v1/invoices")]


def test_full_sync_equals_the_sandbox_truth(database_url: str, ff: FastFakturaHarness) -> None:
    ff.seed(clients=200, invoices=1000)
    truth = ff.state()
    statuses = {inv["status"] for inv in truth["invoices"]}
    assert statuses == {"draft", "sent", "opened", "paid", "overdue", "cancelled"}, statuses
    assert any(c["archived_at"] for c in truth["clients"])
    app = make_app(database_url, ff.connection("ff"))

    report = app.sync("ff")

    assert report.totals.quarantined == 0
    assert report.totals.unresolved_refs == 0
    assert_store_matches(app.engine, "ff", truth)  # archived clients included, as archived


def test_a_persons_changes_are_all_picked_up_and_a_rerun_writes_nothing(
    database_url: str, ff: FastFakturaHarness
) -> None:
    ff.seed(clients=120, invoices=400)
    app = make_app(database_url, ff.connection("ff"))
    app.sync("ff")
    truth = ff.state()
    drafts = [i["id"] for i in truth["invoices"] if i["status"] == "draft"]
    payable = [i["id"] for i in truth["invoices"] if i["status"] in ("sent", "opened", "overdue")]
    active = [c for c in truth["clients"] if not c["archived_at"]]

    # Given a person in the web app: client edits, an archival, new invoices (one sent, then opened),
    # a draft sent, two payments and a cancellation.
    for client in active[:5]:
        ff.act("edit_client", client_id=client["id"], changes={"name": client["name"] + " (ny)", "email": None})
    ff.act("archive_client", client_id=active[6]["id"])
    new = [ff.act("create_invoice", client_id=active[7]["id"], send=i == 0) for i in range(3)]
    ff.act("open_invoice", invoice_id=new[0]["id"])
    ff.act("send_invoice", invoice_id=drafts[0])
    ff.act("pay_invoice", invoice_id=payable[0])
    ff.act("pay_invoice", invoice_id=payable[1])
    ff.act("cancel_invoice", invoice_id=payable[2])
    ff.clear_requests()

    report = app.sync("ff")

    assert_store_matches(app.engine, "ff", ff.state())
    assert report.totals.created == 3 + 2  # three invoices, two payments
    assert report.totals.updated == 5 + 1 + 1 + 2 + 1  # clients edited and archived; four invoices
    assert report.totals.quarantined == 0
    changed = [*(n["id"] for n in new), drafts[0], *payable[:3]]
    assert sorted(_details(ff.requests())) == sorted(f"/api/v1/invoices/{i}" for i in changed)

    again = app.sync("ff")
    assert again.totals.created == again.totals.updated == again.totals.deleted == again.totals.quarantined == 0
    assert again.totals.unchanged == again.totals.read > 0


def test_a_no_change_rerun_reads_list_pages_only(sqlite_url: str, ff: FastFakturaHarness) -> None:
    ff.seed(clients=60, invoices=300)
    app = make_app(sqlite_url, ff.connection("ff"))
    first = app.sync("ff")
    assert first.requests == len(ff.requests())
    ff.clear_requests()

    rerun = app.sync("ff")

    log = ff.requests()
    assert _details(log) == []
    assert log == _lists(log) and all("page=" in r["query"] for r in log)
    assert rerun.requests == len(log)
    # 300 invoices = 12 pages of 25 (+ the batch's pages read past the end); clients likewise.
    assert len([r for r in log if r["path"] == "/api/v1/invoices"]) <= 12 + 4
    assert rerun.totals.created == rerun.totals.updated == 0


def test_changing_k_invoices_costs_exactly_k_detail_requests(database_url: str, ff: FastFakturaHarness) -> None:
    ff.seed(clients=50, invoices=250)
    app = make_app(database_url, ff.connection("ff"))
    app.sync("ff")
    truth = ff.state()
    payable = [i["id"] for i in truth["invoices"] if i["status"] in ("sent", "opened", "overdue")]
    changed = payable[:7]
    for invoice_id in changed:
        ff.act("pay_invoice", invoice_id=invoice_id)
    ff.clear_requests()

    report = app.sync("ff")

    assert sorted(_details(ff.requests())) == sorted(f"/api/v1/invoices/{i}" for i in changed)
    assert report.totals.updated == 7 and report.totals.created == 7  # seven invoices, seven new payments
    assert_store_matches(app.engine, "ff", ff.state())


def test_clients_archived_while_paging_are_not_skipped(sqlite_url: str, ff: FastFakturaHarness) -> None:
    # Given clients archived (leaving the active listing) just before two of the pages are read.
    ff.seed(clients=150, invoices=200)
    app = make_app(sqlite_url, ff.connection("ff", options={"list_pages_per_batch": 1, "detail_workers": 1}))
    ff.faults([{"kind": "page_shift", "path_prefix": "/api/v1/clients", "times": 2}])

    report = app.sync("ff")

    assert report.totals.unresolved_refs == 0  # every invoice's client was stored before the invoice
    assert_store_matches(app.engine, "ff", ff.state())


def test_invoices_created_while_paging_come_twice_and_the_next_run_has_them(
    sqlite_url: str, ff: FastFakturaHarness
) -> None:
    ff.seed(clients=30, invoices=200)
    app = make_app(sqlite_url, ff.connection("ff", options={"list_pages_per_batch": 1}))
    ff.faults([{"kind": "page_shift", "path_prefix": "/api/v1/invoices", "times": 3}])

    app.sync("ff")
    assert ff.get("/state/counts")["invoices"] == 203  # three drafts made at the front of the list
    ff.faults([])
    second = app.sync("ff")

    assert second.totals.created == 3
    assert_store_matches(app.engine, "ff", ff.state())


def test_the_sweep_stream_lists_ids_without_deleting_anything(sqlite_url: str, ff: FastFakturaHarness) -> None:
    ff.seed(clients=40, invoices=80)
    app = make_app(sqlite_url, ff.connection("ff"))
    app.sync("ff")

    report = app.sync("ff", streams=["sweep"])

    sweep = report.streams[0]
    assert sweep.status == "ok" and sweep.counts.deleted == 0
    assert sweep.counts.read == 40 + 80
    assert_store_matches(app.engine, "ff", ff.state())
