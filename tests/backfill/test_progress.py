"""The progress display: a bar redrawn in place on a terminal, one line per window elsewhere; both budget-aware."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import pytest

from connector.cli.progress import Budget, Progress
from connector.providers.base import Window
from connector.sync.backfill import BackfillReport, WindowEvent
from connector.sync.pull.stream import StreamReport

START = datetime(2024, 1, 1, tzinfo=UTC)
SPENT = Budget(250, 3600.0, remaining=0, seconds_to_reset=1800.0)  # FactuurSturen, this hour's budget gone


class StepClock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.t = 100.0

    def now(self) -> datetime:
        return START + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def _window(n: int) -> Window:
    return Window(START + timedelta(days=30 * n), START + timedelta(days=30 * (n + 1)))


def _finish(report: BackfillReport, requests: int, read: int) -> StreamReport:
    done = StreamReport("fs", "backfill:invoices", "backfill", status="ok", requests=requests)
    done.counts.read = read
    report.windows_done += 1
    report.windows_run += 1
    report.window_requests += requests
    report.requests += requests
    report.counts.read += read
    return done


def test_off_a_terminal_each_finished_window_is_one_line_with_a_budget_bound_eta() -> None:
    out, clock = io.StringIO(), StepClock()
    report = BackfillReport("fs", windows_total=4)
    with Progress(out, clock, lambda: SPENT, tty=False) as progress:
        progress(WindowEvent("invoices", 1, 4, _window(0)), report)
        assert out.getvalue() == ""  # a window starting prints nothing off a terminal
        clock.t += 10
        progress(WindowEvent("invoices", 1, 4, _window(0), _finish(report, 300, 50)), report)
    (line,) = out.getvalue().splitlines()
    assert line.startswith("backfill fs window 1/4 invoices 2024-01-01 00:00 .. 2024-01-31 00:00: read=50 requests=300")
    assert "done 1/4" in line and "elapsed=0:00:10" in line
    # 900 requests to go, none left this hour: 30 min to the next window, then three more hours.
    assert "eta=3:30:00 (rate budget)" in line


def test_on_a_terminal_the_bar_is_redrawn_in_place_and_log_lines_do_not_tear_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    out, clock = io.StringIO(), StepClock()
    report = BackfillReport("fs", windows_total=4)
    with caplog.at_level(logging.INFO), Progress(out, clock, lambda: None, tty=True, redraw_seconds=3600) as progress:
        progress(WindowEvent("invoices", 1, 4, _window(0)), report)
        assert out.getvalue().startswith("\rbackfill fs [") and "0/4" in out.getvalue()
        logging.getLogger("connector.sync").info("a log line")
        assert out.getvalue().endswith("\r\x1b[K")  # the bar was wiped before the log line
        clock.t += 8
        progress(WindowEvent("invoices", 1, 4, _window(0), _finish(report, 3, 40)), report)
        progress(WindowEvent("invoices", 2, 4, _window(1)), report)
    text = out.getvalue()
    assert "\n" not in text[:-1] and text.endswith("\x1b[K\n")  # one line, redrawn, left on its own line
    last = text.rstrip("\n").split("\r")[-1]
    assert last.startswith("backfill fs [######..................] 1/4 invoices 2024-01-31")
    assert "read=40 requests=3" in last and "eta=0:00:24" in last and "rate budget" not in last
    assert all(f.__class__.__name__ != "_ClearLine" for h in logging.getLogger().handlers for f in h.filters)
