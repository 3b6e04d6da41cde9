"""A compact record of the remote ids a complete listing named, so a sweep's memory stays flat in N.

A set of 100,000 id strings costs tens of megabytes; this keeps one 8-byte hash per id (Python's own
string hash, stable within the process) in a sorted array. A hash collision can only make a vanished
record look listed, so it is kept one sweep longer: the safe direction for a deletion.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable

__all__ = ["ListedIds"]


class ListedIds:
    """Remote ids seen by a listing; add in any order, then test membership."""

    def __init__(self) -> None:
        """Start empty."""
        self._hashes = array("q")
        self._sorted = True

    def add(self, remote_ids: Iterable[str]) -> None:
        """Remember these ids."""
        self._hashes.extend(hash(remote_id) for remote_id in remote_ids)
        self._sorted = False

    def __len__(self) -> int:
        """How many ids were added (repeats included)."""
        return len(self._hashes)

    def distinct(self) -> int:
        """How many different ids were added."""
        self._sort()
        hashes = self._hashes
        return sum(1 for i in range(len(hashes)) if i == 0 or hashes[i] != hashes[i - 1])

    def _sort(self) -> None:
        if not self._sorted:
            self._hashes = array("q", sorted(self._hashes))
            self._sorted = True

    def __contains__(self, remote_id: object) -> bool:
        """Whether the listing named `remote_id`."""
        self._sort()
        value = hash(remote_id)
        i = bisect_left(self._hashes, value)
        return i < len(self._hashes) and self._hashes[i] == value
