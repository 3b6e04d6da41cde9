"""Pure parts of the backfill: window lengths, slicing, the stored plan, argument types and the ETA."""

from __future__ import annotations

import argparse
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from connector.cli import backfill as cli_backfill
from connector.cli import progress
from connector.cli.backfill import instant_arg, span_arg
from connector.cli.progress import Budget, eta_seconds
from connector.sync import backfill
from connector.sync.backfill import Plan, format_span, parse_span, slice_windows

HOUR = 3600.0


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("2w", timedelta(weeks=2)),
        (" 7D ", timedelta(days=7)),
        ("1h", timedelta(hours=1)),
    ],
)
def test_window_lengths_read(text: str, expected: timedelta) -> None:
    assert parse_span(text) == expected
    assert parse_span(format_span(expected)) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "0d", "-3d", "1.5d", "30m", "3x", "30 days", "1mo"])
def test_bad_window_lengths_are_refused_with_the_units(text: str) -> None:
    with pytest.raises(ValueError, match="use a positive number and a unit h, d or w"):
        parse_span(text)
    with pytest.raises(argparse.ArgumentTypeError, match=r"e\.g\. 30d"):
        span_arg(text)


def test_format_span_picks_the_largest_whole_unit() -> None:
    assert [format_span(timedelta(seconds=s)) for s in (14 * 86400, 30 * 86400, 36 * 3600, 90)] == [
        "2w", "30d", "36h", "90s"
    ]


def test_three_years_in_30_day_windows() -> None:
    since, until = _at("2023-01-01T00:00:00"), _at("2026-01-01T00:00:00")
    windows = slice_windows(since, until, timedelta(days=30))
    assert len(windows) == 37  # 1096 days: 36 whole windows and a 16-day one
    assert windows[0].since == since and windows[-1].until == until
    assert all(a.until == b.since for a, b in itertools.pairwise(windows))  # contiguous, no gap
    assert {w.until - w.since for w in windows[:-1]} == {timedelta(days=30)}
    assert windows[-1].until - windows[-1].since == timedelta(days=16)


def test_a_range_shorter_than_one_window_is_one_window() -> None:
    since, until = _at("2024-03-01T00:00:00"), _at("2024-03-02T06:00:00")
    assert [(w.since, w.until) for w in slice_windows(since, until, timedelta(days=30))] == [(since, until)]


@pytest.mark.parametrize(
    ("since", "until", "step", "message"),
    [
        ("2024-01-02", "2024-01-01", timedelta(days=1), "must be after since"),
        ("2024-01-01", "2024-01-01", timedelta(days=1), "must be after since"),
        ("2024-01-01", "2024-02-01", timedelta(0), "must be positive"),
    ],
)
def test_bad_ranges_are_refused(since: str, until: str, step: timedelta, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        slice_windows(_at(since), _at(until), step)


def test_a_plan_survives_its_trip_through_the_cursor_row() -> None:
    plan = Plan(_at("2023-01-01T00:00:00"), _at("2025-12-31T23:58:00"), timedelta(days=30))
    assert Plan.from_json(plan.to_json()) == plan
    assert plan.describe() == "--since 2023-01-01T00:00:00+00:00 --until 2025-12-31T23:58:00+00:00 --window 30d"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-01-01", "2023-01-01T00:00:00+00:00"),
        ("2023-01-01T12:30", "2023-01-01T12:30:00+00:00"),
        ("2023-01-01T12:30:00+01:00", "2023-01-01T11:30:00+00:00"),
        ("2023-01-01T12:30:00Z", "2023-01-01T12:30:00+00:00"),
    ],
)
def test_dates_and_instants_are_read_as_utc(text: str, expected: str) -> None:
    assert instant_arg(text).isoformat() == expected


@pytest.mark.parametrize("text", ["yesterday", "2023-13-01", "01-01-2023", ""])
def test_bad_dates_are_refused_with_the_format(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="YYYY-MM-DD"):
        instant_arg(text)


# -- the ETA -----------------------------------------------------------------------------------------

FACTUURSTUREN = Budget(limit=250, window_seconds=HOUR)


def test_the_budget_allows_what_the_current_window_has_left_at_once() -> None:
    assert Budget(250, HOUR, remaining=120, seconds_to_reset=600).seconds_for(120) == 0.0
    # 121 requests: one must wait for the next window, 10 minutes away
    assert Budget(250, HOUR, remaining=120, seconds_to_reset=600).seconds_for(121) == 600.0
    # 120 now, 250 in each of the next two windows, the rest in a third
    assert Budget(250, HOUR, remaining=120, seconds_to_reset=600).seconds_for(700) == 600.0 + 2 * HOUR


def test_the_reserve_is_never_counted_as_available() -> None:
    budget = Budget(250, HOUR, reserve=50, remaining=60, seconds_to_reset=100)
    assert budget.seconds_for(10) == 0.0
    assert budget.seconds_for(11) == 100.0  # 10 usable now, 200 per window after
    assert budget.seconds_for(210) == 100.0
    assert budget.seconds_for(211) == 100.0 + HOUR


def test_a_factuursturen_backfill_of_36_windows_of_10_requests_takes_hours_not_seconds() -> None:
    # One window done in 4 s with 10 requests; the budget of this hour was already spent by other jobs.
    budget = Budget(250, HOUR, remaining=0, seconds_to_reset=HOUR)
    eta, by_budget = eta_seconds(done=1, total=36, elapsed=4.0, requests=10, budget=budget)
    assert by_budget
    assert eta == 2 * HOUR  # 350 requests: the next window takes 250, the one after the last 100
    # Without the budget the pace alone would promise 140 s.
    assert eta_seconds(done=1, total=36, elapsed=4.0, requests=10, budget=None) == (140.0, False)


def test_a_budget_that_holds_the_rest_leaves_the_pace_in_charge() -> None:
    # 26 windows of 9 requests = 234 fit in a fresh window of 250: the pace (5 s a window) decides.
    assert eta_seconds(done=10, total=36, elapsed=50.0, requests=90, budget=FACTUURSTUREN) == (130.0, False)
    # 260 requests with 250 left now: 10 wait for the next window, 30 s away, still under the pace's 130 s.
    soon = Budget(250, HOUR, remaining=250, seconds_to_reset=30)
    assert eta_seconds(done=10, total=36, elapsed=50.0, requests=100, budget=soon) == (130.0, False)
    # The same 260 with the state of the window unknown: assume a full window must pass first.
    assert eta_seconds(done=10, total=36, elapsed=50.0, requests=100, budget=FACTUURSTUREN) == (HOUR, True)


def test_time_on_the_window_in_hand_counts_down_the_pace() -> None:
    assert eta_seconds(done=2, total=4, elapsed=20.0, requests=4, budget=None, running=6.0) == (14.0, False)
    assert eta_seconds(done=2, total=4, elapsed=20.0, requests=4, budget=None, running=60.0) == (0.0, False)


def test_no_eta_before_the_first_window_and_none_needed_after_the_last() -> None:
    assert eta_seconds(done=0, total=36, elapsed=3.0, requests=0, budget=FACTUURSTUREN) == (None, False)
    assert eta_seconds(done=36, total=36, elapsed=3.0, requests=360, budget=FACTUURSTUREN) == (0.0, False)


def test_public_surfaces_are_declared() -> None:
    for module in (backfill, cli_backfill, progress):
        assert len(set(module.__all__)) == len(module.__all__)
        for name in module.__all__:
            assert getattr(module, name) is not None, name
