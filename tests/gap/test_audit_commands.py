"""`connector audit` (exit codes, text and JSON, status) and the daemon's audit job on its own interval."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from connector.daemon.jobs import JobRunner, plan_jobs
from connector.daemon.leasing import LeaseKeeper
from connector.stopping import StopToken
from tests.gap.test_audit import _gap_metric, _lose_invoices
from tests.support import FsSandbox, make_app, run_cli, seed_until_yesterday


def test_audit_command_exit_codes_and_status(tmp_path: Path, fs: FsSandbox) -> None:
    seed_until_yesterday(fs, days=40, seed=9, clients=5, invoices=10)
    conf = fs.connections_toml(tmp_path / "c.toml", audit_max_fetch=1)
    url = f"sqlite:///{tmp_path / 's.db'}"
    env = {"CONNECTOR_DATABASE_URL": url, "CONNECTOR_CONNECTIONS_FILE": str(conf)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    assert run_cli("sync", "--connection", "fs", env=env).returncode == 0
    app = make_app(url, fs.connection())
    _lose_invoices(app, [i["id"] for i in fs.state()["invoices"][:2]])

    first = run_cli("audit", "--connection", "fs", env=env)
    assert first.returncode == 1, first.stderr
    assert "fs/invoice: listed=10 missing=2 fetched=1 remaining=1" in first.stdout
    status = run_cli("status", env=env)
    assert status.returncode == 1 and "audit          gap" in status.stdout
    assert "invoice missing=2 fetched=1 remaining=1" in status.stdout

    second = run_cli("audit", "--connection", "fs", "--kind", "invoice", "--json", env=env)
    assert second.returncode == 0, second.stderr
    result = json.loads(second.stdout)
    assert result["status"] == "repaired" and result["kinds"] == {
        "invoice": {"listed": 10, "missing": 1, "fetched": 1, "remaining": 0}
    }
    assert run_cli("audit", "--connection", "fs", "--kind", "payment", env=env).returncode == 2  # not listable
    assert run_cli("audit", "--connection", "nope", env=env).returncode == 2
    assert run_cli("audit", env=env).returncode == 2  # --connection is required


def test_the_daemon_audits_on_its_own_interval(
    database_url: str, fs: FsSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    seed_until_yesterday(fs, days=40, seed=10, clients=5, invoices=10)
    app = make_app(database_url, fs.connection(audit_interval_seconds=7200, audit_max_fetch=1))
    app.sync("fs")
    [job] = [j for j in plan_jobs(app) if j.kind == "audit"]
    assert (job.id, job.interval_seconds) == ("audit:fs", 7200)
    assert not [j for j in plan_jobs(make_app(database_url, fs.connection(audit_interval_seconds=0)))
                if j.kind == "audit"]

    _lose_invoices(app, [i["id"] for i in fs.state()["invoices"][:2]])
    keeper = LeaseKeeper(app.migrated_engine(), "r1", ["fs"], timedelta(seconds=60), app.clock)
    keeper.refresh()
    runner = JobRunner(app, keeper, StopToken(), "r1", app.clock)
    with caplog.at_level(logging.INFO, logger="connector.daemon"):
        assert runner(job) == "gap"
        assert runner(job) == "ok"
    assert "job=audit:fs" in caplog.text and "missing=2 fetched=1 remaining=1" in caplog.text
    assert _gap_metric(app) == {"client": 0, "invoice": 1}
    keeper.release_all()
