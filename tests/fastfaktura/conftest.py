"""Fixtures: one FastFaktura sandbox on a real socket per session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fastfaktura.harness import API_KEY, FastFakturaHarness


@pytest.fixture(scope="session")
def ff_server() -> Iterator[FastFakturaHarness]:
    """The session's sandbox."""
    harness = FastFakturaHarness.start()
    yield harness
    harness.stop()


@pytest.fixture
def ff(ff_server: FastFakturaHarness) -> FastFakturaHarness:
    """The sandbox, reset: empty, no faults, rate limiting off, real time."""
    ff_server.reset()
    return ff_server


@pytest.fixture
def api(ff: FastFakturaHarness) -> Iterator[httpx.Client]:
    """A plain httpx client of the API with the account's key in ``X-Api-Key``."""
    with httpx.Client(base_url=ff.base_url, headers={"X-Api-Key": API_KEY}, timeout=10) as client:
        yield client
