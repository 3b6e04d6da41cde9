"""Sandboxes for the push tests: the shared FactuurSturen `fs` comes from tests/conftest.py; these add a second
FactuurSturen account (`fs_source`), FastFaktura accounts (`ff`, `ff_source`) and Facturalia (`fac`), each
empty, plus a clock the tests can move so retry backoffs pass without waiting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from connector.clock import SystemClock
from tests.facturalia.harness import FacturaliaHarness
from tests.fastfaktura.harness import FastFakturaHarness
from tests.support import FsSandbox


class SteppedClock(SystemClock):
    """Real time plus an offset the test moves."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        """Real now plus the offset."""
        return super().now() + self.offset


@pytest.fixture
def fs_source() -> Iterator[FsSandbox]:
    """A second FactuurSturen account that records originate at."""
    sandbox = FsSandbox.start()
    sandbox.reset()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def ff_server() -> Iterator[FastFakturaHarness]:
    """A FastFaktura sandbox for the module."""
    harness = FastFakturaHarness.start()
    yield harness
    harness.stop()


@pytest.fixture
def ff(ff_server: FastFakturaHarness) -> FastFakturaHarness:
    """FastFaktura, empty."""
    ff_server.reset()
    return ff_server


@pytest.fixture
def ff_source() -> Iterator[FastFakturaHarness]:
    """A second FastFaktura account that records originate at."""
    harness = FastFakturaHarness.start()
    harness.reset()
    yield harness
    harness.stop()


@pytest.fixture(scope="module")
def fac_server() -> Iterator[FacturaliaHarness]:
    """A Facturalia sandbox for the module."""
    harness = FacturaliaHarness.start()
    yield harness
    harness.stop()


@pytest.fixture
def fac(fac_server: FacturaliaHarness) -> FacturaliaHarness:
    """Facturalia, empty."""
    fac_server.reset()
    return fac_server
