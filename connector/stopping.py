"""Stopping on request: a `StopToken` the daemon sets on SIGTERM, and a clock whose waits end when it is set.

Long waits in the connector (the pacer holding for the next rate window, retry backoffs) all go through
`Clock.sleep`; wrapping the clock in `StoppableClock` makes every one of them end at once when a stop is
asked, raising `Interrupted` before any further request is sent. The pull loop and the push drain check the
token between pages and rows, so the page or row in hand is committed first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

from connector.clock import Clock
from connector.errors import Interrupted

__all__ = ["GuardedStop", "StopToken", "StoppableClock", "check_stop"]


class StopToken:
    """A one-way flag: once `stop()` is called it stays set. Thread-safe."""

    def __init__(self) -> None:
        """Start not stopped."""
        self._event = threading.Event()
        self.reason = ""

    def stop(self, reason: str = "stop requested") -> None:
        """Ask every holder of the token to stop at its next safe point."""
        if not self._event.is_set():
            self.reason = reason
        self._event.set()

    @property
    def stopped(self) -> bool:
        """True once a stop was asked."""
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds` for a stop; return True when one was asked."""
        return self._event.wait(max(0.0, seconds))


class GuardedStop(StopToken):
    """One job's stop: asked when its own `stop()` is called, when the `parent` token is, or once `allowed()`
    turns False (a daemon job whose connection's lease this replica no longer holds).

    Args:
        parent: the process's token (SIGTERM).
        allowed: checked whenever the token is read; False stops the job with `reason`.
        reason: why, when `allowed()` stops it.
        poll: seconds between checks of `allowed()` during a wait.
    """

    def __init__(self, parent: StopToken, allowed: Callable[[], bool], reason: str, poll: float = 0.5) -> None:
        """Not stopped (unless the parent is)."""
        super().__init__()
        self.parent = parent
        self.allowed = allowed
        self.guard_reason = reason
        self.poll = poll

    @property
    def stopped(self) -> bool:
        """True once this token, its parent or its guard says stop."""
        if super().stopped:
            return True
        if self.parent.stopped:
            self.stop(self.parent.reason)
        elif not self.allowed():
            self.stop(self.guard_reason)
        return super().stopped

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds` for a stop from any of the three; return True when one was asked."""
        deadline = time.monotonic() + max(0.0, seconds)
        while not self.stopped:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.parent.wait(min(remaining, self.poll))
        return True


def check_stop(token: StopToken | None, where: str) -> None:
    """Raise `Interrupted` when `token` was set (call at a safe point: after a commit, before the next request)."""
    if token is not None and token.stopped:
        raise Interrupted(f"{where}: {token.reason}")


class StoppableClock:
    """A `Clock` that delegates to another but whose `sleep` ends early, raising `Interrupted`, on a stop."""

    def __init__(self, inner: Clock, token: StopToken) -> None:
        """Args: inner: the real time source. token: the stop flag that cuts waits short."""
        self.inner = inner
        self.token = token

    def now(self) -> datetime:
        """The inner clock's now."""
        return self.inner.now()

    def monotonic(self) -> float:
        """The inner clock's monotonic counter."""
        return self.inner.monotonic()

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`, or raise `Interrupted` as soon as a stop is asked (also when asked before)."""
        check_stop(self.token, "waiting")
        if seconds > 0 and self.token.wait(seconds):
            check_stop(self.token, "waiting")
