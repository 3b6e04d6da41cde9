"""Fixtures: one Facturalia sandbox on a real HTTPS socket per session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.facturalia.harness import FacturaliaHarness


@pytest.fixture(scope="session")
def fac_server() -> Iterator[FacturaliaHarness]:
    """The session's sandbox."""
    harness = FacturaliaHarness.start()
    yield harness
    harness.stop()


@pytest.fixture
def fac(fac_server: FacturaliaHarness) -> FacturaliaHarness:
    """The sandbox, reset: empty, no faults, rate limiting off, real time."""
    fac_server.reset()
    return fac_server


@pytest.fixture
def api(fac: FacturaliaHarness) -> Iterator[httpx.Client]:
    """A plain httpx client of the API, verifying TLS against the run's CA, with the unscoped key."""
    with httpx.Client(base_url=fac.server.base_url, verify=fac.tls, timeout=10,
                      headers={"Authorization": f"Bearer {fac.api_key}"}) as client:
        yield client
