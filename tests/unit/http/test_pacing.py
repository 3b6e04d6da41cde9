"""The pacer: waits for the service's window boundary, keeps a reserve, honours Retry-After.

Learning the window's phase from resets is in test_pacing_phase.py."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from connector.http import Pacer
from tests.unit.http.conftest import FakeClock, VirtualClock


def answer(
    *,
    date: datetime | None = None,
    remaining: int | None = None,
    limit: int | None = 250,
    status: int = 200,
    retry_after: str | None = None,
) -> httpx.Response:
    headers = {}
    if date is not None:
        headers["Date"] = format_datetime(date, usegmt=True)
    if remaining is not None:
        headers["X-RateLimit-Remaining"] = str(remaining)
    if limit is not None:
        headers["X-RateLimit-Limit"] = str(limit)
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return httpx.Response(status, headers=headers, request=httpx.Request("GET", "https://x.test/a"))


def send(pacer: Pacer, response: httpx.Response | None = None) -> float:
    """One request as the session makes it: acquire, (observe the answer), release."""
    waited = pacer.acquire()
    if response is not None:
        pacer.observe(response)
    pacer.release()
    return waited


def test_no_limit_never_waits(clock: FakeClock) -> None:
    pacer = Pacer(clock, limit=None, window_seconds=None)
    for _ in range(1000):
        assert pacer.acquire() == 0.0
    assert clock.slept == []


def test_counts_locally_from_the_configured_budget(clock: FakeClock) -> None:
    # Given a 5-per-minute budget and a service that sends no headers at all
    pacer = Pacer(clock, limit=5, window_seconds=60, margin_seconds=1.0)
    # When six requests go
    waits = [send(pacer) for _ in range(6)]
    # Then the sixth waits a whole window (and 0.01% for clock drift) from the first answer, + 1 s margin:
    # nothing says where the service's window started, so that is the earliest it surely ended
    assert waits[:5] == [0.0] * 5
    assert waits[5] == pytest.approx(61.0, abs=0.01)
    assert pacer.waited_seconds == pytest.approx(61.0, abs=0.01)
    assert pacer.remaining == 4  # a fresh budget of `limit`, minus the request just let through


def test_the_date_header_is_not_taken_for_the_window_phase(clock: FakeClock) -> None:
    # Given the service's Date says 09:59:55 and its budget is spent
    pacer = Pacer(clock, limit=250, window_seconds=3600, margin_seconds=1.0)
    send(pacer, answer(date=datetime(2025, 1, 6, 9, 59, 55, tzinfo=UTC), remaining=0))
    # When the next request wants to go
    waited = send(pacer)
    # Then it does not bet on windows aligned to the service's clock hour (FactuurSturen does not say so):
    # it waits out a whole window from the answer that said 0
    assert waited == pytest.approx(3601.0, abs=0.5)
    assert pacer.server_now() == datetime(2025, 1, 6, 10, 59, 56, 360000, tzinfo=UTC)


def test_reserve_is_kept_back(clock: FakeClock) -> None:
    pacer = Pacer(clock, limit=250, window_seconds=3600, reserve=10, probes=0)
    send(pacer, answer(date=clock.now(), remaining=12))
    assert send(pacer) == 0.0  # 12 -> 11
    assert send(pacer) == 0.0  # 11 -> 10
    assert send(pacer) > 0  # 10 <= reserve: wait for the next hour


def test_header_lower_than_local_count_wins_within_a_window(clock: FakeClock) -> None:
    # Another tool spends budget on the same account: the service's count is lower than ours.
    pacer = Pacer(clock, limit=250, window_seconds=3600)
    send(pacer, answer(date=clock.now(), remaining=100))
    send(pacer, answer(date=clock.now(), remaining=40))
    assert pacer.remaining == 40


def test_concurrent_acquires_never_overspend() -> None:
    # Given 20 requests left in the window and 8 threads each wanting 5 requests (no probing), on a clock
    # that moves only once all eight wait (so "before any wait" does not depend on thread scheduling)
    clock = VirtualClock()
    pacer = Pacer(clock, limit=250, window_seconds=3600, probes=0)
    send(pacer, answer(date=clock.now(), remaining=20))
    start = clock.monotonic()
    sent_before_wait: list[int] = []
    lock = threading.Lock()
    ready = threading.Barrier(8)

    def worker() -> None:
        with clock.taking_part():
            ready.wait(30)
            for _ in range(5):
                if send(pacer) == 0.0 and clock.monotonic() == start:
                    with lock:
                        sent_before_wait.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    # Then exactly the 20 remaining requests went without waiting; the rest waited for the next hour
    assert not any(t.is_alive() for t in threads)
    assert len(sent_before_wait) == 20
    assert clock.total_slept > 0 and clock.monotonic() - start >= 3600


def test_retry_after_holds_every_request(clock: FakeClock) -> None:
    pacer = Pacer(clock, limit=None, window_seconds=None)
    pacer.observe(answer(status=429, retry_after="30", limit=None))
    assert pacer.acquire() == pytest.approx(30.0)
    assert pacer.acquire() == 0.0


def test_retry_after_on_a_success_is_ignored(clock: FakeClock) -> None:
    pacer = Pacer(clock, limit=None, window_seconds=None)
    pacer.observe(answer(status=200, retry_after="30", limit=None))
    assert pacer.acquire() == 0.0


def test_hold_keeps_the_later_deadline(clock: FakeClock) -> None:
    pacer = Pacer(clock, limit=None, window_seconds=None)
    pacer.hold(50)
    pacer.hold(10)
    assert pacer.acquire() == pytest.approx(50.0)


def test_unknown_window_waits_the_default_then_probes(clock: FakeClock) -> None:
    pacer = Pacer(clock, limit=None, window_seconds=None, default_wait_seconds=60)
    send(pacer, answer(remaining=0, limit=100))
    assert pacer.acquire() == pytest.approx(60.0)  # then one probe goes
    assert pacer.remaining is None


def test_server_now_follows_the_date_header(clock: FakeClock) -> None:
    pacer = Pacer(clock, limit=None, window_seconds=None)
    assert pacer.server_now() is None
    pacer.observe(answer(date=datetime(2030, 5, 1, 12, 0, 0, tzinfo=UTC)))
    clock.advance(2.5)
    assert pacer.server_now() == datetime(2030, 5, 1, 12, 0, 2, 500000, tzinfo=UTC)


def test_header_limit_lowers_the_budget(clock: FakeClock) -> None:
    pacer = Pacer(clock, limit=250, window_seconds=60)
    send(pacer, answer(date=clock.now(), remaining=0, limit=3))
    send(pacer)  # waits to the next minute, then assumes min(250, 3)
    assert pacer.remaining == 2


def test_waits_are_logged_at_info(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    pacer = Pacer(clock, limit=1, window_seconds=60, name="fs-main")
    with caplog.at_level(logging.INFO, logger="connector.http"):
        send(pacer)
        send(pacer)
    (wait,) = [r.msg for r in caplog.records if getattr(r.msg, "name", None) == "rate budget wait"]
    assert wait.fields == {"connection": "fs-main", "seconds": 60.1, "reason": wait.fields["reason"]}
    assert "rate budget wait connection=fs-main seconds=60.1" in caplog.text


def test_requests_in_flight_at_a_boundary_are_not_spent_twice(clock: FakeClock) -> None:
    # Given 2 requests per minute, one answered and one still in flight when the window turns
    pacer = Pacer(clock, limit=2, window_seconds=60)
    send(pacer)
    pacer.acquire()  # in flight: the service may count it in the next window
    # When the next window comes, only one more request may go until the straggler is answered
    assert send(pacer) == pytest.approx(60.06, abs=0.01)
    assert pacer.remaining == 0
    pacer.release()


def test_a_forgotten_release_cannot_block_forever(clock: FakeClock) -> None:
    pacer = Pacer(clock, limit=1, window_seconds=60, in_flight_seconds=90)
    pacer.acquire()  # never released
    assert send(pacer) > 0  # waits, but returns
    assert clock.total_slept < 200


def test_a_rate_limit_answer_with_retry_after_waits_that_not_the_window(clock: FakeClock) -> None:
    # A 429 (or a budget-spent 403) saying Remaining 0 and Retry-After 1, in an hourly window
    pacer = Pacer(clock, limit=250, window_seconds=3600)
    send(pacer, answer(status=429, remaining=0, retry_after="1"))
    assert pacer.acquire() == pytest.approx(1.0)  # was 3,600 s: the rest of the window
    pacer.observe(answer(remaining=249))
    pacer.release()
    assert pacer.remaining == 249


def test_a_spent_budget_without_retry_after_still_waits_for_the_window(clock: FakeClock) -> None:
    pacer = Pacer(clock, limit=250, window_seconds=3600)
    send(pacer, answer(status=403, remaining=0))
    assert pacer.acquire() > 3599


def test_a_hold_is_cut_to_an_hour_or_the_window(clock: FakeClock) -> None:
    pacer = Pacer(clock, limit=None, window_seconds=None)
    pacer.observe(answer(status=429, retry_after="999999999", limit=None))
    assert pacer.acquire() == pytest.approx(3600.0)
    longer = Pacer(clock, limit=None, window_seconds=86400)
    longer.hold(1e9)
    assert longer.acquire() == pytest.approx(86400.0)


class GatedClock(FakeClock):
    """A fake clock whose sleeps block until the gate opens (so several threads wait at once), then pass."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.sleeping = 0

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeping += 1
        self.gate.wait(60)
        super().sleep(seconds)


def test_threads_waiting_for_the_same_window_end_say_it_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = GatedClock()
    pacer = Pacer(clock, limit=1, window_seconds=60, name="ff")
    send(pacer)
    assert pacer.waiting() is None and pacer.sent == 1
    threads = [threading.Thread(target=send, args=(pacer,)) for _ in range(4)]
    with caplog.at_level(logging.INFO, logger="connector.http"):
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while clock.sleeping < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert clock.sleeping == 4
        waits = [r for r in caplog.records if getattr(r.msg, "name", None) == "rate budget wait"]
        waiting = pacer.waiting()
        clock.gate.set()
        for thread in threads:
            thread.join(60)
    assert len(waits) == 1, [str(r.msg) for r in waits]
    assert waiting is not None and waiting[0] == pytest.approx(60.0, abs=0.1) and "budget spent" in waiting[1]
    assert pacer.sent == 5 and pacer.waiting() is None
