"""Whether a FastFaktura list moved while one pass read it, so a listing that may have missed a record never
drives deletions.

The lists are newest first and read a few pages at a time concurrently: a record created while a pass reads
them pushes every older record one place down, and when the page after a boundary was served before the
creation and the page before it after, the record on the boundary is on neither. A moved listing shows as
a record listed twice, a stated ``meta.total`` that changed between pages, or a first page that reads
differently at the end of the pass (re-read only when the totals cannot tell: one request at most).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

__all__ = ["ListingWatch"]


class ListingWatch:
    """What one pass over a list saw: ids (as hashes), stated totals, and its first page.

    Args:
        first: the number of the first page the pass reads.
    """

    def __init__(self, first: int = 1) -> None:
        """Start before the first page."""
        self.first = first
        self.totals: list[int] = []
        self.stated_every_page = True
        self._seen: set[int] = set()
        self._repeated = 0
        self._first_ids: list[str] | None = None

    def page(self, number: int, items: list[dict[str, Any]], total: int | None) -> None:
        """Take in one page as the pass read it."""
        if total is None:
            self.stated_every_page = False
        else:
            self.totals.append(total)
        ids = [str(item.get("id")) for item in items]
        if number == self.first and self._first_ids is None:
            self._first_ids = ids
        for remote_id in ids:
            key = hash(remote_id)  # a collision can only call a steady listing moved: the safe direction
            if key in self._seen:
                self._repeated += 1
            self._seen.add(key)

    def shrank(self) -> bool:
        """Did the stated total go down while the pass read the list (a record left it)?"""
        return any(later < earlier for earlier, later in pairwise(self.totals))

    def moved(self, reread_first: Callable[[], list[dict[str, Any]]], *, totals_prove: bool) -> str | None:
        """Why the listing may have moved under the pass, or None when it held still.

        Args:
            reread_first: reads the pass's first page again (called only when nothing else told).
            totals_prove: equal totals on every page prove nothing was added or removed (a list records
                never leave); otherwise the first page is read again to see whether something was added.
        """
        if self._repeated:
            return f"{self._repeated} record(s) listed twice"
        if len(set(self.totals)) > 1:
            return f"the stated total went from {self.totals[0]} to {self.totals[-1]}"
        if self._first_ids is None or self.first != 1:
            return None  # an empty pass, or a resumed one (never complete, so it drives no deletion)
        if totals_prove and self.stated_every_page and self.totals:
            return None
        again = [str(item.get("id")) for item in reread_first()]
        if again != self._first_ids:
            return "the first page changed while the list was read"
        return None
