"""Fixtures for the HTTP layer: a fake clock that only moves when told (or slept on)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connector.http import HttpConfig

START = datetime(2025, 1, 6, 9, 0, 10, 500000, tzinfo=UTC)  # 10.5 s into a minute, 10.5 s into an hour


class FakeClock:
    """A `Clock` whose sleep advances time instantly; thread-safe, so a test server may read it too."""

    def __init__(self, start: datetime = START) -> None:
        self._now = start
        self._mono = 1_000.0
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self.slept.append(seconds)
            self.advance(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds

    @property
    def total_slept(self) -> float:
        return sum(self.slept)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_config() -> Callable[..., HttpConfig]:
    def build(**overrides: object) -> HttpConfig:
        values: dict[str, object] = {
            "provider": "acme",
            "connection": "acme-main",
            "base_url": "https://api.acme.test/v1",
        }
        values.update(overrides)
        return HttpConfig(**values)  # type: ignore[arg-type]

    return build


def respond(
    status: int = 200, *, json: object = None, text: str | None = None, headers: dict[str, str] | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    """A MockTransport handler that always gives the same answer."""

    def handler(request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        return httpx.Response(status, json=json, headers=headers)

    return handler


def sequence(
    *answers: httpx.Response | Exception,
) -> tuple[Callable[[httpx.Request], httpx.Response], list[httpx.Request]]:
    """A MockTransport handler giving `answers` in turn (exceptions are raised), and the requests seen."""
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, seen


class VirtualClock(FakeClock):
    """A `FakeClock` for several threads: a sleep blocks its thread until the clock reaches its end.

    Time moves when the test calls `advance`, or by itself once every thread taking part (`taking_part`)
    sleeps: then it jumps to the earliest wake-up. A thread working (a request in flight, a lock) holds
    time still, so how much passes never depends on how fast the machine runs the threads; and two
    threads sleeping a minute each wait one minute together, not two (`FakeClock` adds up their sleeps).
    """

    STALL_SECONDS = 60.0  # real seconds a sleeper waits for time to move before the test fails

    def __init__(self, start: datetime = START) -> None:
        super().__init__(start)
        self._moved = threading.Condition()
        self._taking_part = 0
        self._wakeups: dict[int, float] = {}  # sleeping thread -> when it wakes (monotonic)

    @contextmanager
    def taking_part(self) -> Iterator[None]:
        """Count this thread among those whose sleeps, all together, let time jump."""
        with self._moved:
            self._taking_part += 1
        try:
            yield
        finally:
            with self._moved:
                self._taking_part -= 1
                self._jump_if_all_asleep()

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        me = threading.get_ident()
        with self._moved:
            self.slept.append(seconds)
            self._wakeups[me] = self.monotonic() + seconds
            self._moved.notify_all()
            self._jump_if_all_asleep()
            try:
                if not self._moved.wait_for(lambda: self.monotonic() >= self._wakeups[me], self.STALL_SECONDS):
                    raise AssertionError(f"virtual clock stalled: nothing moved it for {self.STALL_SECONDS:.0f}s")
            finally:
                del self._wakeups[me]

    def advance(self, seconds: float) -> None:
        with self._moved:
            super().advance(seconds)
            self._moved.notify_all()

    def sleepers(self) -> int:
        """Threads sleeping on the clock now."""
        with self._moved:
            return len(self._wakeups)

    def wait_for_sleepers(self, count: int) -> None:
        """Block until `count` threads sleep on the clock (fails after `STALL_SECONDS`)."""
        with self._moved:
            if not self._moved.wait_for(lambda: len(self._wakeups) >= count, self.STALL_SECONDS):
                raise AssertionError(f"expected {count} threads sleeping on the clock, saw {len(self._wakeups)}")

    def _jump_if_all_asleep(self) -> None:
        """(Condition held.) Everyone taking part sleeps: move to the earliest wake-up."""
        if self._taking_part and len(self._wakeups) >= self._taking_part:
            earliest = min(self._wakeups.values())
            if earliest > self.monotonic():
                FakeClock.advance(self, earliest - self.monotonic())
            self._moved.notify_all()
