"""Fixtures for the HTTP layer: a fake clock that only moves when told (or slept on)."""

from __future__ import annotations

import threading
from collections.abc import Callable
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
