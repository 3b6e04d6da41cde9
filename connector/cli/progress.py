"""Progress of `connector sync`, `backfill` and `push` on stderr.

On a terminal (and key=value logs) one line, redrawn in place by `rich` and cut to the terminal's width: the
command and connection, a bar and count where the total is known (backfill windows, push rows), records read,
requests sent, a wait for the rate budget with the time left, the ETA and the time elapsed. Log lines are
printed above it, never through it. Off a terminal, or with JSON logs, the same facts go out as log events
(logger ``connector.progress``): ``backfill window`` when a window ends, ``progress`` at most every
`log_seconds` while anything moved (so a long wait for the budget is said once, by the pacer's ``rate budget
wait`` event, not once a second). The ETA is the larger of the pace so far and what the rate budget allows.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TextIO

from rich.console import Console, RenderableType
from rich.file_proxy import FileProxy
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from connector.clock import Clock
from connector.http import Pacer
from connector.observability import activity
from connector.observability.events import get_logger
from connector.sync.backfill import BackfillReport, WindowEvent

__all__ = [
    "Budget",
    "Progress",
    "Snapshot",
    "budget_of",
    "duration",
    "eta_seconds",
    "fields",
    "on_terminal",
    "progress_of",
    "render",
    "short_time",
]

log = get_logger("connector.progress")


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
        done: units (windows, rows) completed by this run (the pace is measured on them).
        total: units this run had to do when it started.
        elapsed: seconds this run took until its last unit finished.
        requests: requests those units made (the remaining units are assumed to need as many each).
        budget: the connection's budget now, or None when the service sets none.
        running: seconds spent since the last unit finished (on the unit in hand).

    Returns:
        (seconds left or None before the first unit ends, True when the budget is the bound).
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


def duration(seconds: float | None) -> str:
    """Seconds as ``H:MM:SS`` (``--:--`` for unknown)."""
    if seconds is None:
        return "--:--"
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def on_terminal(out: TextIO, log_format: str) -> bool:
    """Whether progress is drawn as a live line: `out` is a terminal and logs are not JSON."""
    try:
        return out.isatty() and log_format != "json"
    except ValueError:  # a closed stream
        return False


def short_time(moment: datetime | None) -> str:
    """An instant as ``YYYY-MM-DD HH:MM`` (``-`` for none)."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Where a command stands, as the display shows it."""

    command: str
    connection: str
    records: int
    requests: int
    elapsed: float
    done: int | None = None  # units done overall (backfill windows, push rows)
    total: int | None = None
    unit: str = ""
    where: str = ""  # the stream or window in hand
    waiting: tuple[float, str] | None = None  # seconds left, why
    eta: float | None = None
    eta_by_budget: bool = False


class Progress:
    """Progress of one command over its connections; an `activity` listener and a backfill's `on_window`.

    Args:
        out: where the display goes (stderr).
        clock: for elapsed time.
        command: ``sync``, ``backfill`` or ``push``.
        connections: the connections it works on (the first names the display).
        pacer: a connection's pacer by name, once built (None before).
        tty: draw the redrawn line (else log events).
        log_seconds: off a terminal, the least time between two ``progress`` events.
        refresh_per_second: on a terminal, how often the line is redrawn.
    """

    def __init__(
        self,
        out: TextIO,
        clock: Clock,
        command: str,
        connections: Sequence[str],
        pacer: Callable[[str], Pacer | None],
        *,
        tty: bool,
        log_seconds: float = 30.0,
        refresh_per_second: float = 2.0,
    ) -> None:
        """Start counting from now (requests already sent by the connections' pacers are not counted)."""
        self.out = out
        self.clock = clock
        self.command = command
        self.connections = list(connections)
        self.pacer = pacer
        self.tty = tty
        self.log_seconds = log_seconds
        self.refresh_per_second = refresh_per_second
        self._lock = threading.Lock()
        self._started = clock.monotonic()
        self._sent_before = {name: p.sent for name in self.connections if (p := pacer(name)) is not None}
        self._records = 0
        self._stream = ""
        self._rows_done = 0
        self._rows_total = 0
        self._window: tuple[WindowEvent, BackfillReport] | None = None
        self._first: int | None = None  # windows done when this run began
        self._finished_at = 0.0  # elapsed seconds when the last window (or row) finished
        self._live: Live | None = None
        self._swapped: list[tuple[logging.StreamHandler[Any], Any]] = []
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._said: tuple[int, int, int] | None = None
        self._listening: Any = None

    # -- lifecycle --------------------------------------------------------------------------------------

    def __enter__(self) -> Progress:
        """Listen to the activity hooks; on a terminal start the live line, else the periodic log events."""
        self._listening = activity.listening(self)
        self._listening.__enter__()
        if self.tty:
            console = Console(file=self.out, stderr=True, highlight=False, soft_wrap=False)
            self._live = Live(console=console, get_renderable=self._renderable, auto_refresh=True,
                              refresh_per_second=self.refresh_per_second, transient=False,
                              redirect_stdout=False, redirect_stderr=False)
            self._live.start()
            proxy = FileProxy(console, self.out)
            for handler in logging.getLogger().handlers:  # log lines go above the live line, never through it
                if isinstance(handler, logging.StreamHandler) and handler.stream is self.out:
                    self._swapped.append((handler, handler.setStream(proxy)))
        else:
            self._ticker = threading.Thread(target=self._tick, name=f"{self.command}-progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop drawing (the last line stays on screen) or logging; stop listening."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        for handler, stream in self._swapped:
            handler.setStream(stream)
        if self._live is not None:
            self._live.stop()
        if self._listening is not None:
            self._listening.__exit__(None, None, None)

    # -- what it hears ----------------------------------------------------------------------------------

    def on_page(self, connection: str, stream: str, records: int) -> None:
        """`activity` hook: a page was committed."""
        if connection in self.connections:
            with self._lock:
                self._records += records
                self._stream = stream

    def on_planned(self, connection: str, rows: int) -> None:
        """`activity` hook: a push queued `rows` rows (the total grows by them)."""
        if connection in self.connections:
            with self._lock:
                self._rows_total += rows
                self._stream = connection

    def on_pushed(self, connection: str, kind: str, outcome: str) -> None:
        """`activity` hook: one outbox row was handled."""
        if connection in self.connections:
            with self._lock:
                self._rows_done += 1
                self._rows_total = max(self._rows_total, self._rows_done)
                self._finished_at = self.clock.monotonic() - self._started

    def expect_rows(self, rows: int) -> None:
        """Rows already due before the push planned (they are drained too)."""
        with self._lock:
            self._rows_total += rows

    def __call__(self, event: WindowEvent, report: BackfillReport) -> None:
        """`Backfill`'s `on_window`: note the window; off a terminal, log each finished one."""
        with self._lock:
            if self._first is None:
                self._first = report.windows_done
            self._window = (event, report)
            if event.finished is not None:
                self._finished_at = self.clock.monotonic() - self._started
        if event.finished is not None and not self.tty:
            self._log_window(event, report)

    # -- what it shows ----------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """Where the command stands now."""
        elapsed = self.clock.monotonic() - self._started
        requests, waiting, budget = 0, None, None
        for name in self.connections:
            pacer = self.pacer(name)
            if pacer is None:
                continue
            requests += pacer.sent - self._sent_before.get(name, 0)
            waiting = waiting or pacer.waiting()
            budget = budget or budget_of(pacer)
        with self._lock:
            base = Snapshot(self.command, self.connections[0] if self.connections else "", self._records, requests,
                            elapsed, waiting=waiting, where=self._stream)
            if self._window is not None:
                event, report = self._window
                eta, by_budget = eta_seconds(
                    done=report.windows_run, total=report.windows_total - (self._first or 0),
                    elapsed=self._finished_at, requests=report.window_requests, budget=budget,
                    running=elapsed - self._finished_at,
                )
                where = f"{event.stream} {short_time(event.window.since)} .. {short_time(event.window.until)}"
                return replace(base, done=report.windows_done, total=report.windows_total, unit="windows",
                                where=where, eta=eta, eta_by_budget=by_budget)
            if self._rows_total:
                eta, by_budget = eta_seconds(
                    done=self._rows_done, total=self._rows_total, elapsed=self._finished_at, requests=requests,
                    budget=budget, running=elapsed - self._finished_at,
                )
                return replace(base, done=self._rows_done, total=self._rows_total, unit="rows", eta=eta,
                                eta_by_budget=by_budget)
            return base

    def _renderable(self) -> RenderableType:
        return render(self.snapshot())

    # -- off a terminal -----------------------------------------------------------------------------------

    def _tick(self) -> None:
        while not self._stop.wait(self.log_seconds):
            shot = self.snapshot()
            moved = (shot.records, shot.requests, shot.done or 0)
            if moved != self._said and self._window is None:  # a backfill logs its windows instead
                self._said = moved
                log.info("progress", **fields(shot))

    def _log_window(self, event: WindowEvent, report: BackfillReport) -> None:
        finished = event.finished
        assert finished is not None
        shot = self.snapshot()
        log.info("backfill window", connection=report.connection, stream=event.stream, window=event.number,
                 windows=event.total, since=event.window.since, until=event.window.until,
                 read=finished.counts.read, requests=finished.requests, windows_done=report.windows_done,
                 read_total=report.counts.read, requests_total=report.requests,
                 elapsed_seconds=round(shot.elapsed, 1),
                 eta_seconds=None if shot.eta is None else round(shot.eta), eta_bound_by_budget=shot.eta_by_budget)


def fields(shot: Snapshot) -> dict[str, Any]:
    """A snapshot as log fields (only the facts it has)."""
    values: dict[str, Any] = {"command": shot.command, "connection": shot.connection, "records": shot.records,
                              "requests": shot.requests, "elapsed_seconds": round(shot.elapsed, 1)}
    if shot.where:
        values["at"] = shot.where
    if shot.total is not None:
        values.update({f"{shot.unit}_done": shot.done, f"{shot.unit}_total": shot.total})
    if shot.waiting is not None:
        values.update({"waiting_seconds": round(shot.waiting[0]), "waiting_for": shot.waiting[1]})
    if shot.eta is not None:
        values.update({"eta_seconds": round(shot.eta), "eta_bound_by_budget": shot.eta_by_budget})
    return values


def render(shot: Snapshot) -> RenderableType:
    """The terminal line, most telling first: ``backfill fs ━━━━──── 3/12 windows rate budget wait 0:12:00 ·
    ETA 2:10:00 (budget) · 1,234 records · 56 requests · invoices 2024-01-01 .. · elapsed``; the bar and count
    only where the total is known, the rest cut with an ellipsis at the terminal's edge."""
    grid = Table.grid(padding=(0, 1), expand=True)
    cells: list[RenderableType] = [Text(f"{shot.command} {shot.connection}", style="bold", no_wrap=True)]
    grid.add_column(no_wrap=True)
    if shot.total is not None:
        grid.add_column(width=16, no_wrap=True)
        grid.add_column(no_wrap=True)
        cells += [ProgressBar(total=max(1, shot.total), completed=shot.done or 0, width=16),
                  Text(f"{shot.done}/{shot.total} {shot.unit}", no_wrap=True)]
    parts = [f"rate budget wait {duration(shot.waiting[0])}"] if shot.waiting is not None else []
    if shot.eta is not None or shot.total is not None:
        parts.append(f"ETA {duration(shot.eta)}" + (" (budget)" if shot.eta_by_budget else ""))
    parts += [f"{shot.records:,} records", f"{shot.requests:,} requests"]
    parts += [shot.where] if shot.where else []
    parts.append(f"elapsed {duration(shot.elapsed)}")
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    cells.append(Text(" · ".join(parts), no_wrap=True, overflow="ellipsis"))
    grid.add_row(*cells)
    return grid


def progress_of(app: Any, command: str, connections: Sequence[str], out: TextIO | None = None) -> Progress:
    """The progress display of `command` run by `app` (an `App`: its clock, pacers and log format) on `out`
    (default: stderr)."""
    out = out if out is not None else sys.stderr
    return Progress(out, app.clock, command, connections, app.pacer, tty=on_terminal(out, app.settings.log_format))
