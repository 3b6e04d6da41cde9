"""Fixtures: a fresh `Metrics` installed for one test, and a running observability server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.observability import metrics as obs


@pytest.fixture
def installed_metrics() -> Iterator[obs.Metrics]:
    """A fresh `Metrics`, installed so the library's hooks record into it; uninstalled afterwards."""
    m = obs.Metrics()
    obs.install(m)
    yield m
    obs.uninstall()
