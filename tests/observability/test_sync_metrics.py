"""Metrics after real syncs against the FactuurSturen sandbox: they match the sync report, the sandbox's own
request log and the run rows, and no label carries an id or a secret."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from connector.app import App
from connector.errors import AuthFailed
from connector.observability import metrics as obs
from connector.observability.health import Heartbeat, Readiness
from connector.observability.server import ObservabilityServer, serve
from connector.store.tables import SyncRun
from connector.sync.engine import ConnectionReport
from tests.observability.scrape import Scrape
from tests.support import FsSandbox, make_app, seed_until_yesterday

WINDOW = 10**9  # one rate window for the whole test: the remaining budget cannot roll over mid-test


class InstantClock:
    """The real clock, except that waiting (retry backoff) advances time instead of sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        self.offset += max(0.0, seconds)


@pytest.fixture
def server(installed_metrics: obs.Metrics) -> Iterator[ObservabilityServer]:
    """The observability server of the installed metrics, on a free port."""
    with serve(installed_metrics, Heartbeat(), lambda: Readiness(True, "test"), port=0) as running:
        yield running


def _app(database_url: str, fs: FsSandbox, **overrides: object) -> App:
    app = make_app(database_url, fs.connection(page_size=50, rate_limit=1000, rate_window_seconds=WINDOW, **overrides))
    app.clock = InstantClock()
    return app


def _last_success(app: App, stream: str) -> float:
    runs = SyncRun.__table__.c  # type: ignore[attr-defined]
    with app.engine.connect() as conn:
        finished = conn.execute(
            select(runs.finished_at)
            .where(runs.connection == "fs", runs.stream == stream, runs.status == "ok")
            .order_by(runs.id.desc())
            .limit(1)
        ).scalar_one()
    return (finished if finished.tzinfo else finished.replace(tzinfo=UTC)).timestamp()


def _assert_streams_match(scrape: Scrape, app: App, report: ConnectionReport, runs: int = 1) -> None:
    for stream in report.streams:
        labels = {"connection": "fs", "stream": stream.stream}
        c = stream.counts
        assert scrape.value("connector_records_read_total", **labels) == c.read, stream.stream
        for outcome in ("created", "updated", "unchanged", "quarantined", "deleted"):
            assert scrape.value("connector_records_pulled_total", outcome=outcome, **labels) == getattr(c, outcome)
        assert scrape.value("connector_stream_runs_total", status="ok", **labels) == runs
        assert scrape.value("connector_stream_run_duration_seconds_count", **labels) == runs
        assert scrape.value("connector_stream_last_success_timestamp_seconds", **labels) == pytest.approx(
            _last_success(app, stream.stream), abs=1e-3
        )


def test_metrics_match_a_real_sync(
    database_url: str, fs: FsSandbox, installed_metrics: obs.Metrics, server: ObservabilityServer
) -> None:
    # Given a seeded account with a rate limit, and one transient 503 the client retries.
    seed_until_yesterday(fs, days=400, seed=5, clients=30, invoices=120, lines=2)
    fs.post("/ratelimit", {"limit": 1000, "window_seconds": WINDOW})
    fs.faults({"kind": "status", "status": 503, "times": 1, "path_prefix": "/api/v1/invoices"})
    fs.clear_requests()
    app = _app(database_url, fs)

    report = app.sync("fs")
    scrape = Scrape.get(server.url)

    # Requests by status class are what the sandbox saw, one by one (the retried 503 included).
    seen = Counter(f"{r['status'] // 100}xx" for r in fs.requests())
    assert seen["5xx"] == 1 and seen["2xx"] == report.requests - 1
    for status_class, n in seen.items():
        assert scrape.value("connector_http_requests_total", provider="factuursturen", status_class=status_class) == n
    assert scrape.value("connector_http_requests_total") == report.requests
    assert scrape.value("connector_http_request_duration_seconds_count", provider="factuursturen") == report.requests
    assert scrape.value("connector_rate_limit_remaining", connection="fs") == 1000 - len(fs.requests())
    # Records and runs per stream are the report's; last success is the run row's finish time.
    assert report.totals.created > 0
    _assert_streams_match(scrape, app, report)
    assert scrape.value("connector_records_pulled_total", outcome="created") == report.totals.created

    # When the sync runs again with nothing changed, the counters grow by exactly that run.
    again = app.sync("fs")
    second = Scrape.get(server.url)
    assert again.totals.created == 0
    assert second.value("connector_records_pulled_total", outcome="created") == report.totals.created
    assert second.value("connector_records_pulled_total", outcome="unchanged") == (
        report.totals.unchanged + again.totals.unchanged
    )
    assert second.value("connector_stream_runs_total", status="ok") == 2 * len(report.streams)
    for stream in again.streams:
        labels = {"connection": "fs", "stream": stream.stream}
        assert second.value("connector_stream_last_success_timestamp_seconds", **labels) > scrape.value(
            "connector_stream_last_success_timestamp_seconds", **labels
        )
        assert second.value("connector_stream_last_success_timestamp_seconds", **labels) == pytest.approx(
            _last_success(app, stream.stream), abs=1e-3
        )


def test_the_sweep_reports_listed_and_deleted_records(
    sqlite_url: str, fs: FsSandbox, installed_metrics: obs.Metrics, server: ObservabilityServer
) -> None:
    seed_until_yesterday(fs, days=400, seed=6, clients=10, invoices=30, lines=1)
    app = _app(sqlite_url, fs)
    app.sync("fs")
    fs.act("delete_invoice", invoice=fs.state()["invoices"][0]["id"])

    report = app.sync("fs", streams=["sweep"])
    scrape = Scrape.get(server.url)

    (sweep,) = report.streams
    assert sweep.counts.deleted == 1 and sweep.counts.read > 0
    labels = {"connection": "fs", "stream": "sweep"}
    assert scrape.value("connector_records_read_total", **labels) == sweep.counts.read
    assert scrape.value("connector_records_pulled_total", outcome="deleted", **labels) == 1
    assert scrape.value("connector_stream_runs_total", status="ok", **labels) == 1
    assert scrape.value("connector_stream_last_success_timestamp_seconds", **labels) == pytest.approx(
        _last_success(app, "sweep"), abs=1e-3
    )


def test_a_failing_connection_counts_failed_runs_and_4xx_but_no_success(
    sqlite_url: str,
    fs: FsSandbox,
    installed_metrics: obs.Metrics,
    server: ObservabilityServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fs.seed(seed=1, clients=3, invoices=3)
    monkeypatch.setenv("OBS_WRONG_KEY", "wrong-key-abcdef-987")
    app = _app(sqlite_url, fs, api_key_env="OBS_WRONG_KEY")

    with pytest.raises(AuthFailed):
        app.sync("fs")
    scrape = Scrape.get(server.url)

    assert scrape.value("connector_http_requests_total", status_class="4xx") == len(fs.requests()) > 0
    assert scrape.value("connector_http_requests_total", status_class="2xx") == 0
    failed = scrape.label_values("connector_stream_runs_total", "stream")
    assert failed == {"clients", "invoices", "open_invoices"}
    assert scrape.value("connector_stream_runs_total", status="failed") == 3
    assert not scrape.has("connector_stream_last_success_timestamp_seconds")
    assert scrape.value("connector_stream_run_duration_seconds_count") == 0  # no run started: no duration
    assert "wrong-key-abcdef-987" not in scrape.text


def test_no_label_carries_an_id_or_a_secret(
    sqlite_url: str, fs: FsSandbox, installed_metrics: obs.Metrics, server: ObservabilityServer
) -> None:
    seed_until_yesterday(fs, days=400, seed=8, clients=20, invoices=60, lines=1)
    fs.faults({"kind": "status", "status": 500, "times": 1, "path_prefix": "/api/v1/clients"})
    app = _app(sqlite_url, fs)
    app.sync("fs", full=True)
    app.sync("fs", streams=["sweep"])
    truth = fs.state()

    scrape = Scrape.get(server.url)

    assert fs.api_key not in scrape.text
    assert fs.base_url.split("//", 1)[1].split("/", 1)[0] not in scrape.text  # no host:port, no URL
    ids = {str(c["clientnr"]) for c in truth["clients"]}
    ids |= {str(i[key]) for i in truth["invoices"] for key in ("id", "invoicenr", "invoicenr_full")}
    ids |= {str(n) for n in range(1, len(truth["clients"]) + len(truth["invoices"]) * 3)}  # canonical ids
    values = scrape.all_label_values()
    assert values.isdisjoint(ids), sorted(values & ids)
    assert not [v for v in values for i in ids if len(i) >= 5 and i in v]
    assert scrape.label_values("connector_http_requests_total", "status_class") == {"2xx", "5xx"}
    assert scrape.label_values("connector_records_pulled_total", "stream") == {
        "clients", "invoices", "open_invoices", "sweep"
    }
