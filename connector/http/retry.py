"""The one place that decides to wait and try again: tenacity over Transient errors, on an injected clock."""

from __future__ import annotations

import random
import weakref

import tenacity

from connector.clock import Clock
from connector.errors import Transient
from connector.http.config import HttpConfig
from connector.observability.events import get_logger

__all__ = ["RetryAfterOrJitteredBackoff", "StopOnClock", "retry_policy"]

log = get_logger("connector.http")


class RetryAfterOrJitteredBackoff:
    """Wait ``max(retry_after, jittered exponential)``: the service's own Retry-After always wins.

    Args:
        initial: the first backoff, in seconds.
        maximum: the cap of the exponential part.
        rng: random source for the jitter (tests pass a seeded one).
    """

    def __init__(self, initial: float = 1.0, maximum: float = 60.0, rng: random.Random | None = None) -> None:
        """Keep the shape of the backoff."""
        self.initial = initial
        self.maximum = maximum
        self.rng = rng or random.Random()

    def __call__(self, state: tenacity.RetryCallState) -> float:
        """Seconds to wait before the next attempt."""
        exp = min(self.maximum, self.initial * 2 ** (state.attempt_number - 1))
        backoff = exp / 2 + self.rng.uniform(0, exp / 2)  # "equal jitter": never less than half the step
        error = state.outcome.exception() if state.outcome is not None else None
        retry_after = getattr(error, "retry_after", None)
        return max(backoff, float(retry_after or 0.0))


class StopOnClock:
    """Stop after `max_attempts`, or when the next wait would pass `max_seconds` since the first attempt.

    Time is read from the injected clock (tenacity's own timing uses the real monotonic clock).

    Args:
        clock: time source.
        max_attempts: total attempts allowed.
        max_seconds: total time allowed, counted from the start of the first attempt.
    """

    def __init__(self, clock: Clock, max_attempts: int, max_seconds: float) -> None:
        """Keep the bounds; starts are recorded per retry call by `start`."""
        self.clock = clock
        self.max_attempts = max_attempts
        self.max_seconds = max_seconds
        self._starts: weakref.WeakKeyDictionary[tenacity.RetryCallState, float] = weakref.WeakKeyDictionary()

    def start(self, state: tenacity.RetryCallState) -> None:
        """``before`` hook: remember when the first attempt of this call started."""
        self._starts.setdefault(state, self.clock.monotonic())

    def __call__(self, state: tenacity.RetryCallState) -> bool:
        """True when no further attempt may be made."""
        elapsed = self.clock.monotonic() - self._starts.get(state, self.clock.monotonic())
        return state.attempt_number >= self.max_attempts or elapsed + state.upcoming_sleep > self.max_seconds


def retry_policy(config: HttpConfig, clock: Clock, *, rng: random.Random | None = None) -> tenacity.Retrying:
    """Build the retry loop of one request.

    Only `Transient` errors are retried; the last error is re-raised as itself (never a tenacity
    ``RetryError``). Errors are already redacted when they get here, so the retry log line is safe.

    Args:
        config: the connection's settings (`max_attempts`, `max_retry_seconds`).
        clock: time source; ``clock.sleep`` does the waiting.
        rng: random source for the jitter.

    Returns:
        A `tenacity.Retrying`; call it with the attempt function.
    """
    stop = StopOnClock(clock, config.max_attempts, config.max_retry_seconds)

    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        log.info("retrying", seconds=round(state.upcoming_sleep, 1), attempt=state.attempt_number + 1,
                 max_attempts=config.max_attempts, error=str(error))

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(Transient),
        wait=RetryAfterOrJitteredBackoff(rng=rng),
        stop=stop,
        before=stop.start,
        before_sleep=before_sleep,
        sleep=clock.sleep,
        reraise=True,
    )
