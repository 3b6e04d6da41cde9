"""A FastFaktura listing that moved while it was read drives no deletions.

The lists are newest first and read four pages at a time. An invoice created after page 4 was served but
before page 3 was pushes every older invoice one place down: the invoice on the boundary of pages 3 and 4
is on neither read. Before: the complete-listing sweep soft-deleted that live invoice for a run. Now the
provider sees the listing moved (a record listed twice, a changed total, or a changed first page) and the
run sweeps nothing; the next run stores everything.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from connector.store.tables import Invoice
from tests.fastfaktura.harness import FastFakturaHarness
from tests.fastfaktura.truth import assert_store_matches
from tests.integration.proxy import listing_proxy
from tests.support import make_app


def test_an_invoice_created_between_concurrent_page_reads_deletes_nothing(
    database_url: str, ff: FastFakturaHarness
) -> None:
    ff.seed(clients=30, invoices=200)
    armed, page4_served = threading.Event(), threading.Event()
    client_id = ff.state()["clients"][0]["id"]

    def after(path: str, query: dict[str, str], n: int) -> None:
        if armed.is_set() and path == "invoices" and query.get("page") == "4":
            page4_served.set()

    def before(path: str, query: dict[str, str], n: int) -> None:
        if armed.is_set() and path == "invoices" and query.get("page") == "3":
            assert page4_served.wait(60), "page 4 was not read beside page 3"
            armed.clear()
            ff.act("create_invoice", client_id=client_id, currency="EUR",
                   lines=[{"description": "Made while paging", "quantity": 1, "unit_price_cents": 1000,
                           "tax_rate": 0}])

    with listing_proxy(ff.base_url, before=before, after=after) as proxy:
        options = {"list_pages_per_batch": 4, "detail_workers": 4}
        app = make_app(database_url, ff.connection("ff", base_url=proxy.url, options=options))
        app.sync("ff")
        armed.set()

        moved = app.sync("ff")

        assert page4_served.is_set() and not armed.is_set(), "the invoice was created between the reads"
        assert moved.totals.deleted == 0, "no live invoice soft-deleted"
        invoices = next(s for s in moved.streams if s.stream == "invoices")
        assert invoices.status == "ok" and invoices.untrusted and not invoices.complete_listing
        with app.engine.connect() as conn:
            gone = conn.execute(
                select(func.count()).select_from(Invoice).where(Invoice.remote_deleted_at.is_not(None))  # type: ignore[union-attr]
            ).scalar_one()
        assert gone == 0

        after_run = app.sync("ff")
    assert after_run.totals.deleted == 0
    assert_store_matches(app.engine, "ff", ff.state())
