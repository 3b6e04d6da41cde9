"""The Hydra provider against the sandbox: shifting collections, resumes, plain JSON, composing invoices."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from connector.clock import SystemClock
from connector.errors import ProtocolError
from connector.http import BearerToken, HttpConfig, HttpSession
from connector.mapping import load_mapping
from connector.providers.base import NoStamps, Page, RawRecord
from connector.providers.hydra import HydraProvider
from connector.providers.hydra.wire import compose_invoice, members, next_link, total_items
from tests.hydra.harness import TOKEN, HydraHarness
from tests.hydra.truth import assert_store_matches, expected_from_truth, store_snapshot
from tests.support import make_app

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


def _provider(hy: HydraHarness, accept: str = "application/ld+json", page_size: int = 10) -> HydraProvider:
    config = HttpConfig(provider="hydra", connection="t", base_url=hy.base_url, auth=BearerToken(TOKEN),
                        headers={"Accept": accept}, max_attempts=1)
    return HydraProvider(HttpSession(config, clock=SystemClock()), page_size=page_size)


def _pull(provider: HydraProvider, stream: str, resume: dict[str, Any] | None = None) -> list[Page]:
    return list(provider.pull(stream, None, resume, {}, NoStamps()))


def _ids(pages: list[Page], kind: str) -> list[str]:
    return [r.remote_id for p in pages for r in p.records if r.kind == kind]


@pytest.mark.parametrize("flavour", ["3", "4"])
def test_a_record_deleted_before_the_page_being_read_is_not_missed(database_url: str, hy: HydraHarness,
                                                                   flavour: str) -> None:
    hy.seed(clients=6, invoices=60)
    hy.flavour(flavour)
    hy.faults([{"kind": "page_shift", "path_prefix": "/api/invoices", "after": 1, "times": 2}])
    app = make_app(database_url, hy.connection("hy", page_size=10))
    report = app.sync("hy")
    state = hy.state()
    assert sum(1 for i in state["invoices"] if i["deleted"]) == 2  # two shifted the listing under the pull
    assert report.totals.quarantined == 0
    app.sync("hy", streams=["sweep"])  # the two were read before they went: the sweep removes them
    assert_store_matches(app.engine, "hy", state)


def test_a_resumed_listing_rereads_when_it_shrank_meanwhile(hy: HydraHarness) -> None:
    hy.seed(clients=3, invoices=35)
    provider = _provider(hy)
    pages = provider.pull("invoices", None, None, {}, NoStamps())
    first = next(pages)
    assert _ids([first], "invoice") == [str(n) for n in range(1, 11)]
    assert first.checkpoint is not None and first.checkpoint["total"] == 35
    hy.act("delete_invoice", id=4)  # between the runs: invoice 11 slides onto page 1

    resumed = _pull(_provider(hy), "invoices", first.checkpoint)
    seen = set(_ids([first], "invoice")) | set(_ids(resumed, "invoice"))
    assert seen >= {str(n) for n in range(1, 36) if n != 4}
    again = _ids(resumed[:1], "invoice")
    assert again[0] == "1" and again[-1] == "11"  # page 1 read again, now ending with invoice 11
    assert _pull(_provider(hy), "invoices", {"next": None, "total": 35}) == []  # a finished run resumes to nothing


def test_plain_json_answers_are_paged_by_number(hy: HydraHarness) -> None:
    hy.seed(clients=4, invoices=23)
    mapper = load_mapping("hydra", MAPPINGS, None).bind({})
    jsonld = _pull(_provider(hy, page_size=5), "invoices")
    plain = _pull(_provider(hy, "application/json", page_size=5), "invoices")
    assert len(plain) == 5 and all(p.checkpoint for p in plain)

    def mapped(pages: list[Page]) -> list[Any]:
        return [mapper.inbound(r.kind, r.data) for p in pages for r in p.records]

    assert mapped(plain) == mapped(jsonld)
    assert _ids(plain, "payment") == _ids(jsonld, "payment")
    customers = _pull(_provider(hy, "application/json", page_size=100), "customers")
    assert len(customers) == 1 and len(customers[0].records) == 4


def test_sweep_lists_every_live_id(hy: HydraHarness) -> None:
    hy.seed(clients=130, invoices=210)
    hy.act("delete_invoice", id=7)
    provider = _provider(hy)
    assert sum(len(b) for b in provider.list_ids("client")) == 130
    invoices = [i for b in provider.list_ids("invoice") for i in b]
    assert len(invoices) == 209 and "7" not in invoices
    live = [t for i in hy.state()["invoices"] if not i["deleted"] for t in i["transactions"]]
    assert sorted(i for b in provider.list_ids("payment") for i in b) == sorted(str(t["id"]) for t in live)
    assert provider.requests_made == 2 + 3 + -(-len(live) // 100)


def test_a_repeating_next_link_is_a_protocol_error(hy: HydraHarness) -> None:
    hy.seed(clients=2, invoices=25)
    provider = _provider(hy)
    looping = {"hydra:member": [{"@id": "/api/invoices/1", "id": 1}], "hydra:view": {"hydra:next": "/api/x?page=2"}}
    assert next_link(looping) == "/api/x?page=2" and total_items(looping) is None
    assert members({"member": []}, "x") == [] and members([{"id": 1}], "x") == [{"id": 1}]
    with pytest.raises(ProtocolError):
        members({"hydra:totalItems": 3}, "invoices")
    hy.faults([{"kind": "html", "path_prefix": "/api/invoice-rows"}])
    with pytest.raises(ProtocolError):
        _pull(provider, "invoices")


ROW = {"@id": "/api/invoice-rows/5", "id": 5, "invoice": "/api/invoices/2", "updatedAt": "2025-01-01T10:00:00+00:00"}
INVOICE = {"@id": "/api/invoices/2", "id": 2, "invoiceRows": ["/api/invoice-rows/5"],
           "updatedAt": "2025-01-01T10:00:00+00:00"}


@pytest.mark.parametrize(("rows", "transactions", "consistent"), [
    ({"5": ROW}, [], True),
    ({"5": ROW}, [{"id": 1, "updatedAt": "2025-01-01T09:00:00+00:00"}], True),
    ({}, [], False),  # a listed row was not found: it moved or the list changed
    ({"5": ROW, "6": {**ROW, "id": 6}}, [], False),  # a row the invoice does not list yet
    ({"5": {**ROW, "updatedAt": "2025-01-01T10:00:01+00:00"}}, [], False),  # edited after the invoice was read
    ({"5": ROW}, [{"id": 1, "updatedAt": "2025-01-01T11:00:00+02:00"}], True),  # 09:00 UTC: before
    ({"5": ROW}, [{"id": 1, "updatedAt": "2025-01-01T12:00:01+02:00"}], False),  # 10:00:01 UTC: after
])
def test_compose_invoice_refuses_parts_read_at_different_moments(rows: dict[str, Any], transactions: list[Any],
                                                                 consistent: bool) -> None:
    composed = compose_invoice(INVOICE, rows, transactions)
    assert (composed is not None) == consistent
    if composed is not None:
        assert composed["invoiceRows"] == [ROW] and composed["id"] == 2


def test_invoice_records_carry_change_stamps_and_payments_follow_their_invoice(hy: HydraHarness) -> None:
    hy.seed(clients=3, invoices=40)
    pages = _pull(_provider(hy, page_size=40), "invoices")
    records: list[RawRecord] = [r for p in pages for r in p.records]
    kinds = [r.kind for r in records]
    assert kinds.count("invoice") == 40
    for n, record in enumerate(records):
        assert record.change_stamp == record.data["updatedAt"]
        if record.kind == "payment":
            owner = next(r for r in reversed(records[:n]) if r.kind == "invoice")
            assert record.data["invoice"] == owner.data["@id"]
        else:
            assert all(isinstance(row, dict) for row in record.data["invoiceRows"])


def test_an_invoice_changed_while_it_is_read_waits_for_the_next_run(sqlite_url: str, hy: HydraHarness) -> None:
    hy.seed(clients=4, invoices=20)
    app = make_app(sqlite_url, hy.connection("hy"))
    app.sync("hy")
    before = hy.state()
    victim = next(i for i in before["invoices"] if i["transactions"])

    # The rows answer is held back; once the sandbox holds it (the fault fired), a person edits a row of the
    # victim, then the test lets the answer go (clearing the faults ends the hold), so the rows come back
    # newer than the invoice read just before them, however slowly the machine runs.
    hy.faults([{"kind": "slow", "seconds": 600.0, "times": 1, "path_prefix": "/api/invoice-rows"}])
    hy.clear_requests()

    answered_before_the_edit: list[bool] = []

    def edit_while_the_rows_are_held() -> None:
        while not hy.get("/faults")["rules"][0]["fired"]:
            time.sleep(0.02)
        hy.act("edit_row", id=victim["rows"][0]["id"], changes={"quantity": 99})
        answered_before_the_edit.append(any(r["path"].startswith("/api/invoice-rows") for r in hy.requests()))
        hy.control.delete("/faults").raise_for_status()

    editor = threading.Thread(target=edit_while_the_rows_are_held)
    editor.start()
    report = app.sync("hy", full=True)
    editor.join()
    assert answered_before_the_edit == [False], "the edit came after the held rows were answered"

    assert report.totals.deleted == 0  # a complete listing that skipped it does not delete it (or its payments)
    assert report.totals.quarantined == 0
    # Stored whole as it was, or whole as it became (when the edit fell in the window's last second, which
    # the same run lists again), never rows newer than the invoice they were composed into.
    key = str(victim["id"])
    stored = store_snapshot(app.engine, "hy")["invoices"][key]
    assert stored in (expected_from_truth(before)["invoices"][key], expected_from_truth(hy.state())["invoices"][key])
    app.sync("hy")
    assert_store_matches(app.engine, "hy", hy.state())
    assert store_snapshot(app.engine, "hy")["invoices"][str(victim["id"])]["lines"][0][0] == 99
