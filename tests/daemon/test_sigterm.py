"""SIGTERM in the middle of a sync: the daemon commits the page in hand, releases its lease and exits 0
within the grace period; the next start resumes the interrupted window, with nothing lost or doubled."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from connector.store import leases, runs
from connector.store.db import make_engine
from connector.store.tables import SyncRun
from tests.daemon.harness import DaemonProcess, wait_for
from tests.support import FsSandbox, run_cli, seed_until_yesterday
from tests.truth import assert_store_matches

GRACE = 10


def test_sigterm_mid_sync_exits_zero_and_the_next_start_resumes(
    migrated: str, fs: FsSandbox, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    seed_until_yesterday(fs, days=300, seed=11, clients=50, invoices=1500)
    fs.faults({"kind": "slow", "seconds": 0.25, "times": None, "method": "GET"})  # a long sync to interrupt
    conf = fs.connections_toml(
        tmp_path / "c.toml", "fs", page_size=50, pull_interval_seconds=3600, jitter_seconds=0, sweep_cron=""
    )
    env = {
        "CONNECTOR_DATABASE_URL": migrated,
        "CONNECTOR_CONNECTIONS_FILE": str(conf),
        "CONNECTOR_SHUTDOWN_GRACE_SECONDS": str(GRACE),
    }
    engine = make_engine(migrated)
    first = DaemonProcess.start(tmp_path / "first.log", env)
    daemons.append(first)

    def paging() -> bool:
        first.assert_running()
        return bool(runs.load_cursor(engine, "fs", "invoices").get("progress"))

    wait_for(paging, 60, "the invoices stream to commit a page")
    code, seconds = first.terminate(timeout=GRACE + 20)
    assert code == 0, first.log_text()[-3000:]
    assert seconds < GRACE, f"took {seconds:.1f} s to stop"
    with Session(engine) as session:
        interrupted = session.exec(
            select(SyncRun).where(SyncRun.stream == "invoices").order_by(SyncRun.id.desc())  # type: ignore[union-attr]
        ).first()
    assert interrupted is not None and interrupted.status == "interrupted", interrupted
    assert interrupted.pages > 0
    assert runs.load_cursor(engine, "fs", "invoices")["progress"], "the checkpoint of the last page is kept"
    assert leases.holders(engine, datetime.now(UTC)) == {}, "the lease was released"
    status = run_cli("status", env=env)  # a clean stop (a redeploy) is not a failure
    assert status.returncode == 0, status.stdout + status.stderr
    assert "FAILING" not in status.stdout and re.search(r"invoices\s+interrupted", status.stdout), status.stdout

    fs.faults()
    second = DaemonProcess.start(tmp_path / "second.log", env)
    daemons.append(second)
    wait_for(
        lambda: second.assert_running() or [r for r in second.job_runs("pull:fs:invoices") if r.status == "ok"],
        90,
        "the resumed invoices run",
    )
    code, _ = second.terminate(timeout=GRACE + 20)
    assert code == 0
    with Session(engine) as session:
        resumed = session.exec(
            select(SyncRun).where(SyncRun.stream == "invoices", SyncRun.id > interrupted.id)  # type: ignore[operator]
        ).first()
    assert resumed is not None and resumed.status == "ok"
    assert (resumed.window_start, resumed.window_end) == (interrupted.window_start, interrupted.window_end)
    pages = 1500 // 50
    assert resumed.pages <= pages - interrupted.pages + 1, "it went on from the checkpoint instead of starting over"
    assert_store_matches(engine, "fs", fs.state())
    engine.dispose()
