"""Backfill progress on stderr: a bar redrawn in place on a terminal, else a line per window; its ETA is the
larger of the pace so far and what the connection's rate budget allows."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from connector.clock import Clock
from connector.http import Pacer
from connector.sync.backfill import BackfillReport, WindowEvent

__all__ = ["Budget", "Progress", "budget_of", "eta_seconds", "short_time"]


@dataclass(frozen=True, slots=True)
class Budget:
    """A connection's request budget: `limit` requests per `window_seconds`, `reserve` of them kept back;
    `remaining` in the current window and `seconds_to_reset` until the next one, where known."""

    limit: int
    window_seconds: float
    reserve: int = 0
    remaining: int | None = None
    seconds_to_reset: float | None = None

    def seconds_for(self, requests: float) -> float:
        """The least time `requests` more requests need under this budget (0 while the current window has room).

        Args:
            requests: requests still to send.
        """
        usable = max(1, self.limit - self.reserve)
        left = usable if self.remaining is None else max(0, self.remaining - self.reserve)
        if requests <= left:
            return 0.0
        windows = math.ceil((requests - left) / usable)
        to_reset = self.window_seconds if self.seconds_to_reset is None else max(0.0, self.seconds_to_reset)
        return to_reset + (windows - 1) * self.window_seconds


def eta_seconds(
    *, done: int, total: int, elapsed: float, requests: int, budget: Budget | None, running: float = 0.0
) -> tuple[float | None, bool]:
    """Estimate the time left: the larger of the pace so far and what the rate budget allows.

    Args:
        done: windows completed by this run (the pace is measured on them).
        total: windows this run had to do when it started.
        elapsed: seconds this run took until its last window finished.
        requests: requests those windows made (the remaining windows are assumed to need as many each).
        budget: the connection's budget now, or None when the service sets none.
        running: seconds spent since the last window finished (on the window in hand).

    Returns:
        (seconds left or None before the first window ends, True when the budget is the bound).
    """
    left = total - done
    if left <= 0:
        return 0.0, False
    if done <= 0:
        return None, False
    by_pace = max(0.0, elapsed / done * left - running)
    by_budget = budget.seconds_for(requests / done * left) if budget else 0.0
    return max(by_pace, by_budget), by_budget > by_pace


def budget_of(pacer: Pacer | None) -> Budget | None:
    """The budget a connection's pacer works to, with where it stands now (None: no limit known)."""
    if pacer is None or not pacer.limit or not pacer.window_seconds:
        return None
    return Budget(pacer.limit, pacer.window_seconds, pacer.reserve, pacer.remaining, pacer.seconds_to_window_end())


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def short_time(moment: datetime | None) -> str:
    """An instant as ``YYYY-MM-DD HH:MM`` (``-`` for none)."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


# -- the progress line -------------------------------------------------------------------------------


class Progress:
    """Progress on stderr: a bar redrawn in place on a terminal (and every second while a window runs),
    else one line per finished window. Both show windows done/total, records, requests, elapsed and ETA."""

    def __init__(
        self, out: TextIO, clock: Clock, budget: Callable[[], Budget | None], *, tty: bool, redraw_seconds: float = 1.0
    ) -> None:
        """Args: out: where to write. clock: for elapsed time. budget: the connection's budget now. tty:
        redraw in place. redraw_seconds: how often the bar is redrawn while a window runs."""
        self.out = out
        self.redraw_seconds = redraw_seconds
        self.clock = clock
        self.budget = budget
        self.tty = tty
        self._lock = threading.Lock()
        self._started = clock.monotonic()
        self._finished_at = 0.0  # elapsed seconds when the last window finished
        self._first: int | None = None  # windows done when this run began
        self._line = ""
        self._event: WindowEvent | None = None
        self._report: BackfillReport | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._log_filter = _ClearLine(self)

    def __enter__(self) -> Progress:
        """Start redrawing (on a terminal) and keep log lines from tearing the bar."""
        if self.tty:
            for handler in logging.getLogger().handlers:
                handler.addFilter(self._log_filter)
            self._ticker = threading.Thread(target=self._tick, name="backfill-progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop redrawing; leave the last bar on its own line."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        for handler in logging.getLogger().handlers:
            handler.removeFilter(self._log_filter)
        if self.tty and self._line:
            with self._lock:
                self.out.write("\r" + self._line + "\x1b[K\n")
                self.out.flush()

    def __call__(self, event: WindowEvent, report: BackfillReport) -> None:
        """`Backfill`'s `on_window`: note the event and draw."""
        if self._first is None:
            self._first = report.windows_done
        self._event, self._report = event, report
        if event.finished is not None:
            self._finished_at = self.clock.monotonic() - self._started
        if self.tty:
            self._draw()
        elif event.finished is not None:
            with self._lock:
                self.out.write(self.render() + "\n")
                self.out.flush()

    def render(self) -> str:
        """The current line."""
        event, report = self._event, self._report
        if event is None or report is None:
            return "backfill: planning"
        elapsed = self.clock.monotonic() - self._started
        first = self._first or 0
        eta, by_budget = eta_seconds(
            done=report.windows_run,
            total=report.windows_total - first,
            elapsed=self._finished_at,
            requests=report.window_requests,
            budget=self.budget(),
            running=elapsed - self._finished_at,
        )
        window = f"{event.stream} {short_time(event.window.since)} .. {short_time(event.window.until)}"
        stats = (
            f"read={report.counts.read:,} requests={report.requests:,} elapsed={_duration(elapsed)} "
            f"eta={_duration(eta)}{' (rate budget)' if by_budget else ''}"
        )
        if self.tty:
            width = 24
            filled = width * report.windows_done // max(1, report.windows_total)
            bar = "#" * filled + "." * (width - filled)
            return f"backfill {report.connection} [{bar}] {report.windows_done}/{report.windows_total} {window} {stats}"
        done = event.finished
        this = f"read={done.counts.read} requests={done.requests}" if done else ""
        return (
            f"backfill {report.connection} window {event.number}/{event.total} {window}: {this} | "
            f"done {report.windows_done}/{report.windows_total} {stats}"
        )

    def clear(self) -> None:
        """Wipe the bar so a log line can take its place (it comes back on the next redraw)."""
        if self._line:
            with self._lock:
                self.out.write("\r\x1b[K")
                self.out.flush()

    def _draw(self) -> None:
        line = self.render()
        with self._lock:
            self._line = line
            self.out.write("\r" + line + "\x1b[K")
            self.out.flush()

    def _tick(self) -> None:
        while not self._stop.wait(self.redraw_seconds):
            if self._event is not None:
                self._draw()


class _ClearLine(logging.Filter):
    """Clears the progress bar before a log line is written (lets every record through)."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        self.progress.clear()
        return True
