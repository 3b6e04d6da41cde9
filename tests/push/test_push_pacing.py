"""Pushes share the connection's rate budget: 600 pushes to FactuurSturen under 250 per window (shrunk to a few
seconds) never provoke a 403 and spend at least 90% of every window's budget once the pacer knows the phase.

FactuurSturen says how much budget is left but not when its window resets (PROVIDERS.md §3). The sandbox
counts in fixed windows, here moved off the epoch grid by a fraction of a second so that nothing the connector
sees (the ``Date`` header's whole seconds) gives their boundaries away. Requests are counted per window from
the sandbox's own request log (the time each request was counted).

Time is the sandbox's clock, frozen, and moved only by the connector's waits (`ServiceTime`): what is proven is
that the pacer spends the budget, not how fast this machine sends (a loaded machine could not fill a few-second
window of 250 in real time; bench/ measures speed)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from connector.app import App
from connector.settings import Settings
from sandboxes._control import SandboxClock
from tests.support import FsSandbox, make_app

LIMIT, WINDOW, PHASE = 250, 6.0, 2.5
PUSHES = 600
CLIENTS = 630  # seed 3 archives some, which are not pushed


class ServiceTime:
    """A `Clock` that is the sandbox's (frozen) clock: every wait of the connector advances it at once."""

    def __init__(self, clock: SandboxClock) -> None:
        self.clock = clock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.time(), UTC)

    def monotonic(self) -> float:
        return self.clock.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.clock.advance(seconds)


def test_600_pushes_spend_each_window_without_a_403(sqlite_url: str, fs: FsSandbox, fs_source: FsSandbox) -> None:
    fs_source.seed(seed=3, clients=CLIENTS, invoices=0)
    fs.post("/ratelimit", {"limit": LIMIT, "window_seconds": WINDOW, "phase_seconds": PHASE})
    target = fs.connection("dst", receives=["client"], rate_limit=LIMIT, rate_window_seconds=WINDOW, rate_reserve=0)
    source = fs_source.connection("src")
    make_app(sqlite_url, source, target).sync("src")
    fs.server.clock.freeze(True)
    app = App(Settings(database_url=sqlite_url), clock=ServiceTime(fs.server.clock), connections=[source, target])
    fs.clear_requests()

    [result] = app.push("dst")

    assert result.planned >= PUSHES, "archived clients are not pushed; the rest are"
    assert result.drain is not None and result.drain.done == result.planned
    log = fs.requests()
    assert sum(r["method"] == "POST" for r in log) == result.planned, "a client costs one request"
    assert [r for r in log if r["status"] == 403] == [], "the budget was never overspent"
    per_window = Counter(int((r["t"] - PHASE) // WINDOW) for r in log)
    windows = range(min(per_window), max(per_window) + 1)
    used = [per_window[w] for w in windows]
    print(f"requests per {WINDOW:g} s window of {LIMIT}: {used}")
    assert max(used) <= LIMIT
    # The first window is where the drain starts and the pacer does not know yet where the service's window
    # ends (it learns that from Remaining going up at the first reset); the last is what is left over.
    full = used[1:-1]
    assert full, "the drain needed at least three windows"
    assert min(full) >= 0.9 * LIMIT, f"a window in the middle of the drain used less than 90%: {used}"
