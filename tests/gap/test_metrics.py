"""Run statuses of the gap audit on the metrics: `repaired` counts as a success, `gap` does not, both are labelled."""

from __future__ import annotations

from datetime import UTC, datetime

from connector.observability.metrics import Metrics


def test_audit_statuses_are_labelled_and_repaired_is_a_success() -> None:
    m = Metrics()
    at = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    m.observe_run("fs", "audit", "gap", 1.0, at)
    assert m.registry.get_sample_value("connector_stream_runs_total", {"connection": "fs", "stream": "audit",
                                                                       "status": "gap"}) == 1
    assert m.registry.get_sample_value("connector_stream_last_success_timestamp_seconds",
                                       {"connection": "fs", "stream": "audit"}) is None
    m.observe_run("fs", "audit", "repaired", 1.0, at)
    assert m.registry.get_sample_value("connector_stream_last_success_timestamp_seconds",
                                       {"connection": "fs", "stream": "audit"}) == at.timestamp()
