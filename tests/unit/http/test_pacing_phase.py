"""The pacer learns where the service's window ends from ``X-RateLimit-Remaining`` alone (a fake clock).

FactuurSturen sends ``X-RateLimit-Limit`` and ``-Remaining`` but no reset time (PROVIDERS.md §3). `Service`
below counts like it, in fixed windows whose phase the pacer is not told; every request takes `LATENCY`
on the fake clock and is counted halfway through.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from connector.http import Pacer
from connector.http.pacing import POLL_SECONDS
from tests.unit.http.conftest import FakeClock, VirtualClock

LATENCY = 0.02


class Service:
    """Fixed windows of `window` seconds starting at `phase` (+ multiples) on the fake clock's counter."""

    def __init__(self, clock: FakeClock, *, limit: int, window: float, phase: float) -> None:
        self.clock, self.limit, self.window, self.phase = clock, limit, window, phase
        self.used: Counter[int] = Counter()  # requests counted per window
        self.current, self.count = self.window_of(clock.monotonic()), 0
        self.refused = 0

    def window_of(self, t: float) -> int:
        return int((t - self.phase) // self.window)

    def end_of(self, t: float) -> float:
        """When the window holding `t` ends."""
        return self.phase + (self.window_of(t) + 1) * self.window

    def answer(self) -> httpx.Response:
        window = self.window_of(self.clock.monotonic())
        if window != self.current:  # like the sandbox: one counter, restarted when the window changes
            self.current, self.count = window, 0
        if self.count >= self.limit:
            self.refused += 1
            status, remaining = 403, 0
        else:
            self.count += 1
            self.used[window] += 1
            status, remaining = 200, self.limit - self.count
        headers = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(remaining)}
        return httpx.Response(status, headers=headers, request=httpx.Request("POST", "https://fs.test/clients"))


def request(pacer: Pacer, service: Service) -> None:
    """One request as the session makes it: acquire, half the latency, counted, half the latency, observe."""
    pacer.acquire()
    service.clock.advance(LATENCY / 2)
    response = service.answer()
    service.clock.advance(LATENCY / 2)
    pacer.observe(response)
    pacer.release()


def test_a_reset_seen_between_two_answers_locates_the_boundary(clock: FakeClock) -> None:
    # Given a service whose window ends 5 s from now, and a pacer that knows only the window's length
    service = Service(clock, limit=1000, window=60, phase=clock.monotonic() + 5 - 60)
    pacer = Pacer(clock, limit=1000, window_seconds=60)
    # When requests go through the boundary (the budget is not spent, so nothing waits)
    request(pacer, service)
    first = pacer.window_end()
    assert first is not None and not pacer.phase_known
    assert first[0] < service.end_of(clock.monotonic()) < first[1]  # the first bound: a window from the answer
    while service.window_of(clock.monotonic()) == service.window_of(clock.monotonic() - LATENCY):
        request(pacer, service)
    request(pacer, service)
    # Then Remaining going up placed the boundary within one request's time, and the next one a window on
    end = pacer.window_end()
    assert pacer.phase_known and end is not None
    assert end[0] < service.end_of(clock.monotonic()) < end[1]
    assert end[1] - end[0] < 2 * LATENCY + 0.02  # plus 0.01% of the window on either side, for drift
    assert pacer.remaining == 998  # the fresh window's count (two requests in), from its header


def test_no_overspend_while_the_phase_is_unknown(clock: FakeClock) -> None:
    # Given a window that began just before the first request (the worst case for a pacer that guesses),
    # out of phase with the epoch minute, and no probing
    service = Service(clock, limit=20, window=60, phase=clock.monotonic() - 0.001)
    pacer = Pacer(clock, limit=20, window_seconds=60, probes=0)
    # When four windows' worth of requests go
    for _ in range(80):
        request(pacer, service)
    # Then the service never refused one: the first wait lasted until a window after the first answer
    assert service.refused == 0
    assert sorted(service.used.values()) == [20, 20, 20, 20]


def test_a_budget_spent_elsewhere_is_waited_out_without_a_403(clock: FakeClock) -> None:
    # Given another tool spent all but 3 of this window, which ends in 10 s
    service = Service(clock, limit=50, window=60, phase=clock.monotonic() + 10 - 60)
    service.count = 47
    first = service.current
    pacer = Pacer(clock, limit=50, window_seconds=60, probes=0)
    # When 60 requests go
    for _ in range(60):
        request(pacer, service)
    # Then the three left went, the rest waited for the next windows: no 403
    assert service.refused == 0
    assert service.used[first] == 3 and service.used[first + 1] == 50 and service.used[first + 2] == 7


@pytest.mark.parametrize("phase", [0.0, 7.3, 29.9, 44.4, 59.5])
def test_probes_narrow_the_boundary_and_each_window_after_the_first_is_spent(clock: FakeClock, phase: float) -> None:
    # Given 250 per minute, in windows out of phase with the epoch minute by `phase` seconds
    service = Service(clock, limit=250, window=60, phase=phase)
    pacer = Pacer(clock, limit=250, window_seconds=60)
    widths = []
    # When 2500 requests drain (ten windows' worth)
    for _ in range(2500):
        request(pacer, service)
        end = pacer.window_end()
        assert end is not None
        assert end[0] < service.end_of(clock.monotonic()) < end[1] + pacer.margin_seconds
        widths.append(end[1] - end[0])
    # Then the service never refused one, the boundary got narrowed from a window to about 1% of it, and
    # every window but the first (phase unknown) and the last (the drain ends) used at least 98% of its
    # budget: a probe that lands in the new window leaves the old window's other probes (at most 5) unspent
    assert service.refused == 0
    assert max(widths) > 20 and widths[-1] < 0.7
    windows = sorted(service.used)
    used = [service.used[w] for w in windows[1:-1]]
    assert len(used) >= 8
    assert min(used) >= 245, used
    assert min(used[-3:]) >= 249, used  # once the boundary is known, probing stops (but for drift)


def test_a_window_ending_later_than_learnt_costs_one_403_then_is_learnt_again(clock: FakeClock) -> None:
    # Given a pacer that learnt the phase and spent this window's budget
    service = Service(clock, limit=100, window=60, phase=12.0)
    pacer = Pacer(clock, limit=100, window_seconds=60)
    for _ in range(250):
        request(pacer, service)
    while pacer.remaining:
        request(pacer, service)
    assert pacer.phase_known and service.refused == 0
    # When the service's window now ends 5 s later (its clock was set back; the count goes on)
    service.phase += 5
    for _ in range(400):
        request(pacer, service)
    # Then one request met the window still open (a 403), the pacer dropped the phase it knew, waited,
    # and learnt the new one
    assert service.refused == 1
    end = pacer.window_end()
    assert pacer.phase_known and end is not None
    assert end[0] < service.end_of(clock.monotonic()) < end[1] + pacer.margin_seconds


@pytest.mark.parametrize("gap", [0.1, 0.0], ids=["earlier", "same-instant"])
def test_an_answer_to_a_request_sent_before_a_lower_answer_arrived_tells_nothing(clock: FakeClock, gap: float) -> None:
    # Given two jobs of one connection: B sends, A sends, B hears 40 left (`gap` after A sent: with 0 the
    # clock reads the same for both, as a coarse clock or no time passing would), then A hears 90
    pacer = Pacer(clock, limit=250, window_seconds=3600, probes=0)
    sent, heard = threading.Event(), threading.Event()

    def job_a() -> None:
        pacer.acquire()
        sent.set()
        heard.wait(60)  # (generous: only a stalled machine reaches it)
        pacer.observe(httpx.Response(200, headers={"X-RateLimit-Remaining": "90"}))
        pacer.release()

    pacer.acquire()
    clock.advance(0.1)
    a = threading.Thread(target=job_a)
    a.start()
    assert sent.wait(60)
    clock.advance(gap)
    pacer.observe(httpx.Response(200, headers={"X-RateLimit-Remaining": "40"}))
    pacer.release()
    end = pacer.window_end()
    heard.set()
    a.join(60)
    # Then A's 90 moves neither the budget (40, less A in flight when B's answer came) nor the phase: the
    # service may have counted A before B
    assert pacer.remaining == 39
    assert pacer.window_end() == end and not pacer.phase_known


class Job(threading.Thread):
    """A job of its own thread (the pacer keeps each thread's request in flight), stepped by the test."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.steps: queue.Queue[Callable[[], object] | None] = queue.Queue()
        self.done: queue.Queue[object] = queue.Queue()
        self.start()

    def run(self) -> None:
        while (step := self.steps.get()) is not None:
            self.done.put(step())

    def do(self, step: Callable[[], object]) -> object:
        self.steps.put(step)
        return self.done.get(timeout=30)


def test_a_request_answered_while_a_reset_was_in_flight_is_not_spent_twice(clock: FakeClock) -> None:
    # Given 5 per minute; P and X go together, P hears 1 left
    pacer = Pacer(clock, limit=5, window_seconds=60, probes=0)
    p, x, y = Job(), Job(), Job()
    p.do(pacer.acquire)
    x.do(pacer.acquire)
    p.do(lambda: pacer.observe(httpx.Response(200, headers={"X-RateLimit-Remaining": "1"})))
    p.do(pacer.release)
    # When, the window over, Y goes; the service counts Y (4 left) then X (3 left), and X is heard first
    clock.advance(61)
    y.do(pacer.acquire)
    x.do(lambda: pacer.observe(httpx.Response(200, headers={"X-RateLimit-Remaining": "3"})))
    x.do(pacer.release)
    y.do(lambda: pacer.observe(httpx.Response(200, headers={"X-RateLimit-Remaining": "4"})))
    y.do(pacer.release)
    for job in (p, x, y):
        job.steps.put(None)
    # Then Y's 4 shows the new window, less X, which finished meanwhile and may have counted after Y
    assert pacer.remaining == 3


def test_a_window_assumed_new_is_confirmed_by_one_answer_before_it_is_spent() -> None:
    # Given 5 per minute and four jobs of one connection. The service counts A1 (4 left), B1 (3), C1 (2);
    # A hears 4 and sends A2 (the budget's last); C hears 2. The window turns: the service counts D1 (4
    # left) and A2 (3) in the new one. D hears 4 and B hears 3: the pacer cannot place either (each was
    # sent before C's 2 came back: the service may have counted them before C)
    clock = VirtualClock()  # nobody takes part: time moves only when the test advances it
    pacer = Pacer(clock, limit=5, window_seconds=60, probes=0)
    a, b, c, d = Job(), Job(), Job(), Job()
    for job in (a, b, c, d):
        job.do(pacer.acquire)
    a.do(lambda: pacer.observe(httpx.Response(200, headers={"X-RateLimit-Remaining": "4"})))
    a.do(pacer.release)
    a.do(pacer.acquire)
    c.do(lambda: pacer.observe(httpx.Response(200, headers={"X-RateLimit-Remaining": "2"})))
    c.do(pacer.release)
    clock.advance(61)
    d.do(lambda: pacer.observe(httpx.Response(200, headers={"X-RateLimit-Remaining": "4"})))
    d.do(pacer.release)
    b.do(lambda: pacer.observe(httpx.Response(200, headers={"X-RateLimit-Remaining": "3"})))
    b.do(pacer.release)
    # When the pacer takes the old window for over (a fresh 5, less A2 in flight) and B, C and D want more
    assert b.do(pacer.acquire) == 0.0
    went: queue.Queue[Job] = queue.Queue()
    for job in (c, d):
        job.steps.put(lambda job=job: went.put(job) if pacer.acquire() >= 0 else None)
    # Then only B's request goes: C and D wait for its answer, which shows what the new window has left
    clock.wait_for_sleepers(2)
    assert went.empty()
    b.do(lambda: pacer.observe(httpx.Response(200, headers={"X-RateLimit-Remaining": "2"})))  # D1, A2, B2
    b.do(pacer.release)
    assert pacer.remaining == 1  # 2 left, less A2 still in flight (it may count after B2)
    clock.advance(POLL_SECONDS)
    went.get(timeout=30)  # one of them takes the last request; the other waits for the next window
    clock.wait_for_sleepers(1)
    assert went.empty()
    clock.advance(61)
    went.get(timeout=30)
    for job in (a, b, c, d):
        job.steps.put(None)
