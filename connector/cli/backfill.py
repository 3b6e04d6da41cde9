"""`connector backfill`: argument types, stopping on SIGTERM/SIGINT, a progress line with a budget-aware ETA,
and the final report. The windows themselves are `connector.sync.backfill`'s.
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import TextIO

from connector.app import App
from connector.clock import Clock
from connector.errors import ConfigError, ConnectorError, Interrupted
from connector.http import Pacer
from connector.stopping import StopToken
from connector.sync.backfill import KEY_PREFIX, Backfill, BackfillReport, WindowEvent, format_span, parse_span

__all__ = [
    "EXIT_INTERRUPTED",
    "Budget",
    "Progress",
    "budget_of",
    "eta_seconds",
    "format_report",
    "instant_arg",
    "run_backfill",
    "span_arg",
    "stop_on_signals",
]

EXIT_INTERRUPTED = 4  # stopped by SIGTERM/SIGINT with the page in hand committed: the same command resumes


def instant_arg(text: str) -> datetime:
    """argparse type of --since/--until: a date (midnight UTC) or an ISO 8601 instant (UTC when no offset)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or instant: use YYYY-MM-DD or an ISO 8601 time such as 2024-01-31T12:00:00+01:00"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def span_arg(text: str) -> timedelta:
    """argparse type of --window: ``30d``, ``12h``, ``2w``."""
    try:
        return parse_span(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# -- the ETA -----------------------------------------------------------------------------------------


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
    now = pacer.server_now()
    to_reset = None if now is None else pacer.window_seconds - now.timestamp() % pacer.window_seconds
    return Budget(pacer.limit, pacer.window_seconds, pacer.reserve, pacer.remaining, to_reset)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _day(moment: datetime | None) -> str:
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
        window = f"{event.stream} {_day(event.window.since)} .. {_day(event.window.until)}"
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


# -- stopping ----------------------------------------------------------------------------------------


@contextmanager
def stop_on_signals(token: StopToken) -> Iterator[StopToken]:
    """While inside, SIGTERM and SIGINT set `token` (the page in hand is committed, then the run stops);
    a second signal acts at once, as the handlers before did. Only the main thread can take signals."""
    if threading.current_thread() is not threading.main_thread():
        yield token
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        token.stop(f"{signal.Signals(signum).name} received")
        restore()

    for sig in previous:
        signal.signal(sig, on_signal)
    try:
        yield token
    finally:
        restore()


# -- the command -------------------------------------------------------------------------------------


def run_backfill(app: App, args: argparse.Namespace, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """`connector backfill`: plan, run every window with progress, print the report; return the exit code.

    Raises:
        ConfigError: bad arguments, an unknown or non-windowed stream, another plan in progress (exit 2).
        ConnectorError: a window failed (exit 1); the report so far is printed first.
    """
    conn = app.connection(args.connection)
    if args.until is not None and args.until <= args.since:
        raise ConfigError("connector backfill", "--until", "must be after --since")
    token = StopToken()
    with stop_on_signals(token):
        worker = App(app.settings, clock=app.clock, connections=app.connections, stop=token)
        engine = worker.migrated_engine()
        mapping = worker.mapping(conn.provider)
        provider = worker.provider(conn)
        progress = Progress(err, worker.clock, lambda: budget_of(worker.pacer(conn.name)), tty=err.isatty())
        job = Backfill(
            engine,
            worker.clock,
            conn.name,
            provider,
            mapping,
            since=args.since,
            until=args.until,
            step=args.window,
            options=worker.pull_options(conn),
            streams=args.stream,
            restart=args.restart,
            on_window=progress,
        )
        started = worker.clock.monotonic()
        try:
            with progress:
                job.run()
        except Interrupted:
            out.write(format_report(job.report, worker.clock.monotonic() - started))
            print(f"connector: {_where(job.report)}: interrupted ({token.reason or 'stop requested'}); "
                  "the page in hand is committed; the same command resumes there", file=err)
            return EXIT_INTERRUPTED
        except ConfigError:
            raise
        except ConnectorError:
            out.write(format_report(job.report, worker.clock.monotonic() - started))
            print(f"connector: {_where(job.report)}: failed; the same command resumes from its last committed page",
                  file=err)
            raise
        finally:
            provider.close()
            engine.dispose()
    out.write(format_report(job.report, worker.clock.monotonic() - started))
    return 0


def _where(report: BackfillReport) -> str:
    if report.current is None:
        return f"backfill {report.connection}"
    stream, number, window = report.current
    return (f"backfill {report.connection} window {number}/{report.windows_total} of {stream} "
            f"({_day(window.since)} .. {_day(window.until)})")


def format_report(report: BackfillReport, seconds: float) -> str:
    """The final report: status, windows, per-stream plan, counts, requests, duration, where the run rows are."""
    c = report.counts
    lines = [f"backfill {report.connection}: {report.status}, {report.windows_done} of {report.windows_total} "
             f"windows done ({report.windows_run} in this run)"]
    for stream, (number, from_page) in report.resumed.items():
        lines.append(f"  resumed {stream} at window {number}" + (" from its last committed page" if from_page else ""))
    for stream in report.complete:
        lines.append(f"  {stream}: this plan was already complete (add --restart to run it again)")
    for stream, plan in report.plans.items():
        lines.append(f"  {stream}: {plan.since.isoformat()} .. {plan.until.isoformat()} in "
                     f"{format_span(plan.step)} windows ({len(plan.windows())})")
    lines.append(f"  read={c.read} created={c.created} updated={c.updated} unchanged={c.unchanged} "
                 f"deleted={c.deleted} quarantined={c.quarantined} linked_later={report.resolved_refs} "
                 f"requests={report.requests} duration={seconds:.1f}s")
    if report.plans:
        keys = ", ".join(KEY_PREFIX + s for s in report.plans)
        lines.append(f"  run rows: one per window, mode backfill, stream {keys} (see `connector status`)")
    return "\n".join(lines) + "\n"
