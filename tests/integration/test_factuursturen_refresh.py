"""The open-invoice refresh is not repeated in a run whose invoice listing was complete, and nothing is missed."""

from __future__ import annotations

from typing import Any

import pytest

from connector.errors import ConnectorError
from tests.support import FsSandbox, make_app, seed_until_yesterday
from tests.truth import assert_store_matches


def _open_reads(fs: FsSandbox) -> list[dict[str, Any]]:
    return [r for r in fs.requests() if r["path"].endswith("/invoices") and "filter=open" in r["query"]]


def test_a_complete_listing_spares_that_runs_refresh_and_the_next_run_sees_what_left_the_open_set(
    sqlite_url: str, fs: FsSandbox
) -> None:
    seed_until_yesterday(fs, days=365, seed=5, clients=30, invoices=400)
    app = make_app(sqlite_url, fs.connection(page_size=100))

    first = app.sync("fs")

    refresh = next(s for s in first.streams if s.stream == "open_invoices")
    assert refresh.status == "ok" and refresh.requests == 0 and not _open_reads(fs)
    # Given two old open invoices (far outside the next window): one paid in full, one deleted.
    truth = fs.state()
    old_open = [i for i in sorted(truth["invoices"], key=lambda i: i["sent"]) if float(i["open"]) > 0][:2]
    fs.act("register_payment", invoice=old_open[0]["id"], amount=str(old_open[0]["open"]))
    fs.act("delete_invoice", invoice=old_open[1]["id"])
    fs.clear_requests()

    second = app.sync("fs")

    assert _open_reads(fs), "an incremental run refreshes the open invoices"
    assert second.totals.deleted == 1
    assert_store_matches(app.engine, "fs", fs.state())


def test_a_listing_resumed_from_a_checkpoint_still_refreshes(sqlite_url: str, fs: FsSandbox) -> None:
    seed_until_yesterday(fs, days=365, seed=6, clients=30, invoices=400)
    app = make_app(sqlite_url, fs.connection(page_size=100, max_attempts=1))
    fs.faults({"kind": "status", "status": 500, "times": 1, "after": 2, "path_prefix": "/api/v1/invoices"})
    with pytest.raises(ConnectorError):
        app.sync("fs")  # two invoice pages committed, the third failed
    fs.clear_requests()

    resumed = app.sync("fs")

    invoices = next(s for s in resumed.streams if s.stream == "invoices")
    assert invoices.pages < 4 and not invoices.complete_listing  # it resumed, so it did not list everything
    assert _open_reads(fs)
    assert_store_matches(app.engine, "fs", fs.state())
