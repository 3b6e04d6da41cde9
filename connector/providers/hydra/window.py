"""Cutting a window whose last second is still open into a closed part and that one second.

API Platform keeps ``updatedAt`` in whole seconds and pages by page number. A window ending in the current
second can still gain records while it is listed (a record changed in that second is stamped with it), and
a record that joins can hide one that left: a deletion before the page being read moves every later record
a place forward, the join puts ``hydra:totalItems`` back where it was, and the shrink check in `paging`
sees nothing, so the first record of the next page is skipped for good. A window whose end lies in a second
that has passed gains nothing, so its totals tell every shift. Such a window is listed whole; an open one is
listed as [since, end - 1 s] (closed) and then [end, end], the last second alone, which is trusted when it
fits on one page (a single answer cannot be shifted) or when that second has passed by the time it is read.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from connector.providers.base import Window

__all__ = ["is_open", "split"]

_SECOND = timedelta(seconds=1)


def _floor(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def is_open(window: Window | None, now: datetime | None) -> bool:
    """Whether records can still join `window`: it ends in the service's current second (or later).

    Args:
        window: the window listed (None, or no end: nothing is filtered on the end).
        now: the service's clock as best known (None: unknown, taken as open).
    """
    if window is None or window.until is None:
        return False
    return now is None or _floor(now) <= _floor(window.until)


def split(window: Window) -> tuple[Window | None, Window]:
    """The closed part [since, end - 1 s] (None when it is empty) and the last second [end, end].

    Raises:
        ValueError: the window has no end.
    """
    if window.until is None:
        raise ValueError("a window without an end has no last second")
    end = _floor(window.until)
    closed_end = end - _SECOND
    closed = Window(window.since, closed_end) if window.since is None or window.since <= closed_end else None
    return closed, Window(end, end)
