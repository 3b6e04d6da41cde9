"""Pushes share the connection's rate budget: a drain bigger than a window pauses, never provokes a 403,
and spends nearly all of each window it waits for."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from tests.support import FsSandbox, make_app

LIMIT, WINDOW = 20, 2.0
CLIENTS = 70


@pytest.fixture
def source() -> Iterator[FsSandbox]:
    """Another FactuurSturen account the clients come from."""
    sandbox = FsSandbox.start()
    sandbox.reset()
    yield sandbox
    sandbox.stop()


def test_a_drain_larger_than_the_window_paces_itself(sqlite_url: str, fs: FsSandbox, source: FsSandbox) -> None:
    source.seed(seed=3, clients=CLIENTS, invoices=0)
    fs.post("/ratelimit", {"limit": LIMIT, "window_seconds": WINDOW})
    target = fs.connection("dst", receives=["client"], rate_limit=LIMIT, rate_window_seconds=WINDOW, rate_reserve=0)
    app = make_app(sqlite_url, source.connection("src"), target)
    app.sync("src")
    fs.clear_requests()
    [result] = app.push("dst")
    assert result.planned >= CLIENTS - 5, "archived clients are not pushed; the rest are"
    assert result.drain is not None and result.drain.done == result.planned
    log = fs.requests()
    assert all(r["status"] != 403 for r in log), "the budget was never overspent"
    per_window = Counter(int(r["t"] // WINDOW) for r in log)
    windows = sorted(per_window)
    assert len(windows) >= 3, "the drain needed several windows"
    full = [per_window[w] for w in windows[1:-1]]  # the first and last windows are partial by nature
    assert full and min(full) >= 0.9 * LIMIT, per_window
