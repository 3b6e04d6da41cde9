"""Time as a parameter: a `Clock` protocol and the real `SystemClock` (tests pass their own)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "SystemClock", "utcnow"]


class Clock(Protocol):
    """What the connector needs of time: wall-clock now, a monotonic counter and a way to wait."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Return a monotonic counter in seconds, for durations."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait for `seconds` (a fake clock just advances)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Return `time.monotonic()`."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Sleep for real."""
        if seconds > 0:
            time.sleep(seconds)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored instant as an aware UTC datetime (SQLite hands back naive ones; the store keeps UTC)."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def utcnow() -> datetime:
    """Return the current UTC time (for record timestamps, not for pacing decisions)."""
    return datetime.now(UTC)
