"""Liveness and readiness: a `Heartbeat` the scheduler ticks, and a `DatabaseReadiness` check.

Health means freshness (Prefect's `is_worker_still_polling`): the daemon is alive while its scheduler
ticked recently, not merely while the process answers HTTP. Readiness means the store can be used: the
database answers and its schema is at the code's head revision.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from connector.errors import StoreError
from connector.observability import metrics
from connector.store.db import current_revision, head_revision

__all__ = ["DatabaseReadiness", "Heartbeat", "Readiness"]


class Heartbeat:
    """The scheduler's sign of life: call `tick()` from its loop (or from every job it starts).

    The beat counts as fresh for `max_age_seconds` after the last tick, and after creation (a grace
    period while the first jobs start). Thread-safe.

    Args:
        max_age_seconds: how old the last tick may be before `/healthz` answers 503; make it a few
            scheduler intervals, so one slow job does not flap the container's health.
        monotonic: monotonic time source (tests pass their own).
        wall: wall-clock source for the reported tick time.
    """

    def __init__(
        self,
        max_age_seconds: float = 300.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Start fresh, with no tick yet."""
        if max_age_seconds <= 0:
            raise ValueError("max_age_seconds must be positive")
        self.max_age_seconds = max_age_seconds
        self._monotonic = monotonic
        self._wall = wall
        self._lock = threading.Lock()
        self._last = monotonic()
        self._last_tick_at: datetime | None = None
        self._ticks = 0

    def tick(self) -> None:
        """Record that the scheduler is alive now (and count it in the metrics, if installed)."""
        at = self._wall()
        with self._lock:
            self._last = self._monotonic()
            self._last_tick_at = at
            self._ticks += 1
        metrics.observe_tick(at)

    def age(self) -> float:
        """Seconds since the last tick (or since creation, before the first)."""
        with self._lock:
            return max(0.0, self._monotonic() - self._last)

    def healthy(self) -> bool:
        """True while the last tick is at most `max_age_seconds` old."""
        return self.age() <= self.max_age_seconds

    def describe(self) -> dict[str, Any]:
        """The `/healthz` body: status, age of the last tick, the allowed age, tick count, last tick time."""
        with self._lock:
            age = max(0.0, self._monotonic() - self._last)
            ticks, at = self._ticks, self._last_tick_at
        return {
            "status": "ok" if age <= self.max_age_seconds else "stale",
            "last_tick_age_seconds": round(age, 3),
            "max_age_seconds": self.max_age_seconds,
            "ticks": ticks,
            "last_tick_at": at.isoformat() if at else None,
        }


@dataclass(frozen=True, slots=True)
class Readiness:
    """The answer of a readiness check."""

    ready: bool
    reason: str
    revision: str | None = None
    head: str | None = None


class DatabaseReadiness:
    """Ready when the database answers and its schema revision is the code's head revision.

    Args:
        engine: the store's engine (each check takes one short connection from its pool).
    """

    def __init__(self, engine: Engine) -> None:
        """Remember the engine and the code's head revision."""
        self.engine = engine
        self.head = head_revision()

    def __call__(self) -> Readiness:
        """Check now; never raises."""
        try:
            current = current_revision(self.engine)
        except StoreError as exc:
            return Readiness(False, _first_line(str(exc)), None, self.head)
        except Exception as exc:  # a driver error the store did not wrap: still an answer, not a crash
            return Readiness(False, f"cannot reach the database: {type(exc).__name__}", None, self.head)
        if current is None:
            return Readiness(False, "database not migrated: run `connector db upgrade`", None, self.head)
        if current != self.head:
            reason = f"database at revision {current}, code needs {self.head}: run `connector db upgrade`"
            return Readiness(False, reason, current, self.head)
        return Readiness(True, "database reachable and migrated", current, self.head)


def _first_line(text: str, limit: int = 300) -> str:
    return text.strip().splitlines()[0][:limit] if text.strip() else "unknown error"
