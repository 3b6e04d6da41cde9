"""One-shot commands hold the connection's lease: never next to a daemon (or another command) on one connection.

Real processes, real sandboxes over sockets, SQLite and PostgreSQL: a daemon holding the lease makes `connector
sync` and `connector backfill` refuse with exit 5 and touch nothing, until it stops; `--wait` waits for it; a
running sync keeps a daemon started meanwhile off the connection; a lease left by a SIGKILLed command on this host
is taken over at once; a lease lost while running stops the command at the next page.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, update

from connector.store import leases
from connector.store.db import make_engine
from connector.store.tables import Lease, SyncRun
from tests.daemon.harness import DaemonProcess, wait_for
from tests.hydra.harness import HydraHarness
from tests.support import REPO, FsSandbox, run_cli, seed_until_yesterday

TTL = "3"  # seconds: renewals every second, so losses and releases show within a second or two
_runs = SyncRun.__table__  # type: ignore[attr-defined]


def _env(database_url: str, conf: Path, **extra: str) -> dict[str, str]:
    return {"CONNECTOR_DATABASE_URL": database_url, "CONNECTOR_CONNECTIONS_FILE": str(conf),
            "CONNECTOR_LEASE_TTL_SECONDS": TTL, **extra}


def _seeded(
    fs: FsSandbox, tmp_path: Path, database_url: str, *, seed: int, clients: int, invoices: int, **conn: Any
) -> tuple[dict[str, str], Engine]:
    """Seed two months of FactuurSturen data; return the commands' environment (connection fs) and the store."""
    seed_until_yesterday(fs, days=60, seed=seed, clients=clients, invoices=invoices)
    conf = fs.connections_toml(tmp_path / "c.toml", "fs", **conn)
    return _env(database_url, conf), make_engine(database_url)


def _run_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(_runs).order_by(_runs.c.id)).mappings()]


def _holder(engine: Engine, name: str = "fs") -> str | None:
    standing = leases.holders(engine, datetime.now(UTC), [name]).get(name)
    return standing[0] if standing else None


def _held_by(engine: Engine, command: CliProcess) -> str | None:
    """The lease's holder once `command` holds it (None before); fails when the command ended first."""
    holder = _holder(engine)
    if holder is None and not command.running():
        raise AssertionError(f"the command ended before holding the lease: {command.finish()}")
    return holder


class CliProcess:
    """A `python -m connector ...` in the background, its stdout and stderr in files."""

    def __init__(self, tmp_path: Path, tag: str, env: dict[str, str], *args: str) -> None:
        self.out, self.err = tmp_path / f"{tag}.out", tmp_path / f"{tag}.err"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "connector", *args], cwd=REPO,
                                         env={**os.environ, **env}, stdout=out, stderr=err)

    def running(self) -> bool:
        """True while the process runs."""
        return self.proc.poll() is None

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        """Wait for it; return (exit status, stdout, stderr)."""
        code = self.proc.wait(timeout=timeout)
        return code, self.out.read_text(encoding="utf-8"), self.err.read_text(encoding="utf-8")

    def kill(self) -> None:
        """SIGKILL it (and reap it) if it still runs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


def test_a_daemon_holding_the_lease_refuses_sync_and_backfill_writing_nothing_until_it_stops(
    migrated: str, fs: FsSandbox, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    env, engine = _seeded(fs, tmp_path, migrated, seed=5, clients=5, invoices=20, page_size=50,
                          pull_interval_seconds=3600, jitter_seconds=0, sweep_cron="")
    daemon = DaemonProcess.start(tmp_path / "daemon.log", {**env, "CONNECTOR_REPLICA_ID": "alpha"})
    daemons.append(daemon)
    started = wait_for(lambda: daemon.assert_running() or next(
        (e for e in daemon.events() if e.get("event") == "daemon started"), None), 30, "the daemon to start")
    assert started["leases"] == "fs"
    pulls = 3  # clients, invoices, open_invoices; the gap audit waits its interval (a day) before its first run
    wait_for(lambda: daemon.assert_running() or len({r.job for r in daemon.job_runs()}) >= pulls, 30,
             "the daemon's first pulls")  # the next ones are an hour away
    requests, rows = len(fs.requests()), _run_rows(engine)

    since = (datetime.now(UTC) - timedelta(days=90)).date().isoformat()
    for command in (["sync", "--connection", "fs"], ["backfill", "--connection", "fs", "--since", since]):
        refused = run_cli(*command, env=env)
        assert refused.returncode == 5, refused.stderr
        assert "connection 'fs' is busy: its lease is held by alpha until 20" in refused.stderr
        assert "nothing was done" in refused.stderr and "--wait SECONDS" in refused.stderr
    assert len(fs.requests()) == requests, "a refused command called the service"
    assert _run_rows(engine) == rows, "a refused command wrote run rows"
    assert _holder(engine) == "alpha"

    # --wait: a sync waiting for the lease starts as soon as the daemon stops and releases it.
    waiting = CliProcess(tmp_path, "waiting", env, "sync", "--connection", "fs", "--wait", "30")
    wait_for(lambda: "lease busy" in waiting.err.read_text(encoding="utf-8") or not waiting.running(), 30,
             "the sync to wait for the lease")
    assert waiting.running(), waiting.finish()
    assert daemon.terminate()[0] == 0, daemon.log_text()[-3000:]
    code, out, err = waiting.finish()
    assert code == 0, err
    assert "fs/invoices: ok" in out and "holder=alpha" in err

    after = run_cli("backfill", "--connection", "fs", "--since", since, env=env)
    assert after.returncode == 0, after.stderr
    assert "backfill fs: ok" in after.stdout
    assert leases.holders(engine, datetime.now(UTC)) == {}, "the commands released the lease"
    engine.dispose()


def test_a_sync_in_progress_keeps_a_daemon_started_meanwhile_off_the_connection_until_it_ends(
    migrated: str, fs: FsSandbox, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    env, engine = _seeded(fs, tmp_path, migrated, seed=6, clients=20, invoices=200, page_size=10,
                          pull_interval_seconds=1, jitter_seconds=0, sweep_cron="")
    fs.faults({"kind": "slow", "seconds": 0.3, "times": None, "method": "GET"})  # a sync of about 8 s
    sync = CliProcess(tmp_path, "sync", env, "sync", "--connection", "fs")
    try:
        holder = wait_for(lambda: _held_by(engine, sync), 30, "the sync to hold the lease")
        assert holder == f"cli:{socket.gethostname()}:{sync.proc.pid}"
        daemon = DaemonProcess.start(tmp_path / "daemon.log", {**env, "CONNECTOR_LOG_LEVEL": "DEBUG"})
        daemons.append(daemon)

        started = wait_for(lambda: daemon.assert_running() or next(
            (e for e in daemon.events() if e.get("event") == "daemon started"), None), 30, "the daemon to start")
        assert started["leases"] == "none", "the daemon tried to claim fs and could not: it schedules no job of it"
        assert sync.running(), "the sync ended before the daemon tried (make it slower)"
        assert not daemon.job_runs(), "the daemon ran a job of fs while the sync held its lease"
        fs.faults()
        code, out, err = sync.finish()
        assert code == 0, err
    finally:
        sync.kill()
    cli_rows = _run_rows(engine)[: out.count("fs/")]  # the daemon's rows come after: it waited for the lease
    assert cli_rows and all(r["finished_at"] is not None for r in cli_rows)
    released = max(r["finished_at"] for r in cli_rows).replace(tzinfo=UTC)
    runs = wait_for(lambda: daemon.assert_running() or [r for r in daemon.job_runs() if r.status == "ok"], 30,
                    "the daemon's first pull once the sync released the lease")
    assert all(r.started_at >= released for r in daemon.job_runs()), (released, runs)
    assert daemon.terminate()[0] == 0
    engine.dispose()


def test_a_sigkilled_sync_leaves_a_lease_the_next_command_on_this_host_takes_over_at_once(
    migrated: str, fs: FsSandbox, tmp_path: Path
) -> None:
    env, engine = _seeded(fs, tmp_path, migrated, seed=7, clients=20, invoices=100, page_size=10)
    env["CONNECTOR_LEASE_TTL_SECONDS"] = "60"  # expiry is far away
    fs.faults({"kind": "slow", "seconds": 0.3, "times": None, "method": "GET"})
    killed = CliProcess(tmp_path, "killed", env, "sync", "--connection", "fs")
    try:
        wait_for(lambda: _held_by(engine, killed), 30, "the sync to hold the lease")
    finally:
        killed.kill()
    dead = f"cli:{socket.gethostname()}:{killed.proc.pid}"
    holder, until = leases.holders(engine, datetime.now(UTC))["fs"]
    assert holder == dead and until > datetime.now(UTC) + timedelta(seconds=50), "the killed sync kept its lease"
    fs.faults()

    rerun = run_cli("sync", "--connection", "fs", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert f"lease holder gone holder={dead}" in rerun.stderr
    assert leases.holders(engine, datetime.now(UTC)) == {}

    engine.dispose()


def test_wait_gives_up_after_its_seconds_and_push_refuses_a_busy_target(
    migrated: str, fs: FsSandbox, hy: HydraHarness, tmp_path: Path
) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text(
        fs.connections_toml(tmp_path / "fs.toml", "fs").read_text(encoding="utf-8") + "\n"
        + hy.connections_toml(tmp_path / "hy.toml", "hy", receives=["client", "invoice"]).read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    env = _env(migrated, conf)
    engine = make_engine(migrated)
    now = datetime.now(UTC)
    leases.claim(engine, "fs", "beta", now, timedelta(seconds=60))
    leases.claim(engine, "hy", "beta", now, timedelta(seconds=60))
    fs.clear_requests()
    hy.clear_requests()

    began = time.monotonic()
    waited = run_cli("backfill", "--connection", "fs", "--since", "2024-01-01", "--wait", "1", env=env)
    took = time.monotonic() - began
    assert waited.returncode == 5, waited.stderr
    assert "held by beta until" in waited.stderr and "after waiting 1 s" in waited.stderr
    assert "lease busy lease=fs holder=beta" in waited.stderr
    assert 1 <= took < 45, took  # waited its 1 s, not the lease's 60 s (generous: a loaded machine starts slowly)

    pushed = run_cli("push", "--connection", "hy", env=env)
    assert pushed.returncode == 5 and "connection 'hy' is busy: its lease is held by beta" in pushed.stderr
    assert fs.requests() == [] and hy.requests() == [], "a refused command called a service"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(_runs)).scalar_one() == 0
    assert {name: h for name, (h, _) in leases.holders(engine, datetime.now(UTC)).items()} == {
        "fs": "beta", "hy": "beta"}, "a refused command released or moved another holder's lease"
    engine.dispose()


def test_a_lease_lost_while_running_stops_the_sync_at_the_next_page_with_exit_5(
    migrated: str, fs: FsSandbox, tmp_path: Path
) -> None:
    env, engine = _seeded(fs, tmp_path, migrated, seed=8, clients=20, invoices=200, page_size=10)
    fs.faults({"kind": "slow", "seconds": 0.2, "times": None, "method": "GET"})
    sync = CliProcess(tmp_path, "sync", env, "sync", "--connection", "fs")
    try:
        wait_for(lambda: _held_by(engine, sync), 30, "the sync to hold the lease")
        # Another holder takes it over (as after renewals stalled past expiry).
        lease = Lease.__table__  # type: ignore[attr-defined]
        with engine.begin() as conn:
            conn.execute(update(lease).where(lease.c.name == "fs").values(
                holder="thief", expires_at=datetime.now(UTC) + timedelta(seconds=60)))
        code, _, err = sync.finish(timeout=30)
    finally:
        sync.kill()
    assert code == 5, err
    assert "connection 'fs': its lease was lost while working (held by thief until" in err
    assert "stopped after the page or row in hand was committed" in err
    assert _run_rows(engine)[-1]["status"] == "interrupted"
    assert _holder(engine) == "thief", "the stopped sync left the new holder's lease alone"
    engine.dispose()
