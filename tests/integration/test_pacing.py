"""Pace: a sync that needs more requests than one rate window allows waits for the next window, never 403s."""

from __future__ import annotations

from tests.sandbox_time import LinkedClock
from tests.support import FsSandbox, make_app, seed_until_yesterday
from tests.truth import assert_store_matches


def test_sync_larger_than_one_window_waits_and_never_gets_403(sqlite_url: str, fs: FsSandbox) -> None:
    seed_until_yesterday(fs, days=400, seed=11, clients=200, invoices=1200, lines=2)
    fs.post("/ratelimit", {"limit": 15, "window_seconds": 60})
    clock = LinkedClock(lambda seconds: fs.post("/clock", {"advance_seconds": seconds}))
    app = make_app(sqlite_url, fs.connection(page_size=50, rate_limit=15, rate_window_seconds=60), clock=clock)
    fs.clear_requests()

    report = app.sync("fs")

    statuses = [r["status"] for r in fs.requests()]
    assert len(statuses) > 2 * 15, "the sync must need several windows"
    assert 403 not in statuses
    assert clock.slept >= 60  # it paused for the next window (on the sandbox's clock, not for real)
    assert report.requests == len(statuses)
    fs.post("/ratelimit", {"limit": None})
    assert_store_matches(app.engine, "fs", fs.state())
