"""A connection's request budget, paced from the service's own headers and clock."""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from datetime import datetime, timedelta

import httpx

from connector.clock import Clock
from connector.http.classify import parse_http_date, retry_after_seconds

__all__ = ["Pacer"]

log = logging.getLogger("connector.http")


def _header_int(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name].strip())
    except (KeyError, ValueError):
        return None


class Pacer:
    """Holds requests back so a connection never overspends its budget; one per connection, thread-safe.

    Before each request `acquire` looks at the remaining budget: the last ``X-RateLimit-Remaining`` seen,
    decremented locally for every request sent since (so concurrent jobs do not overspend), and lowered by
    the requests still in flight (sent, not yet answered: the service may count them in the new window;
    `release` ends one). At or below
    `reserve` it waits for the next window boundary on the *service's* clock (its ``Date`` header; windows
    are fixed and aligned to epoch multiples of `window_seconds`) plus `margin_seconds`, then assumes a
    fresh budget of `limit`. Without a known window it waits for ``Retry-After`` or `default_wait_seconds`
    and probes again. A ``Retry-After`` (or `hold`) holds every request until it passes.

    Args:
        clock: time source; every wait goes through ``clock.sleep``.
        limit: requests per window, if known (the ``X-RateLimit-Limit`` header may lower it).
        window_seconds: window length, if known.
        reserve: requests kept back in each window.
        margin_seconds: extra wait after a boundary (the Date header has a one-second resolution).
        default_wait_seconds: the wait when the budget is spent and neither window nor Retry-After is known.
        in_flight_seconds: an acquired request never released counts as in flight for this long at most.
        name: connection name, for log lines.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        limit: int | None,
        window_seconds: float | None,
        reserve: int = 0,
        margin_seconds: float = 1.0,
        default_wait_seconds: float = 60.0,
        in_flight_seconds: float = 300.0,
        name: str = "",
    ) -> None:
        """Start with an unknown budget and no view of the service's clock."""
        self._clock = clock
        self.limit = limit
        self.window_seconds = window_seconds
        self.reserve = reserve
        self.margin_seconds = margin_seconds
        self.default_wait_seconds = default_wait_seconds
        self.in_flight_seconds = in_flight_seconds
        self.name = name
        self.waited_seconds = 0.0
        self._lock = threading.Lock()
        self._remaining: int | None = None
        self._window: int | None = None  # index of the window `_remaining` belongs to
        self._header_limit: int | None = None
        self._server_date: datetime | None = None
        self._server_mono = 0.0
        self._hold_until: float | None = None
        self._sent: deque[float] = deque()  # monotonic send times of requests in flight, oldest first

    @property
    def remaining(self) -> int | None:
        """Requests believed left in the current window (None: unknown)."""
        with self._lock:
            return self._remaining

    def server_now(self) -> datetime | None:
        """Return the service's clock: the last ``Date`` header plus local monotonic time elapsed since."""
        with self._lock:
            return self._server_now()

    def acquire(self) -> float:
        """Block (through ``clock.sleep``) until a request may be sent, and count it against the budget.

        Returns:
            Seconds waited by this call.
        """
        waited = 0.0
        while True:
            with self._lock:
                delay, reason = self._delay()
                if delay <= 0:
                    if self._remaining is not None:
                        self._remaining -= 1
                    self._sent.append(self._clock.monotonic())
                    return waited
                self.waited_seconds += delay
            log.info("pacing %s: waiting %.1fs (%s)", self.name or "connection", delay, reason)
            self._clock.sleep(delay)
            waited += delay

    def release(self) -> None:
        """Mark one acquired request as finished (answered or failed); call it once per `acquire`."""
        with self._lock:
            if self._sent:
                self._sent.popleft()

    def observe(self, response: httpx.Response) -> None:
        """Learn from a response: ``Date``, ``X-RateLimit-Limit``/``-Remaining`` and ``Retry-After``.

        Args:
            response: any response of this connection, errors included.
        """
        failed = response.status_code >= 400
        retry_after = retry_after_seconds(response, self._clock.now()) if failed else None
        with self._lock:
            date = parse_http_date(response.headers.get("date"))
            if date is not None:
                self._server_date, self._server_mono = date, self._clock.monotonic()
            self._header_limit = _header_int(response, "x-ratelimit-limit") or self._header_limit
            remaining = _header_int(response, "x-ratelimit-remaining")
            if remaining is not None:
                self._take_remaining(remaining, date or self._service_now())
        if retry_after is not None:
            self.hold(retry_after)

    def hold(self, seconds: float) -> None:
        """Hold every request of this connection for `seconds` (a Retry-After, a RateLimited error).

        Args:
            seconds: how long to hold, from now.
        """
        with self._lock:
            until = self._clock.monotonic() + max(0.0, seconds)
            self._hold_until = max(until, self._hold_until or until)

    # -- internals (called with the lock held) ----------------------------------------------------

    def _server_now(self) -> datetime | None:
        if self._server_date is None:
            return None
        return self._server_date + timedelta(seconds=self._clock.monotonic() - self._server_mono)

    def _in_flight(self) -> int:
        """Requests acquired and not yet released (a forgotten release expires, so it cannot block forever)."""
        expired = self._clock.monotonic() - self.in_flight_seconds
        while self._sent and self._sent[0] < expired:
            self._sent.popleft()
        return len(self._sent)

    def _service_now(self) -> datetime:
        return self._server_now() or self._clock.now()

    def _window_of(self, when: datetime) -> int | None:
        return None if not self.window_seconds else math.floor(when.timestamp() / self.window_seconds)

    def _budget(self) -> int | None:
        known = [n for n in (self.limit, self._header_limit) if n]
        return min(known) if known else None

    def _take_remaining(self, remaining: int, dated: datetime) -> None:
        # Other requests in flight were sent after this one was counted (or will be counted soon).
        remaining = max(0, remaining - max(0, self._in_flight() - 1))
        window = self._window_of(dated)
        if window is None or self._window is None or window > self._window or self._remaining is None:
            self._remaining, self._window = remaining, window
        elif window == self._window:
            # Requests sent since this one was counted are already subtracted locally: keep the lower.
            self._remaining = min(self._remaining, remaining)
        # An answer dated in an earlier window than the one we count in is stale: ignore it.

    def _delay(self) -> tuple[float, str]:
        """Seconds to wait before the next request may go, and why (0: go now)."""
        mono = self._clock.monotonic()
        if self._hold_until is not None and self._hold_until > mono:
            return self._hold_until - mono, "held: Retry-After or a spent budget"
        now = self._service_now()
        window = self._window_of(now)
        budget = self._budget()
        if window is not None and (self._window is None or window > self._window):
            if self._window is not None or self._remaining is None:
                # A new window: a fresh budget, less what is in flight (it may land in this window).
                self._remaining = None if budget is None else max(0, budget - self._in_flight())
            self._window = window
        if self._remaining is None or self._remaining > self.reserve:
            return 0.0, ""
        if window is not None and self.window_seconds:
            boundary = (window + 1) * self.window_seconds
            wait = boundary - now.timestamp() + self.margin_seconds
            return max(wait, 0.001), f"budget spent ({self._remaining} left, reserve {self.reserve})"
        # Unknown window: wait, then let one request probe the budget again.
        self._remaining = None
        self._hold_until = mono + self.default_wait_seconds
        return self.default_wait_seconds, "budget spent, window unknown; probing again after the wait"
