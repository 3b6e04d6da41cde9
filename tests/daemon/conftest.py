"""Fixtures for the daemon tests: a hydra account that receives pushes, and a migrated database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.store.db import make_engine, upgrade
from tests.daemon.harness import DaemonProcess, combine_toml
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox


@pytest.fixture
def migrated(database_url: str) -> str:
    """`database_url`, migrated."""
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    return database_url


@pytest.fixture
def daemons() -> Iterator[list[DaemonProcess]]:
    """Daemons a test starts; any still running at the end is killed."""
    started: list[DaemonProcess] = []
    yield started
    for daemon in started:
        daemon.ensure_stopped()


def two_way_connections(tmp_path: Path, fs: FsSandbox, hy: HydraHarness, **fs_overrides: object) -> Path:
    """FactuurSturen pulled every second; hydra receives its clients and invoices, pushed every second."""
    schedule = {"jitter_seconds": 0.2, "sweep_cron": ""}
    fs_file = fs.connections_toml(tmp_path / "fs.toml", "fs", pull_interval_seconds=1, **schedule, **fs_overrides)
    hy_file = hy.connections_toml(
        tmp_path / "hy.toml",
        "hy",
        receives=["client", "invoice"],
        pull_interval_seconds=1,
        push_interval_seconds=1,
        **schedule,
    )
    return combine_toml(tmp_path / "connections.toml", fs_file, hy_file)
