"""A connector clock tied to a sandbox's: waiting moves both at once, so rate windows roll without real waiting."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["LinkedClock"]


class LinkedClock:
    """Real time plus an offset; `sleep` moves the sandbox's clock (through `advance`) and then this one.

    Whatever real time passes, passes on both clocks alike, so a slow machine changes nothing the connector
    and the sandbox can tell apart; only the waits are skipped. The sandbox moves first: the connector
    never believes a window over before the sandbox does. Threads sleeping together wait together (the
    later wake-up moves the clock only by what is left), and with `quiet` a sleep moves time only once no
    request is on its way: time jumping a minute while a request travels would make the service count
    it in a window that, in real time, it could never reach.
    """

    QUIET_WAIT_SECONDS = 60.0  # real seconds a sleep waits for requests in flight before the test fails

    def __init__(self, advance: Callable[[float], None], quiet: Callable[[], bool] | None = None) -> None:
        """Args: advance: moves the sandbox's clock on by that many seconds (``POST /_sandbox/clock``).
        quiet: true when no request is in flight (e.g. the connection's `Pacer.in_flight` is 0)."""
        self._advance = advance
        self.quiet = quiet
        self._offset = 0.0
        self._lock = threading.Lock()
        self.slept = 0.0

    def follow(self, app: Any, connection: str) -> None:
        """Move time only while `connection` of `app` (an `App` using this clock) has no request in flight."""

        def quiet() -> bool:
            pacer = app.pacer(connection)
            return pacer is None or not pacer.in_flight

        self.quiet = quiet

    def now(self) -> datetime:
        """Real UTC time plus what was slept."""
        return datetime.now(UTC) + timedelta(seconds=self._offset)

    def monotonic(self) -> float:
        """`time.monotonic()` plus what was slept."""
        return time.monotonic() + self._offset

    def sleep(self, seconds: float) -> None:
        """Move the sandbox's clock, then this one, on to `seconds` from now (once requests in flight landed)."""
        if seconds <= 0:
            return
        wake = self.monotonic() + seconds
        quiet = self.quiet
        if quiet is not None:
            waited = 0.0
            while not quiet():  # an event would need a hook in the pacer; its requests end within ms
                if waited > self.QUIET_WAIT_SECONDS:
                    raise AssertionError(f"requests still in flight after {self.QUIET_WAIT_SECONDS:.0f}s")
                time.sleep(0.001)
                waited += 0.001
        with self._lock:
            behind = wake - self.monotonic()
            if behind > 0:
                self._advance(behind)
                self._offset += behind
                self.slept += behind
