"""The one-port server over a real socket: /metrics parses, /healthz follows the heartbeat, /readyz the schema."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import Engine

from connector.observability import metrics as obs
from connector.observability.health import DatabaseReadiness, Heartbeat, Readiness
from connector.observability.server import ObservabilityServer, serve
from connector.store.db import head_revision, make_engine, upgrade
from tests.observability.scrape import Scrape


def _always_ready() -> Readiness:
    return Readiness(True, "test")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine over a fresh, unmigrated database (SQLite file or a PostgreSQL schema)."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_metrics_parse_and_carry_build_info_and_the_hooks(installed_metrics: obs.Metrics) -> None:
    with serve(installed_metrics, Heartbeat(), _always_ready, port=0) as server:
        obs.observe_request("factuursturen", "fs", "get", 200, 0.02, 17)
        obs.observe_request("factuursturen", "fs", "GET", 503, 0.3, 16)
        obs.observe_request("factuursturen", "fs", "POST", 0, 30.0)

        scrape = Scrape.get(server.url)

    info = [s for s in scrape.samples if s.name == "connector_build_info"]
    assert len(info) == 1 and info[0].value == 1
    assert info[0].labels["version"] == obs.package_version()
    assert scrape.value("connector_http_requests_total", method="GET", status_class="2xx") == 1
    assert scrape.value("connector_http_requests_total", method="GET", status_class="5xx") == 1
    assert scrape.value("connector_http_requests_total", method="POST", status_class="error") == 1
    assert scrape.value("connector_http_request_duration_seconds_count", provider="factuursturen") == 3
    assert scrape.value("connector_http_request_duration_seconds_sum", method="GET") == pytest.approx(0.32)
    assert scrape.value("connector_http_request_duration_seconds_bucket", method="POST", le="30.0") == 1
    assert scrape.value("connector_rate_limit_remaining", connection="fs") == 16  # the last known value


def test_openmetrics_is_served_when_the_scraper_asks_for_it(installed_metrics: obs.Metrics) -> None:
    with serve(installed_metrics, Heartbeat(), _always_ready, port=0) as server:
        response = httpx.get(f"{server.url}/metrics", headers={"Accept": "application/openmetrics-text"})

    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")


def test_head_answers_like_get_without_a_body_and_gzip_and_name_filters_work(installed_metrics: obs.Metrics) -> None:
    obs.observe_request("factuursturen", "fs", "GET", 200, 0.02, 17)
    with serve(installed_metrics, Heartbeat(), _always_ready, port=0) as server, httpx.Client() as client:
        plain = client.get(f"{server.url}/metrics", headers={"Accept-Encoding": "identity"})
        head = client.head(f"{server.url}/metrics", headers={"Accept-Encoding": "identity"})
        health_head = client.head(f"{server.url}/healthz")
        after = client.get(f"{server.url}/readyz")  # the kept-alive connection still frames answers right
        zipped = client.get(f"{server.url}/metrics", headers={"Accept-Encoding": "gzip"})
        some = client.get(f"{server.url}/metrics", params={"name[]": "connector_rate_limit_remaining"})

    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == plain.headers["content-type"]
    assert int(head.headers["content-length"]) == len(plain.content)
    assert health_head.status_code == 200 and health_head.content == b"" and after.json()["status"] == "ready"
    assert zipped.headers["content-encoding"] == "gzip" and zipped.text == plain.text  # httpx decompresses
    assert "connector_rate_limit_remaining" in some.text and "connector_http_requests_total" not in some.text


def test_healthz_turns_503_when_the_scheduler_stops_ticking(installed_metrics: obs.Metrics) -> None:
    now = [1000.0]
    beat = Heartbeat(max_age_seconds=30, monotonic=lambda: now[0])
    with serve(installed_metrics, beat, _always_ready, port=0) as server:
        # Given a scheduler that ticks...
        beat.tick()
        now[0] += 29
        fresh = httpx.get(f"{server.url}/healthz")
        # ...when it stops ticking for longer than the allowed age...
        now[0] += 2
        stale = httpx.get(f"{server.url}/healthz")
        # ...and then ticks again.
        beat.tick()
        again = httpx.get(f"{server.url}/healthz")
        scrape = Scrape.get(server.url)

    assert fresh.status_code == 200
    assert fresh.json() | {"last_tick_at": None} == {"status": "ok", "last_tick_age_seconds": 29, "max_age_seconds": 30,
                                                     "ticks": 1, "last_tick_at": None}
    assert stale.status_code == 503
    assert stale.json()["status"] == "stale" and stale.json()["last_tick_age_seconds"] == 31
    assert again.status_code == 200 and again.json()["ticks"] == 2
    assert scrape.value("connector_scheduler_ticks_total") == 2
    last_tick = datetime.fromisoformat(again.json()["last_tick_at"]).timestamp()
    assert scrape.value("connector_scheduler_last_tick_timestamp_seconds") == pytest.approx(last_tick)


def test_healthz_goes_stale_through_the_server(installed_metrics: obs.Metrics) -> None:
    now = [50.0]
    beat = Heartbeat(max_age_seconds=0.2, monotonic=lambda: now[0])
    with serve(installed_metrics, beat, _always_ready, port=0) as server:
        beat.tick()
        now[0] += 0.4  # a moved clock, not a wait
        response = httpx.get(f"{server.url}/healthz")

    assert response.status_code == 503 and response.json()["last_tick_age_seconds"] >= 0.4


def test_a_heartbeat_is_healthy_for_its_grace_period_before_the_first_tick() -> None:
    now = [100.0]
    beat = Heartbeat(max_age_seconds=60, monotonic=lambda: now[0])

    assert beat.healthy() and beat.describe()["ticks"] == 0 and beat.describe()["last_tick_at"] is None
    now[0] += 61
    assert not beat.healthy()
    beat.tick()
    assert beat.healthy() and beat.age() == 0


def test_readyz_is_503_until_the_database_is_migrated(installed_metrics: obs.Metrics, engine: Engine) -> None:
    with serve(installed_metrics, Heartbeat(), DatabaseReadiness(engine), port=0) as server:
        before = httpx.get(f"{server.url}/readyz")
        upgrade(engine)
        after = httpx.get(f"{server.url}/readyz")

    assert before.status_code == 503
    assert before.json()["status"] == "not ready"
    assert "connector db upgrade" in before.json()["reason"]
    assert after.status_code == 200
    assert after.json() == {"status": "ready", "reason": "database reachable and migrated",
                            "revision": head_revision(), "head": head_revision()}


def test_readyz_is_503_on_an_old_revision(installed_metrics: obs.Metrics, engine: Engine) -> None:
    upgrade(engine, "0001")
    assert head_revision() != "0001"
    with serve(installed_metrics, Heartbeat(), DatabaseReadiness(engine), port=0) as server:
        response = httpx.get(f"{server.url}/readyz")

    assert response.status_code == 503
    assert response.json()["revision"] == "0001" and response.json()["head"] == head_revision()


def test_readyz_is_503_when_the_database_is_unreachable(installed_metrics: obs.Metrics) -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    with serve(installed_metrics, Heartbeat(), DatabaseReadiness(engine), port=0) as server:
        response = httpx.get(f"{server.url}/readyz", timeout=10)

    assert response.status_code == 503
    assert response.json()["reason"].startswith("cannot reach the database")


def test_a_readiness_check_that_raises_still_gets_an_answer(installed_metrics: obs.Metrics) -> None:
    def broken() -> Readiness:
        raise RuntimeError("boom")

    with serve(installed_metrics, Heartbeat(), broken, port=0) as server:
        response = httpx.get(f"{server.url}/readyz")

    assert response.status_code == 503
    assert response.json()["reason"] == "readiness check failed: RuntimeError"


def test_unknown_paths_are_404_and_stop_frees_the_port(installed_metrics: obs.Metrics) -> None:
    server: ObservabilityServer = serve(installed_metrics, Heartbeat(), _always_ready, port=0)
    try:
        missing = httpx.get(f"{server.url}/nope")
    finally:
        server.stop()
        server.stop()  # idempotent

    assert missing.status_code == 404 and "/healthz" in missing.json()["error"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/healthz", timeout=2)


def test_scrapes_are_served_concurrently_with_updates(installed_metrics: obs.Metrics) -> None:
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            obs.observe_request("hydra", "hy", "GET", 200, 0.001, None)

    worker = threading.Thread(target=hammer)
    with serve(installed_metrics, Heartbeat(), _always_ready, port=0) as server:
        worker.start()
        try:
            counts = [Scrape.get(server.url).value("connector_http_requests_total", provider="hydra") for _ in range(5)]
        finally:
            stop.set()
            worker.join()
        final = Scrape.get(server.url).value("connector_http_requests_total", provider="hydra")

    assert counts == sorted(counts) and counts[-1] <= final
    labels = {"provider": "hydra", "method": "GET", "status_class": "2xx"}
    assert final == installed_metrics.registry.get_sample_value("connector_http_requests_total", labels)


def test_serve_binds_the_host_it_is_given(installed_metrics: obs.Metrics) -> None:
    with serve(installed_metrics, Heartbeat(), _always_ready, host="127.0.0.1", port=0) as server:
        assert server.host == "127.0.0.1" and server.port > 0
        assert httpx.get(f"http://127.0.0.1:{server.port}/healthz").status_code == 200


def test_heartbeat_ticks_record_wall_time() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    beat = Heartbeat(wall=lambda: at)
    beat.tick()
    assert beat.describe()["last_tick_at"] == "2026-01-02T03:04:05+00:00"
