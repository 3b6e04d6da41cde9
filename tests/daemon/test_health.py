"""/healthz follows the scheduler: healthy while it ticks, 503 once it stops ticking, healthy again after."""

from __future__ import annotations

from pathlib import Path

import httpx

from connector.app import App
from connector.daemon import Daemon
from connector.settings import Settings
from connector.stopping import StopToken
from connector.store.db import make_engine, upgrade
from tests.daemon.harness import wait_for


def test_healthz_turns_unhealthy_when_the_scheduler_stops_ticking(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = Settings(database_url=url, metrics_port=0, heartbeat_seconds=0.1, health_max_age_seconds=0.6)
    stop = StopToken()
    daemon = Daemon(settings, stop, app=App(settings, stop=stop, connections=[]))
    daemon.start()
    try:
        assert daemon.server is not None
        health = f"{daemon.server.url}/healthz"

        def status() -> int:
            return httpx.get(health, timeout=5).status_code

        wait_for(lambda: status() == 200 and daemon.heartbeat.describe()["ticks"] >= 2, 10, "ticks")
        daemon.scheduler.pause()  # the scheduler is wedged: nothing ticks any more
        stale = wait_for(lambda: (r := httpx.get(health, timeout=5)).status_code == 503 and r, 10, "a stale /healthz")
        assert stale.json()["status"] == "stale"
        daemon.scheduler.resume()
        wait_for(lambda: status() == 200, 10, "/healthz to recover")
        assert httpx.get(f"{daemon.server.url}/readyz", timeout=5).status_code == 200
    finally:
        outcome = daemon.shutdown()
    assert outcome.clean
