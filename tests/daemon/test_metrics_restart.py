"""Metrics survive a restart (issue 15 item 5): right after `connector run` starts again, `/metrics` carries each
stream's last success time and last run duration from before the restart (read from the run history), every
series the jobs will report exists at 0, conflicts included, and `HEAD /metrics` answers like a GET without a
body."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.daemon.harness import DaemonProcess, wait_for
from tests.observability.scrape import Scrape
from tests.support import FsSandbox, seed_until_yesterday

JOBS = ("pull:fs:clients", "pull:fs:invoices", "pull:fs:open_invoices")


def _per_stream(scrape: Scrape, name: str) -> dict[tuple[str, str], float]:
    return {(s.labels["connection"], s.labels["stream"]): s.value for s in scrape.samples if s.name == name}


def test_metrics_right_after_a_restart_carry_the_last_success_of_each_stream(
    migrated: str, fs: FsSandbox, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    seed_until_yesterday(fs, days=30, seed=8, clients=5, invoices=20)
    conf = fs.connections_toml(
        tmp_path / "c.toml", "fs", pull_interval_seconds=3600, jitter_seconds=0, sweep_cron="",
        audit_interval_seconds=0,
    )
    env = {"CONNECTOR_DATABASE_URL": migrated, "CONNECTOR_CONNECTIONS_FILE": str(conf)}
    first = DaemonProcess.start(tmp_path / "first.log", env)
    daemons.append(first)
    url = first.metrics_url()
    fresh = Scrape.get(url)  # before any run: the series exist, at 0
    for stream in ("clients", "invoices", "open_invoices"):
        assert fresh.has("connector_stream_runs_total", connection="fs", stream=stream, status="failed"), fresh.text
    assert fresh.has("connector_conflicts", kind="client") and fresh.value("connector_conflicts") == 0

    wait_for(lambda: first.assert_running() or all(
        [r for r in first.job_runs(job) if r.status == "ok"] for job in JOBS), 60, f"a successful run of {JOBS}")
    before = Scrape.get(url)
    successes = _per_stream(before, "connector_stream_last_success_timestamp_seconds")
    durations = _per_stream(before, "connector_stream_last_run_duration_seconds")
    assert {("fs", "clients"), ("fs", "invoices"), ("fs", "open_invoices")} <= set(successes), before.text
    assert set(durations) == set(successes)
    code, _ = first.terminate()
    assert code == 0, first.log_text()[-3000:]

    fs.faults({"kind": "status", "status": 401, "times": None})  # no run of the second daemon can succeed
    try:
        second = DaemonProcess.start(tmp_path / "second.log", env)
        daemons.append(second)
        after = Scrape.get(second.metrics_url())
        assert _per_stream(after, "connector_stream_last_success_timestamp_seconds") == pytest.approx(successes)
        assert _per_stream(after, "connector_stream_last_run_duration_seconds") == pytest.approx(durations, abs=1e-3)

        head = httpx.head(f"{second.metrics_url()}/metrics", timeout=10)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"].startswith("text/plain")
        assert int(head.headers["content-length"]) > 1000  # the length the GET's body has
        second.terminate()
    finally:
        fs.faults()
