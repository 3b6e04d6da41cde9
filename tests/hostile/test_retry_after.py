"""A 429 (or a budget-spent 403) with Retry-After waits that long, not the rest of the rate window; only an
answer without one waits for the window's end. Waits are read off a fake clock, never slept."""

from __future__ import annotations

import pytest

from connector.app import App
from connector.http import Classifier, HttpConfig, HttpSession, Pacer, forbidden_with_zero_remaining_is_rate_limit
from tests.hostile.server import HostileServer
from tests.observability.test_sync_metrics import InstantClock
from tests.support import FsSandbox, make_app
from tests.unit.http.conftest import FakeClock

HOUR = 3600.0


def _factuursturen_like(server: HostileServer, clock: FakeClock) -> HttpSession:
    config = HttpConfig(provider="hostile", connection="h", base_url=server.url,
                        rate_limit=250, rate_window_seconds=HOUR, max_attempts=3)
    return HttpSession(config, clock=clock, classifier=Classifier({403: forbidden_with_zero_remaining_is_rate_limit}))


def test_a_429_with_retry_after_1_waits_about_a_second_not_the_hour(hostile: HostileServer) -> None:
    clock = FakeClock()
    with _factuursturen_like(hostile, clock) as session:
        assert len(session.get_json_array("/limited")) == 2
    assert hostile.paths() == ["/limited", "/limited"]
    assert clock.total_slept == pytest.approx(1.0), clock.slept  # was 1 s of backoff, then 3,599 s of pacing


def test_a_huge_retry_after_is_bounded_by_the_rate_window() -> None:
    clock = FakeClock()
    pacer = Pacer(clock, limit=250, window_seconds=HOUR)
    pacer.hold(10 * 24 * HOUR)
    pacer.acquire()
    assert clock.total_slept == pytest.approx(HOUR)


class SkippingClock(InstantClock):
    """Real time, except that a sleep is recorded and skipped (the clock jumps ahead by it)."""

    def __init__(self) -> None:
        super().__init__()
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        super().sleep(seconds)


def test_a_factuursturen_pull_through_a_429_waits_its_retry_after(database_url: str, fs: FsSandbox) -> None:
    fs.seed(seed=3, clients=30, invoices=10)
    fs.faults({"kind": "storm", "status": 429, "times": 1, "retry_after": 1, "path_prefix": "/api/v1/clients"})
    clock = SkippingClock()
    app = make_app(database_url, fs.connection())
    app = App(app.settings, clock=clock, connections=app.connections)

    report = app.sync("fs", streams=["clients"])

    assert [s.status for s in report.streams] == ["ok"] and report.totals.created == 30
    listings = [(r["query"], r["status"]) for r in fs.requests() if r["path"].endswith("/clients")]
    assert listings[0][1] == 429 and listings[1] == (listings[0][0], 200)  # the same page, once waited
    assert max(clock.slept) <= 1.0 + 1e-6, clock.slept  # was [1.0, 3599.9...]: the rest of the hour
