"""Fixtures: an API client of the hydra sandbox (the sandbox itself, `hy`, comes from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.hydra.harness import TOKEN, HydraHarness


@pytest.fixture
def api(hy: HydraHarness) -> Iterator[httpx.Client]:
    """A plain httpx client of the API root with the bearer token (paths like ``/invoices``)."""
    with httpx.Client(base_url=hy.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
        yield client
