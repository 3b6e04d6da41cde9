"""The progress display: a line fitted to the terminal's width, log events off a terminal; both budget-aware.

The real terminal (a pty read by a terminal emulator) is in test_terminal.py.
"""

from __future__ import annotations

import io
import logging
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from rich.console import Console

from connector.cli.progress import Progress, Snapshot, budget_of, render
from connector.http import Pacer
from connector.observability import activity
from connector.providers.base import Window
from connector.sync.backfill import BackfillReport, WindowEvent
from connector.sync.pull.stream import StreamReport

START = datetime(2024, 1, 1, tzinfo=UTC)


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


def _spent(clock: StepClock) -> Pacer:
    """FactuurSturen's pacer after an answer saying this hour's budget is gone."""
    pacer = Pacer(clock, limit=250, window_seconds=3600.0, name="fs")
    pacer.acquire()
    pacer.observe(httpx.Response(200, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "250"},
                                 request=httpx.Request("GET", "https://x.test/a")))
    pacer.release()
    return pacer


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


def test_off_a_terminal_each_finished_window_is_one_event_with_a_budget_bound_eta(
    caplog: pytest.LogCaptureFixture,
) -> None:
    out, clock = io.StringIO(), StepClock()
    pacer = _spent(clock)
    report = BackfillReport("fs", windows_total=4)
    with caplog.at_level(logging.INFO, logger="connector.progress"), Progress(
        out, clock, "backfill", ["fs"], lambda name: pacer, tty=False, log_seconds=3600
    ) as progress:
        progress(WindowEvent("invoices", 1, 4, _window(0)), report)
        assert not caplog.records  # a window starting says nothing off a terminal
        clock.t += 10
        progress(WindowEvent("invoices", 1, 4, _window(0), _finish(report, 300, 50)), report)
        budget = budget_of(pacer)
    assert out.getvalue() == ""  # events go to the log, not to the display's stream
    (record,) = caplog.records
    event = record.msg.fields  # type: ignore[attr-defined]
    assert record.msg.name == "backfill window"  # type: ignore[attr-defined]
    assert (event["connection"], event["stream"], event["window"], event["windows"]) == ("fs", "invoices", 1, 4)
    assert (event["read"], event["requests"], event["windows_done"], event["elapsed_seconds"]) == (50, 300, 1, 10.0)
    # 900 requests to go and none left this hour: the budget, not the pace (30 s), bounds the ETA.
    assert budget is not None and event["eta_bound_by_budget"] is True
    assert event["eta_seconds"] == round(budget.seconds_for(900)) > 3 * 3600


def test_the_line_fits_the_terminal_and_says_a_budget_wait_first() -> None:
    shot = Snapshot("backfill", "fs", 1234, 56, 67.0, done=3, total=12, unit="windows",
                    where="invoices 2024-01-01 00:00 .. 2024-01-31 00:00", waiting=(183.0, "budget spent"),
                    eta=7800.0, eta_by_budget=True)
    for width in (80, 50, 200):
        buffer = io.StringIO()
        Console(file=buffer, width=width).print(render(shot))
        (line,) = buffer.getvalue().splitlines()
        assert len(line) <= width and line.startswith("backfill fs ")
        assert "3/12 windows" in line and ("rate budget wait 0:03:03" in line or width < 60)
    assert "ETA 2:10:00 (budget) · 1,234 records · 56 requests · invoices 2024-01-01 00:00" in line


def test_a_push_counts_rows_against_what_was_due_and_planned() -> None:
    clock = StepClock()
    pacer = Pacer(clock, limit=None, window_seconds=None, name="hy")
    with Progress(io.StringIO(), clock, "push", ["hy"], lambda name: pacer, tty=False, log_seconds=3600) as shown:
        shown.expect_rows(2)
        activity.push_planned("hy", 8)
        activity.push_planned("other", 50)  # another command's target: not this display's
        for _ in range(5):
            pacer.acquire()
            pacer.release()
            clock.t += 2
            activity.row_pushed("hy", "client", "done")
        shot = shown.snapshot()
    assert (shot.done, shot.total, shot.unit, shot.requests) == (5, 10, "rows", 5)
    assert shot.eta == pytest.approx(10.0) and shot.eta_by_budget is False
    activity.row_pushed("hy", "client", "done")  # after the block nobody listens
    assert shown.snapshot().done == 5


def test_off_a_terminal_a_sync_logs_progress_only_when_something_moved(caplog: pytest.LogCaptureFixture) -> None:
    clock = StepClock()
    with caplog.at_level(logging.INFO, logger="connector.progress"), Progress(
        io.StringIO(), clock, "sync", ["fs"], lambda name: None, tty=False, log_seconds=0.01
    ):
        activity.page_committed("fs", "invoices", 500)
        deadline = time.monotonic() + 60
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # ten more ticks with nothing new: no more events
    (record,) = caplog.records
    assert record.msg.fields == {  # type: ignore[attr-defined]
        "command": "sync", "connection": "fs", "records": 500, "requests": 0, "elapsed_seconds": 0.0,
        "at": "invoices",
    }


def test_on_a_terminal_log_lines_go_above_the_line_and_the_handlers_are_put_back() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with Progress(out, StepClock(), "sync", ["fs"], lambda name: None, tty=True):
            assert handler.stream is not out  # through rich's proxy, which prints above the live line
            logging.getLogger("connector.test").warning("a log line")
        assert handler.stream is out
    finally:
        root.removeHandler(handler)
    assert "a log line" in out.getvalue()
