"""`connector run` as a subprocess against the sandboxes: it pulls and pushes on schedule, and its /metrics
(parsed with prometheus-client's own parser) says what happened, checked against the sandboxes' request logs
and the store."""

from __future__ import annotations

import itertools
from datetime import UTC
from pathlib import Path

import httpx
from sqlalchemy import func, select

from connector.clock import as_utc
from connector.store.db import make_engine
from connector.store.tables import Invoice, Link, SyncRun
from tests.daemon.conftest import two_way_connections
from tests.daemon.harness import DaemonProcess, wait_for
from tests.hydra.harness import HydraHarness
from tests.observability.scrape import Scrape
from tests.support import FsSandbox, seed_until_yesterday


def _activity(scrape: Scrape) -> tuple[float, ...]:
    """The counters that move when a job does something (not the heartbeat's)."""
    return (
        scrape.value("connector_http_requests_total"),
        scrape.value("connector_stream_runs_total"),
        scrape.value("connector_records_pushed_total"),
    )


def test_run_pulls_and_pushes_on_schedule_and_metrics_match(
    migrated: str, fs: FsSandbox, hy: HydraHarness, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    seed_until_yesterday(fs, days=30, seed=5, clients=4, invoices=12)
    conf = two_way_connections(tmp_path, fs, hy)
    daemon = DaemonProcess.start(
        tmp_path / "daemon.log", {"CONNECTOR_DATABASE_URL": migrated, "CONNECTOR_CONNECTIONS_FILE": str(conf)}
    )
    daemons.append(daemon)
    url = daemon.metrics_url()

    # Every job runs, again and again, about once a second, never two at once.
    jobs = ["pull:fs:clients", "pull:fs:invoices", "pull:fs:open_invoices", "push:hy"]
    wait_for(lambda: all(len(daemon.job_runs(j)) >= 3 for j in jobs), 60, f"three runs of each of {jobs}")
    daemon.assert_running()
    for job in jobs:
        runs = daemon.job_runs(job)
        assert {r.status for r in runs} == {"ok"}, [r.fields for r in runs if r.status != "ok"]
        for earlier, later in itertools.pairwise(runs):
            assert later.started_at >= earlier.finished_at, f"{job} overlapped itself"
            assert (later.started_at - earlier.started_at).total_seconds() >= 0.5, f"{job} ran twice in a tick"
    assert len(hy.state()["invoices"]) == 12, "the pushes delivered every invoice once"

    # /metrics agrees with the sandboxes and the store, read while the daemon is between ticks.
    engine = make_engine(migrated)
    for _attempt in range(100):
        before = Scrape.get(url)
        fs_requests, hy_requests = len(fs.requests()), len(hy.requests())
        with engine.connect() as conn:
            invoices = conn.execute(select(func.count()).select_from(Invoice)).scalar_one()
            fs_links = conn.execute(select(func.count()).select_from(Link).where(Link.connection == "fs")).scalar_one()
            pushed = conn.execute(
                select(func.count()).select_from(Link).where(Link.connection == "hy", Link.entity_kind == "invoice")
            ).scalar_one()
            last_ok = conn.execute(
                select(func.max(SyncRun.finished_at)).where(
                    SyncRun.connection == "fs", SyncRun.stream == "invoices", SyncRun.status == "ok"
                )
            ).scalar_one()
        after = Scrape.get(url)
        if _activity(before) == _activity(after):
            break
    else:
        raise AssertionError("the daemon never sat still between two scrapes")
    scrape = after
    assert scrape.value("connector_http_requests_total", provider="factuursturen") == fs_requests
    assert scrape.value("connector_http_requests_total", provider="hydra") == hy_requests
    assert invoices == 12
    assert scrape.value("connector_records_pulled_total", connection="fs", outcome="created") == fs_links > 12
    done = scrape.value("connector_records_pushed_total", connection="hy", kind="invoice", outcome="done")
    assert done == pushed == 12
    last_success = scrape.value("connector_stream_last_success_timestamp_seconds", connection="fs", stream="invoices")
    assert last_ok is not None
    assert abs(last_success - as_utc(last_ok).astimezone(UTC).timestamp()) < 0.01
    assert scrape.value("connector_leases_held", holder="self") == 2
    assert scrape.value("connector_scheduler_ticks_total") >= 1
    assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    assert httpx.get(f"{url}/readyz", timeout=5).status_code == 200
    engine.dispose()

    code, _seconds = daemon.terminate()
    assert code == 0, daemon.log_text()[-3000:]
