"""The FastFaktura provider: lenient envelopes, paging ends, typed rate limits and pacing, vanished details.

Most checks run against the sandbox; `httpx.MockTransport` stands in only for wire shapes the sandbox
never sends (a bare array, no ``meta``, a service that ignores ``page``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connector.errors import ProtocolError, RateLimited
from connector.providers.base import NoStamps, Page, Provider
from tests.fastfaktura.harness import FastFakturaHarness
from tests.fastfaktura.truth import assert_store_matches
from tests.sandbox_time import LinkedClock
from tests.support import make_app


def _mock_provider(sqlite_url: str, ff: FastFakturaHarness, handler: Callable[[httpx.Request], httpx.Response],
                   **options: Any) -> Provider:
    app = make_app(sqlite_url, ff.connection("ff", max_attempts=1, options=options))
    return app.provider(app.connection("ff"), transport=httpx.MockTransport(handler))


def _entry(n: int) -> dict[str, Any]:
    return {"id": f"inv-{n}", "number": f"FF-2025-{n:04d}", "client_id": "c", "currency": "EUR",
            "subtotal_cents": 100, "tax_cents": 25, "total_cents": 125, "status": "sent", "due_date": None,
            "public_url": f"https://app.fastfaktura.io/i/{n}"}


def _pull(provider: Provider, stream: str = "invoices") -> list[Page]:
    try:
        return list(provider.pull(stream, None, None, {}, NoStamps()))
    finally:
        provider.close()


def test_bare_arrays_without_meta_end_on_the_first_short_page(sqlite_url: str, ff: FastFakturaHarness) -> None:
    entries = [_entry(n) for n in range(80)]
    asked: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/invoices"):
            page = int(request.url.params["page"])
            asked.append(page)
            return httpx.Response(200, json=entries[(page - 1) * 25:page * 25])
        invoice_id = request.url.path.rsplit("/", 1)[1]
        return httpx.Response(200, json={"data": {**_entry(int(invoice_id[4:])), "lines": [], "events": []}})

    pages = _pull(_mock_provider(sqlite_url, ff, handler, list_pages_per_batch=2, detail_workers=1))

    assert [r.remote_id for p in pages for r in p.records] == [e["id"] for e in entries]
    # Page 1 alone, then two at a time (no meta.last_page to stop the read-ahead): page 4 is short. With no
    # meta.total to show the list held still, page 1 is read once more at the end.
    assert asked[0] == 1 and sorted(asked[1:-1]) == [2, 3, 4, 5] and asked[-1] == 1
    assert [p.checkpoint for p in pages] == [{"page": 2}, {"page": 3}, {"page": 4}, {"page": 5}]


def test_a_service_that_ignores_page_is_a_protocol_error(sqlite_url: str, ff: FastFakturaHarness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [_entry(n) for n in range(25)], "meta": {"per_page": 25}})

    with pytest.raises(ProtocolError, match="ignores 'page'"):
        _pull(_mock_provider(sqlite_url, ff, handler), "clients")


@pytest.mark.parametrize("body", [{"data": {"not": "a list"}}, {"items": []}, "text", [{"id": None}]])
def test_an_unreadable_list_is_a_protocol_error(sqlite_url: str, ff: FastFakturaHarness, body: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})

    with pytest.raises(ProtocolError):
        _pull(_mock_provider(sqlite_url, ff, handler), "clients")


def test_a_detail_that_is_gone_is_reported_vanished(sqlite_url: str, ff: FastFakturaHarness) -> None:
    ff.seed(clients=10, invoices=30)
    app = make_app(sqlite_url, ff.connection("ff"))
    app.sync("ff")
    victim = ff.state()["invoices"][3]["id"]
    ff.act("pay_invoice", invoice_id=next(i["id"] for i in ff.state()["invoices"]
                                          if i["status"] in ("sent", "opened", "overdue")))
    ff.act("corrupt_invoice", invoice_id=victim, field="status", value="gone")  # its list entry changes
    ff.faults([{"kind": "status", "status": 404, "times": None, "path_prefix": f"/api/v1/invoices/{victim}"}])

    report = app.sync("ff")

    assert report.totals.deleted == 1  # soft-deleted, with the other change stored alongside
    assert report.totals.quarantined == 0


def test_a_429_is_typed_rate_limited_with_its_retry_after(sqlite_url: str, ff: FastFakturaHarness) -> None:
    ff.seed(clients=60, invoices=10)
    ff.rate_limit(2, 60)
    app = make_app(sqlite_url, ff.connection("ff", max_attempts=1, options={"list_pages_per_batch": 1}))

    with pytest.raises(RateLimited) as caught:
        app.sync("ff")

    assert caught.value.retry_after is not None and 1 <= caught.value.retry_after <= 60
    assert "[ff]" in str(caught.value)


def test_a_small_budget_is_honoured_without_a_single_429(sqlite_url: str, ff: FastFakturaHarness) -> None:
    # Windows of a minute, the first begun a second ago (FastFaktura tells no client its phase: a first
    # burst across a boundary would cost a 429 no pacer could avoid); waits on a clock tied to the sandbox's
    ff.seed(clients=30, invoices=40)
    ff.rate_limit(30, 60, phase_seconds=(time.time() - 1) % 60)
    clock = LinkedClock(ff.advance_clock)
    app = make_app(sqlite_url, ff.connection("ff", rate_limit=30, rate_window_seconds=60), clock=clock)
    clock.follow(app, "ff")

    report = app.sync("ff")

    statuses = [r["status"] for r in ff.requests()]
    assert 429 not in statuses and len(statuses) > 30  # more than one window's worth, all paced
    assert clock.slept >= 30
    assert report.requests == len(statuses)
    assert_store_matches(app.engine, "ff", ff.state())


def test_a_killed_run_resumes_one_page_before_its_checkpoint(sqlite_url: str, ff: FastFakturaHarness) -> None:
    ff.seed(clients=10, invoices=120)
    app = make_app(sqlite_url, ff.connection("ff", options={"list_pages_per_batch": 1}))
    provider = app.provider(app.connection("ff"))
    try:
        pages = list(provider.pull("invoices", None, {"page": 4}, {}, NoStamps()))
    finally:
        provider.close()
    listed = [r["query"] for r in ff.requests() if r["path"] == "/api/v1/invoices"]
    assert listed[0] == "page=3" and pages[0].checkpoint == {"page": 4}
    assert sum(1 for p in pages for r in p.records if r.kind == "invoice") == 120 - 2 * 25
