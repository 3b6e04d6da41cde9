"""Fixtures: the sandboxes of the chaos trials, one of each per module, reset by every trial."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chaos.services import Service, start_service


@pytest.fixture(scope="module")
def services() -> Iterator[dict[str, Service]]:
    """One running sandbox per service, plus a second FactuurSturen account (`source`) records come from."""
    started = {name: start_service(name) for name in ("factuursturen", "fastfaktura", "facturalia", "hydra")}
    started["source"] = start_service("factuursturen")
    yield started
    for service in started.values():
        service.stop()
