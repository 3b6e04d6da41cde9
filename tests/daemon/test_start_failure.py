"""A daemon that fails at start releases the leases it took (issue 15 item 6)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.schedulers import SchedulerAlreadyRunningError

from connector.app import App
from connector.daemon import Daemon
from connector.settings import Settings
from connector.stopping import StopToken
from connector.store import leases
from connector.store.db import make_engine, upgrade
from tests.support import FsSandbox


def test_a_daemon_failing_after_claiming_its_leases_releases_them(tmp_path: Path, fs: FsSandbox) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(database_url=url, metrics_port=0)
    stop = StopToken()
    daemon = Daemon(settings, stop, app=App(settings, stop=stop, connections=[fs.connection("fs")]))
    # the last step of start() fails, after the leases were claimed: its scheduler is already running
    daemon.scheduler.start(paused=True)
    with pytest.raises(SchedulerAlreadyRunningError):
        daemon.run()
    assert leases.holders(engine, datetime.now(UTC)) == {}, "the lease of 'fs' was left behind"
    assert daemon.server is not None and not daemon.server._thread.is_alive(), "the metrics server still serves"
    engine.dispose()
