"""Table tests for cutting a hydra window whose last second is still open (`providers.hydra.window`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connector.providers.base import Window
from connector.providers.hydra.window import is_open, split

T = datetime(2026, 12, 7, 18, 0, 5, tzinfo=UTC)
S = timedelta(seconds=1)


@pytest.mark.parametrize(("window", "now", "expected"), [
    pytest.param(Window(None, T), T, True, id="ends-in-the-current-second-is-open"),
    pytest.param(Window(None, T), T + timedelta(milliseconds=900), True, id="later-in-the-same-second-is-open"),
    pytest.param(Window(None, T), T + S, False, id="a-passed-second-is-closed"),
    pytest.param(Window(None, T - 120 * S), T, False, id="a-safety-lag-closes-it"),
    pytest.param(Window(None, T), None, True, id="an-unknown-clock-counts-as-open"),
    pytest.param(Window(T - S, None), T, False, id="no-end-filters-nothing-so-nothing-joins"),
    pytest.param(None, T, False, id="no-window-is-not-open"),
])
def test_is_open(window: Window | None, now: datetime | None, expected: bool) -> None:
    assert is_open(window, now) is expected


@pytest.mark.parametrize(("window", "closed", "tail"), [
    pytest.param(Window(None, T), Window(None, T - S), Window(T, T), id="full-listing-closes-a-second-early"),
    pytest.param(Window(T - 60 * S, T + timedelta(milliseconds=300)), Window(T - 60 * S, T - S), Window(T, T),
                 id="end-with-a-fraction-floors-to-its-second"),
    pytest.param(Window(T, T), None, Window(T, T), id="a-window-of-one-second-has-no-closed-part"),
    pytest.param(Window(T - S, T), Window(T - S, T - S), Window(T, T), id="two-seconds-split-one-and-one"),
])
def test_split(window: Window, closed: Window | None, tail: Window) -> None:
    assert split(window) == (closed, tail)


def test_a_window_without_an_end_cannot_be_split() -> None:
    with pytest.raises(ValueError, match="without an end"):
        split(Window(T, None))
