"""A daemon job whose connection's lease this replica loses mid-run stops at its next page.

The daemon checks the lease before a job starts; a long job (a first load under a slow service) could outlive it:
renewals that fail, then another replica taking the expired lease over, would leave two replicas working on one
connection. The job's stop token now also answers "stop" once the lease is no longer held here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from connector.store.db import make_engine
from connector.store.tables import Lease
from tests.daemon.harness import DaemonProcess, wait_for
from tests.support import FsSandbox, seed_until_yesterday


def test_a_job_stops_at_its_next_page_once_another_replica_holds_the_lease(
    migrated: str, fs: FsSandbox, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    seed_until_yesterday(fs, days=60, seed=12, clients=20, invoices=200)
    conf = fs.connections_toml(tmp_path / "c.toml", "fs", page_size=10, pull_interval_seconds=3600,
                               jitter_seconds=0, sweep_cron="", streams=["invoices"])
    fs.faults({"kind": "slow", "seconds": 0.2, "times": None, "method": "GET"})  # about 5 s for the first load
    daemon = DaemonProcess.start(tmp_path / "daemon.log", {
        "CONNECTOR_DATABASE_URL": migrated, "CONNECTOR_CONNECTIONS_FILE": str(conf),
        "CONNECTOR_LEASE_TTL_SECONDS": "3",
    })
    daemons.append(daemon)
    wait_for(lambda: daemon.assert_running() or len(fs.requests()) >= 3, 30, "the first pull to be under way")

    engine = make_engine(migrated)
    lease = Lease.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:  # another replica has it now (as after this one's renewals stalled past expiry)
        conn.execute(update(lease).where(lease.c.name == "fs").values(
            holder="other-replica", expires_at=datetime.now(UTC) + timedelta(seconds=60)))
    engine.dispose()

    [run] = wait_for(lambda: daemon.assert_running() or daemon.job_runs("pull:fs:invoices"), 30,
                     "the pull to end")
    assert run.status == "interrupted", daemon.log_text()
    assert "the lease of fs is no longer held here" in str(run.fields.get("error")), run.fields
    sent = len(fs.requests())
    assert sent < 30, "the pull stopped long before the end of the first load (200 invoices in pages of 10)"
    fs.faults()
    assert daemon.terminate()[0] == 0
    assert len(fs.requests()) == sent, "nothing more was asked of the service after the stop"
