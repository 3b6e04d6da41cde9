"""The backfill in process, over real sockets and real databases: stop and resume, plans, streams, hydra."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs

import pytest

from connector.errors import ConfigError, Interrupted
from connector.sync.backfill import PlanInProgress, slice_windows
from tests.backfill.harness import (
    backfill_of,
    backfill_runs,
    cursor,
    midnight,
    sandbox_today,
    seed_three_years,
    stop_when_window_starts,
    stoppable_app,
    utc,
)
from tests.hydra import truth as hydra_truth
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox
from tests.truth import assert_store_matches

STEP = timedelta(days=30)


def _invoice_requests(fs: FsSandbox) -> list[dict[str, list[str]]]:
    return [parse_qs(r["query"]) for r in fs.requests() if r["path"] == "/api/v1/invoices"]


def test_a_stop_mid_window_commits_the_page_and_the_same_plan_resumes_there(database_url: str, fs: FsSandbox) -> None:
    # Given three years of invoices, paged 10 at a time (several pages per 30-day window), clients pulled.
    first, today = seed_three_years(fs, invoices=900)
    since, until = midnight(first), midnight(today)
    windows = slice_windows(since, until, STEP)
    app, token = stoppable_app(database_url, fs.connection(page_size=10))
    app.sync("fs", streams=["clients"])

    # When a stop is asked as window 5 starts:
    with backfill_of(app, "fs", since, until, on_window=stop_when_window_starts(token, 5)) as job, pytest.raises(
        Interrupted
    ):
        job.run()

    # Then it stopped after window 5's first page, committed with its checkpoint.
    report = job.report
    assert report.status == "interrupted"
    assert report.current is not None and report.current[1] == 5
    assert (report.windows_done, report.windows_total) == (4, len(windows))
    state = cursor(app.engine, "fs", "backfill:invoices")
    assert state["window"] == [windows[4].since.isoformat(), windows[4].until.isoformat()]  # type: ignore[union-attr]
    assert int(state["progress"]["start"]) > 0
    assert state["high_water"] == windows[3].until.isoformat()  # type: ignore[union-attr]
    assert cursor(app.engine, "fs", "invoices") == {}  # the incremental cursor never moved

    # When the same plan runs again, it resumes in window 5 from that page, not from its first one.
    fs.clear_requests()
    again, _ = stoppable_app(database_url, fs.connection(page_size=10))
    with backfill_of(again, "fs", since, until) as job:
        resumed = job.run()
    assert resumed.status == "ok"
    assert resumed.resumed == {"invoices": (5, True)}
    assert (resumed.windows_run, resumed.windows_done) == (len(windows) - 4, len(windows))
    first_request = _invoice_requests(fs)[0]
    assert first_request["since"] == [windows[4].since.date().isoformat()]  # type: ignore[union-attr]
    assert int(first_request["start"][0]) > 0

    # Every window has exactly one completed run row, the stopped one its own interrupted row.
    rows = backfill_runs(app.engine, "fs")
    assert [r["mode"] for r in rows] == ["backfill"] * len(rows)
    assert [utc(r["window_start"]) for r in rows if r["status"] == "ok"] == [w.since for w in windows]
    assert [(r["status"], utc(r["window_start"])) for r in rows[4:6]] == [
        ("interrupted", windows[4].since),
        ("ok", windows[4].since),
    ]
    assert_store_matches(app.engine, "fs", fs.state())
    assert cursor(app.engine, "fs", "invoices") == {}


def test_another_plan_is_refused_while_one_is_in_progress_and_restart_discards_it(
    sqlite_url: str, fs: FsSandbox
) -> None:
    first, today = seed_three_years(fs, invoices=300)
    since, until = midnight(first), midnight(today)
    app, token = stoppable_app(sqlite_url, fs.connection(page_size=10))
    with backfill_of(app, "fs", since, until, on_window=stop_when_window_starts(token, 3)) as job, pytest.raises(
        Interrupted
    ):
        job.run()
    total = len(slice_windows(since, until, STEP))

    app, _ = stoppable_app(sqlite_url, fs.connection(page_size=10))
    for other in ({"since": since + timedelta(days=1), "until": until}, {"since": since, "until": until,
                                                                          "step": timedelta(days=15)}):
        with backfill_of(app, "fs", **other) as job:  # type: ignore[arg-type]
            with pytest.raises(PlanInProgress) as refused:
                job.run()
            assert job.provider.requests_made == 0  # refused before any request
        message = str(refused.value)
        assert f"--since {since.isoformat()} --until {until.isoformat()} --window 30d" in message
        assert f"2 of {total} windows done" in message and "--restart" in message

    # --restart: the 15-day plan starts from its first window.
    with backfill_of(app, "fs", since, until, step=timedelta(days=15), restart=True) as job:
        report = job.run()
    assert report.resumed == {} and report.windows_run == report.windows_total == len(
        slice_windows(since, until, timedelta(days=15))
    )
    # The same plan again, with --until left out: it keeps the stored end, is complete, and asks nothing.
    with backfill_of(app, "fs", since, None, step=timedelta(days=15)) as job:
        report = job.run()
        assert job.provider.requests_made == 0
    assert report.complete == ["invoices"] and report.windows_run == 0
    assert report.plans["invoices"].until == until
    # A completed plan does not hold back a new one.
    with backfill_of(app, "fs", since + timedelta(days=400), until) as job:
        report = job.run()
    assert report.resumed == {} and report.windows_run == report.windows_total > 0


@pytest.mark.parametrize("stream", ["clients", "open_invoices", "nope"])
def test_a_stream_without_a_window_is_refused_naming_the_windowed_ones(
    sqlite_url: str, fs: FsSandbox, stream: str
) -> None:
    app, _ = stoppable_app(sqlite_url, fs.connection())
    today = sandbox_today(fs)
    with backfill_of(app, "fs", midnight(today - timedelta(days=90)), midnight(today), streams=[stream]) as job:
        with pytest.raises(ConfigError, match=r"cannot be backfilled; windowed streams: \['invoices'\]"):
            job.run()
        assert job.provider.requests_made == 0


def test_hydra_customers_and_invoices_backfill_to_the_truth(database_url: str, hy: HydraHarness) -> None:
    # Customers (created up to a year before the first invoice) and three years of invoices, by updatedAt.
    end = date.today() - timedelta(days=1)
    hy.seed(clients=120, invoices=600, start_date=end - timedelta(days=3 * 365), end_date=end)
    app, _ = stoppable_app(database_url, hy.connection("hy"))
    since = midnight(end - timedelta(days=4 * 365 + 30))
    with backfill_of(app, "hy", since, None, step=timedelta(days=90)) as job:  # until: the service's clock
        report = job.run()
    assert list(report.plans) == ["customers", "invoices"]  # customers first: invoices find their client
    assert report.windows_total == 2 * len(report.plans["invoices"].windows())
    assert report.counts.quarantined == 0 and report.counts.unresolved_refs == 0
    hydra_truth.assert_store_matches(app.engine, "hy", hy.state())
    assert cursor(app.engine, "hy", "invoices") == {} and cursor(app.engine, "hy", "customers") == {}
