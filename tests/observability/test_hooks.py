"""The hooks library code calls: no-ops until installed, never raising, labels from closed sets only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from connector.observability import metrics as obs

AT = datetime(2026, 5, 1, tzinfo=UTC)


@dataclass
class Counts:
    read: int = 5
    created: int = 2
    updated: int = 1
    unchanged: int = 1
    quarantined: int = 1
    deleted: int = 0


def _value(m: obs.Metrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, labels)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(200, "2xx"), (204, "2xx"), (301, "3xx"), (404, "4xx"), (429, "4xx"), (503, "5xx"), (0, "error"),
     (99, "error"), (600, "error"), (101, "1xx")],
)
def test_status_classes(status: int, expected: str) -> None:
    assert obs.status_class(status) == expected


def test_hooks_do_nothing_until_installed() -> None:
    m = obs.Metrics()
    obs.uninstall()

    obs.observe_request("factuursturen", "fs", "GET", 200, 0.1, 10)
    obs.observe_run("fs", "clients", "ok", 1.0, AT, Counts())
    obs.observe_push("books", "invoice", "done")
    obs.observe_tick(AT)

    assert obs.installed() is None
    labels = {"provider": "factuursturen", "method": "GET", "status_class": "2xx"}
    assert _value(m, "connector_http_requests_total", **labels) is None
    assert _value(m, "connector_scheduler_ticks_total") == 0


def test_nothing_lands_on_the_global_registry(installed_metrics: obs.Metrics) -> None:
    obs.observe_request("factuursturen", "fs", "GET", 200, 0.1, 10)

    assert REGISTRY.get_sample_value("connector_http_requests_total", {"provider": "factuursturen"}) is None
    assert not [family.name for family in REGISTRY.collect() if family.name.startswith("connector_")]


def test_a_run_records_outcomes_status_duration_and_success_time(installed_metrics: obs.Metrics) -> None:
    obs.observe_run("fs", "invoices", "ok", 12.5, AT, Counts())
    obs.observe_run("fs", "invoices", "failed", 3.0, AT.replace(hour=5), Counts(read=1, created=1, updated=0,
                                                                                 unchanged=0, quarantined=0))
    obs.observe_run("fs", "invoices", "weird", 1.0, AT)

    m = installed_metrics
    labels = {"connection": "fs", "stream": "invoices"}
    assert _value(m, "connector_records_read_total", **labels) == 6
    assert _value(m, "connector_records_pulled_total", outcome="created", **labels) == 3
    assert _value(m, "connector_records_pulled_total", outcome="quarantined", **labels) == 1
    assert _value(m, "connector_stream_runs_total", status="ok", **labels) == 1
    assert _value(m, "connector_stream_runs_total", status="failed", **labels) == 1
    assert _value(m, "connector_stream_runs_total", status="other", **labels) == 1
    assert _value(m, "connector_stream_run_duration_seconds_sum", **labels) == 16.5
    assert _value(m, "connector_stream_run_duration_seconds_bucket", le="5.0", **labels) == 2  # 3.0 and 1.0
    assert _value(m, "connector_stream_last_success_timestamp_seconds", **labels) == AT.timestamp()  # not the failure


def test_push_outcomes_and_methods_are_bounded(installed_metrics: obs.Metrics) -> None:
    obs.observe_push("books", "invoice", "done")
    obs.observe_push("books", "invoice", "deferred-stop")
    obs.observe_push("books", "invoice/12345", "exploded")
    obs.observe_request("hydra", "hy", "propfind", 207, 0.1, None)

    m = installed_metrics
    assert _value(m, "connector_records_pushed_total", connection="books", kind="invoice", outcome="done") == 1
    assert _value(m, "connector_records_pushed_total", connection="books", kind="invoice", outcome="deferred") == 1
    assert _value(m, "connector_records_pushed_total", connection="books", kind="other", outcome="other") == 1
    assert _value(m, "connector_http_requests_total", provider="hydra", method="other", status_class="2xx") == 1
    assert _value(m, "connector_rate_limit_remaining", connection="hy") is None  # unknown is not 0


def test_a_broken_metric_never_fails_the_caller(
    installed_metrics: obs.Metrics, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(obs.Metrics):
        def observe_request(self, *args: object) -> None:  # type: ignore[override]
            raise RuntimeError("metrics bug")

    obs.install(Broken())

    obs.observe_request("factuursturen", "fs", "GET", 200, 0.1, 1)

    assert "metrics hook observe_request failed" in caplog.text


def test_build_info_names_the_version_and_python() -> None:
    m = obs.Metrics()
    samples = [s for family in m.registry.collect() for s in family.samples if s.name == "connector_build_info"]

    assert len(samples) == 1
    assert set(samples[0].labels) == {"version", "python"}
    assert samples[0].labels["version"] == obs.package_version() != ""
