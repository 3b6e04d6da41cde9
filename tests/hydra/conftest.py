"""Fixtures: one Hydra sandbox on a real socket per session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.hydra.harness import TOKEN, HydraHarness


@pytest.fixture(scope="session")
def hy_server() -> Iterator[HydraHarness]:
    """The session's sandbox."""
    harness = HydraHarness.start()
    yield harness
    harness.stop()


@pytest.fixture
def hy(hy_server: HydraHarness) -> HydraHarness:
    """The sandbox, reset: empty, no faults, no rate limit, real time, flavour 3."""
    hy_server.reset()
    return hy_server


@pytest.fixture
def api(hy: HydraHarness) -> Iterator[httpx.Client]:
    """A plain httpx client of the API root with the bearer token (paths like ``/invoices``)."""
    with httpx.Client(base_url=hy.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
        yield client
