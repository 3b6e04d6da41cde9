"""Two `connector run` replicas on one PostgreSQL database: they share the two connections (one each, the
first replica handing one to the second between its jobs), a connection's jobs run only on the replica holding
its lease, each job once per tick, no record pushed twice; after one is SIGKILLed the other takes its lease over
once it expires and carries on with both."""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connector.store.db import make_engine
from connector.store.tables import Invoice
from tests.daemon.conftest import two_way_connections
from tests.daemon.harness import DaemonProcess, JobRun, wait_for
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox, seed_until_yesterday

TTL = 3.0
INTERVAL = 1.0


def _add_invoice(fs: FsSandbox, n: int) -> None:
    client = fs.state()["clients"][0]
    fs.act(
        "create_invoice",
        clientnr=client["clientnr"],
        lines=[{"amount": 1, "description": f"replica test {n}", "tax_rate": 21, "price": "12.50"}],
    )


def _acquired(daemon: DaemonProcess) -> set[str]:
    return {str(e["lease"]) for e in daemon.events() if e.get("event") == "lease acquired"}


def _holding(daemon: DaemonProcess) -> set[str]:
    """What the replica holds now, from its log: acquired and not released or lost since."""
    held: set[str] = set()
    for event in daemon.events():
        if event.get("event") == "lease acquired":
            held.add(str(event["lease"]))
        elif event.get("event") in ("lease released", "lease lost"):
            held.discard(str(event["lease"]))
    return held


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_replicas_run_each_job_once_and_take_over_after_a_kill(
    migrated: str, fs: FsSandbox, hy: HydraHarness, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    seed_until_yesterday(fs, days=30, seed=21, clients=3, invoices=8)
    conf = two_way_connections(tmp_path, fs, hy)
    env = {
        "CONNECTOR_DATABASE_URL": migrated,
        "CONNECTOR_CONNECTIONS_FILE": str(conf),
        "CONNECTOR_LEASE_TTL_SECONDS": str(TTL),
    }
    alpha = DaemonProcess.start(tmp_path / "alpha.log", {**env, "CONNECTOR_REPLICA_ID": "alpha"})
    daemons.append(alpha)
    wait_for(lambda: alpha.assert_running() or _acquired(alpha) == {"fs", "hy"}, 30, "alpha to hold both leases")
    beta = DaemonProcess.start(tmp_path / "beta.log", {**env, "CONNECTOR_REPLICA_ID": "beta"})
    daemons.append(beta)
    beta.metrics_url()  # beta is up and scheduling
    wait_for(lambda: alpha.assert_running() or beta.assert_running() or (
        len(_holding(alpha)) == 1 and len(_holding(beta)) == 1), TTL * 4, "alpha to hand one connection to beta")

    for n in range(4):  # a person keeps invoicing while the two share the connections
        _add_invoice(fs, n)
        time.sleep(INTERVAL)
    [alphas] = _holding(alpha)
    alpha.kill()
    killed_at = datetime.now(UTC)
    assert beta.job_runs(), "beta runs the jobs of the connection it holds"

    wait_for(lambda: beta.assert_running() or _holding(beta) == {"fs", "hy"}, TTL * 4, "beta to take over")
    taken_over = (datetime.now(UTC) - killed_at).total_seconds()
    for n in range(4, 8):  # and keeps invoicing after the takeover
        _add_invoice(fs, n)
        time.sleep(INTERVAL)
    expected = len(fs.state()["invoices"])
    wait_for(lambda: len(hy.state()["invoices"]) >= expected, 30, "every invoice at hydra")
    time.sleep(INTERVAL * 2)
    code, _ = beta.terminate()
    assert code == 0, beta.log_text()[-3000:]

    # No record pushed twice: hydra holds each FactuurSturen invoice once, and the customers once.
    state = hy.state()
    assert len(state["invoices"]) == expected == 16
    assert len(state["customers"]) == 3
    engine = make_engine(migrated)
    with engine.connect() as conn:
        canonical = conn.execute(select(func.count()).select_from(Invoice)).scalar_one()
    engine.dispose()
    assert canonical == expected, "pulling hydra back took none of the pushed invoices for new ones"

    # Each job ran once per tick: never overlapping itself, never twice within a tick, across both replicas.
    runs: dict[str, list[JobRun]] = defaultdict(list)
    for run in [*alpha.job_runs(), *beta.job_runs()]:
        runs[run.job].append(run)
    assert {"pull:fs:invoices", "pull:hy:invoices", "push:hy"} <= set(runs), sorted(runs)
    for job, job_runs in runs.items():
        job_runs.sort(key=lambda r: r.started_at)
        for earlier, later in itertools.pairwise(job_runs):
            assert later.started_at >= earlier.finished_at, f"{job} ran on two replicas at once"
        # A run may start late (waiting for its connection's other job), so two starts can be closer than the
        # interval; but a job that ran twice in some tick would have more runs than there were ticks (a connection
        # that moves runs at once on its new holder: one extra run per move, two moves here at most).
        span = (job_runs[-1].started_at - job_runs[0].started_at).total_seconds()
        assert len(job_runs) <= span / INTERVAL + 4, f"{job}: {len(job_runs)} runs in {span:.1f} s"
        assert len(job_runs) >= span / INTERVAL * 0.5, f"{job}: only {len(job_runs)} runs in {span:.1f} s"
        assert all(r.started_at < killed_at for r in job_runs if r.replica == "alpha")
        if job.split(":")[1] == alphas:  # alpha kept this one: beta never ran it before taking it over
            assert all(r.started_at > killed_at for r in job_runs if r.replica == "beta"), job
    print(f"takeover {taken_over:.1f} s after the kill (lease TTL {TTL} s)")
    assert taken_over < TTL * 2 + 2
