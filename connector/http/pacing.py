"""A connection's request budget, paced from the service's own headers, in phase with the service's window."""

from __future__ import annotations

import math
import threading
from collections import deque
from datetime import datetime, timedelta
from typing import NamedTuple

import httpx

from connector.clock import Clock
from connector.http.classify import parse_http_date, retry_after_seconds
from connector.observability.events import get_logger

__all__ = ["MAX_HOLD_SECONDS", "Pacer"]

log = get_logger("connector.http")

DRIFT = 1e-4  # the service's clock and ours may run apart by this share of a window, per window
PROBE_SHARE = 50  # one request in this many of the budget may probe for the boundary (at most MAX_PROBES)
MAX_PROBES = 8
PRECISION = 0.01  # probing stops once the boundary is known to within this share of the window
POLL_SECONDS = 0.01  # a probe waits this long for the answer of a request another thread has in flight
ANNOUNCE_SLACK_SECONDS = 1.0  # a wait ending within this of one already said is not said again
MAX_HOLD_SECONDS = 3600.0  # a Retry-After (or hold) longer than this and than the window is cut to it


def _header_int(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name].strip())
    except (KeyError, ValueError):
        return None


class _Answer(NamedTuple):
    """One answer that carried ``X-RateLimit-Remaining``, timed on the local monotonic clock.

    The two steps place its sending and its hearing in the order of the pacer's own events: two readings
    of a clock may tie (a coarse clock, requests faster than its tick), the steps never do.
    """

    remaining: int
    sent: float
    answered: float
    sent_step: int
    answered_step: int
    overlapped: int  # requests that finished while this one was in flight: maybe counted after it


Span = tuple[float, float]


class Pacer:
    """Holds requests back so a connection never overspends its budget; one per connection, thread-safe.

    The budget: the last ``X-RateLimit-Remaining`` seen, decremented locally for every request sent since
    (so concurrent jobs do not overspend), and lowered by the requests still in flight (sent, not yet
    answered: the service may count them in the new window; `release` ends one). At or below `reserve`
    every request waits for the window to end, then a fresh budget of `limit` is assumed.

    When the window ends: FactuurSturen says how much is left but not when it resets (PROVIDERS.md §3),
    and its ``Date`` has a one-second resolution, so the pacer learns the phase of the service's fixed
    windows of `window_seconds` on the local monotonic clock. The service counts a request between our
    sending it and its answer, so:

    * the window an answer was counted in ends after that request was sent, and at most `window_seconds`
      after the first answer counted in it (the first bound, before any reset was seen: never too early);
    * when ``Remaining`` goes *up* from one answer to the answer of a request sent after it was heard (in
      the order of the pacer's own steps, not of clock readings, which may tie), a window ended between
      the earlier request's sending and the later one's answer. Such spans, intersected window after
      window, pin the boundary down; every later boundary lies a multiple of the window further on;
    * the last few requests of a window's budget go one at a time at the middle of the span the
      boundary is known to lie in: each halves it (an answer still in the old window moves its lower
      bound, a reset its upper bound). As many probe as halvings are needed to know the boundary to
      within 1% of the window, at most `probes`: one that lands in the new window leaves the old
      window's other probes unspent.

    Each window's bounds widen by 0.01% of the window on either side, for the two clocks' drift. Once
    the budget is spent the next request waits for the upper bound of the window's end plus
    `margin_seconds`. The fresh budget it then assumes is confirmed by one request going alone: requests
    sent in the old window may have been counted in the new one and answered already, and when their
    answers crossed others' (concurrent jobs) the pacer could not tell which window counted them; the
    first answer from the new window shows all of them in its Remaining (the cost: one request's round
    trip per window, and only once the service has sent a Remaining at all). An answer still counted in
    a window the pacer took for ended (the service's clock moved) drops the learnt phase. A
    ``Retry-After`` (or `hold`) holds every request until it passes (at most an hour, or the window when
    longer), and on a rate-limit answer it replaces the wait for the window's end: the service said when
    to come back (a 429 with ``Retry-After: 1`` and Remaining 0 would otherwise wait out the hour); the
    next answer's Remaining counts again.
    Without a window length the pacer waits ``Retry-After`` or `default_wait_seconds` and probes again.
    The model assumes the connection's requests are the only ones the service counts on the account: a
    budget spent elsewhere lowers ``Remaining`` and is respected, but may blur the phase until a later
    reset corrects it.

    Args:
        clock: time source; every wait goes through ``clock.sleep``.
        limit: requests per window, if known (the ``X-RateLimit-Limit`` header may lower it).
        window_seconds: window length, if known.
        reserve: requests kept back in each window.
        margin_seconds: extra wait after a boundary's upper bound (timer granularity).
        default_wait_seconds: the wait when the budget is spent and neither window nor Retry-After is known.
        in_flight_seconds: an acquired request never released counts as in flight for this long at most.
        probes: requests of each window spent one at a time to narrow the boundary (None: one per 50 of
            the budget, at most 8; 0: never probe).
        name: connection name, for log lines.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        limit: int | None,
        window_seconds: float | None,
        reserve: int = 0,
        margin_seconds: float = 0.05,
        default_wait_seconds: float = 60.0,
        in_flight_seconds: float = 300.0,
        probes: int | None = None,
        name: str = "",
    ) -> None:
        """Start with an unknown budget, no view of the service's clock and no known window phase."""
        self._clock = clock
        self.limit = limit
        self.window_seconds = window_seconds
        self.reserve = reserve
        self.margin_seconds = margin_seconds
        self.default_wait_seconds = default_wait_seconds
        self.in_flight_seconds = in_flight_seconds
        self.probes = probes
        self._probes_at_most = MAX_PROBES if probes is None else probes
        self.name = name
        self.waited_seconds = 0.0
        self.sent = 0  # requests let through since the pacer was made (progress displays count them)
        self._waiting: tuple[float, str] | None = None  # (until, on the monotonic clock; why) while one waits
        self._waiters = 0
        self._lock = threading.Lock()
        self._local = threading.local()  # the send time (and step) of the request this thread has in flight
        self._step = 0  # counts acquires and answers heard: their order, where clock readings may tie
        self._finished = 0  # counts releases
        self._remaining: int | None = None
        self._header_limit: int | None = None
        self._server_date: datetime | None = None
        self._server_mono = 0.0
        self._hold_until: float | None = None
        self._sent: deque[float] = deque()  # monotonic send times of requests in flight
        self._end: Span | None = None  # bounds of the moment the window `_remaining` counts in ends
        self._phase_known = False  # `_end` comes from a reset seen, not only from the first-answer bound
        self._last: _Answer | None = None  # the lowest Remaining answered in the latest window seen
        self._rolled_at: float | None = None  # when a new window was assumed and no answer confirmed it yet
        self._confirming: tuple[int, float] | None = None  # (step, send time) of the request confirming it

    @property
    def remaining(self) -> int | None:
        """Requests believed left in the current window (None: unknown)."""
        with self._lock:
            return self._remaining

    @property
    def in_flight(self) -> int:
        """Requests acquired and not yet released."""
        with self._lock:
            return self._in_flight()

    @property
    def phase_known(self) -> bool:
        """Whether the service's window boundary was located from a reset seen in its headers."""
        with self._lock:
            return self._phase_known

    def window_end(self) -> Span | None:
        """Bounds, on the clock's monotonic counter, of when the service's current window ends (None: unknown)."""
        with self._lock:
            return self._end

    def seconds_to_window_end(self) -> float | None:
        """Seconds until the service's current window ends at the latest (None: not known yet)."""
        with self._lock:
            end = self._end
        return None if end is None else max(0.0, end[1] - self._clock.monotonic())

    def waiting(self) -> tuple[float, str] | None:
        """While a request waits for the budget: (seconds left, why); None otherwise."""
        with self._lock:
            waiting = self._waiting
        return None if waiting is None else (max(0.0, waiting[0] - self._clock.monotonic()), waiting[1])

    def server_now(self) -> datetime | None:
        """Return the service's clock: the last ``Date`` header plus local monotonic time elapsed since."""
        with self._lock:
            if self._server_date is None:
                return None
            return self._server_date + timedelta(seconds=self._clock.monotonic() - self._server_mono)

    def acquire(self) -> float:
        """Block (through ``clock.sleep``) until a request may be sent, and count it against the budget.

        Returns:
            Seconds waited by this call.
        """
        waited = 0.0
        while True:
            with self._lock:
                mono = self._clock.monotonic()
                delay, reason = self._delay(mono)
                if delay <= 0:
                    if self._remaining is not None:
                        self._remaining -= 1
                    self._sent.append(mono)
                    self._step += 1
                    if self._rolled_at is not None and self._last is not None:
                        self._confirming = (self._step, mono)
                    self._local.sent, self._local.step, self._local.finished = mono, self._step, self._finished
                    self.sent += 1
                    return waited
                self.waited_seconds += delay
                announce = False
                if reason:  # not the short polls for an answer in flight
                    until = mono + delay
                    # Threads of one connection waiting for the same window end: the wait is said once.
                    announce = self._waiting is None or until > self._waiting[0] + ANNOUNCE_SLACK_SECONDS
                    if self._waiting is None or until > self._waiting[0]:
                        self._waiting = (until, reason)
                    self._waiters += 1
            if announce:
                log.info("rate budget wait", connection=self.name or "connection", seconds=round(delay, 1),
                         reason=reason)
            try:
                self._clock.sleep(delay)
            finally:
                if reason:
                    with self._lock:
                        self._waiters -= 1
                        if not self._waiters:
                            self._waiting = None
            waited += delay

    def release(self) -> None:
        """Mark this thread's acquired request as finished (answered or failed); call it once per `acquire`."""
        with self._lock:
            sent: float | None = getattr(self._local, "sent", None)
            self._local.sent = None
            self._finished += 1
            if sent is not None and self._confirming is not None and self._confirming[0] == self._local.step:
                self._confirming = None  # answered (a new window confirmed), or failed: the next request confirms
            if sent is None:
                if self._sent:
                    self._sent.popleft()
                return
            if sent in self._sent:
                self._sent.remove(sent)
            if self._end is None and self.window_seconds:
                # No answer said which window it counted in: that window ends within a window from now.
                self._end = self._own_window(sent, self._clock.monotonic())

    def observe(self, response: httpx.Response) -> None:
        """Learn from a response: ``Date``, ``X-RateLimit-Limit``/``-Remaining`` and ``Retry-After``.

        Call it from the thread that acquired the request, before `release`.

        Args:
            response: any response of this connection, errors included.
        """
        failed = response.status_code >= 400
        retry_after = retry_after_seconds(response, self._clock.now()) if failed else None
        with self._lock:
            answered = self._clock.monotonic()
            date = parse_http_date(response.headers.get("date"))
            if date is not None:
                self._server_date, self._server_mono = date, answered
            self._header_limit = _header_int(response, "x-ratelimit-limit") or self._header_limit
            remaining = _header_int(response, "x-ratelimit-remaining")
            self._step += 1
            sent: float | None = getattr(self._local, "sent", None)
            if sent is None:
                sent, step, overlapped = answered, self._step, 0
            else:
                step, overlapped = self._local.step, self._finished - self._local.finished
            if remaining is not None:
                self._take(_Answer(remaining, sent, answered, step, self._step, overlapped))
            elif self._end is None and self.window_seconds:
                self._end = self._own_window(sent, answered)
            if retry_after is not None and self._remaining is not None and self._remaining <= self.reserve:
                self._remaining = None  # spent, says the service, but back after the hold: not at the window end
        if retry_after is not None:
            self.hold(retry_after)

    def hold(self, seconds: float) -> None:
        """Hold every request of this connection for `seconds` (a Retry-After, a RateLimited error).

        Args:
            seconds: how long to hold, from now; cut to `MAX_HOLD_SECONDS` or the window, whichever is longer.
        """
        bound = max(MAX_HOLD_SECONDS, self.window_seconds or 0.0)
        if seconds > bound:
            log.warning("rate hold cut", connection=self.name or "connection", seconds=round(seconds),
                        cut_to=round(bound))
        with self._lock:
            until = self._clock.monotonic() + min(bound, max(0.0, seconds))
            self._hold_until = max(until, self._hold_until or until)

    # -- internals (called with the lock held) ----------------------------------------------------

    def _in_flight(self) -> int:
        """Requests acquired and not yet released (a forgotten release expires, so it cannot block forever)."""
        expired = self._clock.monotonic() - self.in_flight_seconds
        while self._sent and self._sent[0] < expired:
            self._sent.popleft()
        return len(self._sent)

    def _budget(self) -> int | None:
        known = [n for n in (self.limit, self._header_limit) if n]
        return min(known) if known else None

    def _probe_count(self) -> int:
        """How many of a window's last requests may probe for its end."""
        if self.probes is not None:
            return self.probes
        return min(MAX_PROBES, (self._budget() or 0) // PROBE_SHARE)

    def _own_window(self, sent: float, answered: float) -> Span:
        """Bounds of the end of the window a request sent and answered at these times was counted in."""
        w = self.window_seconds or 0.0
        return sent, answered + w * (1 + DRIFT)

    def _shifted(self, span: Span, windows: int) -> Span:
        """`span` moved on by whole windows, widened for drift."""
        w = self.window_seconds or 0.0
        move, widen = windows * w, abs(windows) * w * DRIFT
        return span[0] + move - widen, span[1] + move + widen

    def _fold(self, span: Span) -> Span | None:
        """`span` narrowed to where it meets the known window ends (shifted by whole windows); None: nowhere."""
        if self._end is None or not self.window_seconds:
            return None
        (x, y), (lo, hi), w = span, self._end, self.window_seconds
        first, last = math.ceil((x - hi) / w), math.floor((y - lo) / w)
        if first > last:
            return None
        narrowed = (max(x, self._shifted(self._end, first)[0]), min(y, self._shifted(self._end, last)[1]))
        return narrowed if narrowed[0] < narrowed[1] else None

    def _take(self, answer: _Answer) -> None:
        """Count `answer` in the budget and learn the window's phase from it."""
        # Other requests in flight were sent after this one was counted (or will be counted soon).
        local = max(0, answer.remaining - max(0, self._in_flight() - 1))
        last, w = self._last, self.window_seconds
        if last is not None and answer.remaining >= last.remaining and not answer.remaining == last.remaining == 0:
            if answer.sent_step > last.answered_step:  # else maybe counted before `last`: it tells nothing
                # Requests that finished while this one was in flight are no longer counted as in flight,
                # yet the service may have counted them after it, in the fresh window.
                self._reset_seen(last, answer, max(0, local - answer.overlapped))
            return
        # The first answer, or one later in the same window (lower), or over budget in it (0 again).
        if last is None or answer.remaining < last.remaining or answer.sent > last.sent:
            self._last = answer
        if self._rolled_at is not None and answer.sent < self._rolled_at:
            return  # sent before the window was assumed to end: it counted in the old one
        self._remaining = local if self._remaining is None else min(self._remaining, local)
        if not w:
            return
        if self._end is None:
            self._end = self._own_window(answer.sent, answer.answered)
        elif self._rolled_at is not None or answer.sent >= self._end[1]:
            # A new window was assumed (or its end passed), yet this request still counted in the old
            # one: the learnt phase is wrong (the service's clock moved?); start over from this answer.
            self._end, self._phase_known = self._own_window(answer.sent, answer.answered), False
        else:
            self._end = (max(self._end[0], answer.sent), self._end[1])
        self._rolled_at = None

    def _reset_seen(self, last: _Answer, answer: _Answer, local: int) -> None:
        """Remaining went up from `last` to `answer`: a window ended after `last` was sent, before `answer` came."""
        budget = self._budget()
        self._remaining = local if budget is None else min(local, max(0, budget - self._in_flight()))
        self._last, self._rolled_at = answer, None
        w = self.window_seconds
        if not w:
            return
        reset = (last.sent, answer.answered)
        if reset[1] - reset[0] < w:
            lo, hi = self._shifted(self._fold(reset) or reset, 1)
            self._end, self._phase_known = (max(lo, answer.sent), hi), True
        else:
            # Idle for more than a window: only this answer's own window bound, and what was known.
            own = self._own_window(answer.sent, answer.answered)
            known = self._fold(own)
            self._end = known or own
            self._phase_known = self._phase_known and known is not None

    def _roll(self, mono: float) -> None:
        """Move to the window in hand once the known window has surely ended."""
        if self._end is None or not self.window_seconds or mono < self._end[1] + self.margin_seconds:
            return
        ends = math.floor((mono - self.margin_seconds - self._end[1]) / self.window_seconds) + 1
        self._end = self._shifted(self._end, ends)
        budget = self._budget()
        # A fresh budget, less what is in flight (it may land in this window).
        self._remaining = None if budget is None else max(0, budget - self._in_flight())
        self._rolled_at = mono

    def _delay(self, mono: float) -> tuple[float, str]:
        """Seconds to wait before the next request may go, and why (0: go now; no reason: a short poll)."""
        if self._hold_until is not None and self._hold_until > mono:
            return self._hold_until - mono, "held: Retry-After or a spent budget"
        self._roll(mono)
        if self._rolled_at is not None and self._confirming is not None:
            if self._confirming[1] >= mono - self.in_flight_seconds:  # (a forgotten release expires)
                return POLL_SECONDS, ""  # the answer confirming the new window's budget is on its way
            self._confirming = None
        if self._remaining is None and self._end is None and self.window_seconds:
            budget = self._budget()
            self._remaining = None if budget is None else max(0, budget - self._in_flight())
        if self._remaining is None or self._remaining > self.reserve + self._probes_at_most:
            return 0.0, ""  # the hot path: well within the budget
        if self._remaining > self.reserve + self._probe_count():
            return 0.0, ""
        if self._remaining > self.reserve:
            return self._probe_delay(mono)
        if self.window_seconds:
            if self._end is None:  # no answer yet says which window the budget was spent in
                if self._in_flight():
                    return POLL_SECONDS, ""
                self._end = self._own_window(mono, mono)  # requests never released counted by now
            wait = self._end[1] + self.margin_seconds - mono
            return max(wait, 0.001), f"budget spent ({self._remaining} left, reserve {self.reserve})"
        # Unknown window: wait, then let one request probe the budget again.
        self._remaining = None
        self._hold_until = mono + self.default_wait_seconds
        return self.default_wait_seconds, "budget spent, window unknown; probing again after the wait"

    def _probe_delay(self, mono: float) -> tuple[float, str]:
        """For the last requests of a window: go one at a time, at the middle of the boundary's span."""
        end, w = self._end, self.window_seconds
        if end is None or not w or self._last is None or end[1] - end[0] <= PRECISION * w:
            return 0.0, ""
        halvings = math.ceil(math.log2((end[1] - end[0]) / (PRECISION * w)))
        if (self._remaining or 0) - self.reserve > halvings:
            return 0.0, ""
        if self._in_flight():
            return POLL_SECONDS, ""  # the answer in flight may move the span
        middle = (end[0] + end[1]) / 2
        if mono >= middle:
            return 0.0, ""
        return middle - mono, f"probing the window boundary ({self._remaining} left)"
