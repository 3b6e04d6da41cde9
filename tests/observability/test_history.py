"""What the daemon restores from the run history at start: each scheduled stream's newest success and its newest
finished run's duration; nothing for a stream that is not scheduled (a backfill's rows, a removed connection)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from connector.observability.history import Series, prime, restore
from connector.observability.metrics import Metrics
from connector.store import runs
from connector.store.db import make_engine, upgrade

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _run(engine: Engine, connection: str, stream: str, status: str, finished: datetime, seconds: float) -> None:
    run_id = runs.start_run(engine, connection, stream, "incremental", finished - timedelta(seconds=seconds))
    runs.finish_run(engine, run_id, {"status": status, "finished_at": finished, "duration_seconds": seconds})


def _value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_restore_takes_the_newest_success_and_the_newest_duration_of_scheduled_streams(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    _run(engine, "fs", "invoices", "ok", T0, 4.0)
    _run(engine, "fs", "invoices", "ok", T0 + timedelta(hours=1), 5.0)
    _run(engine, "fs", "invoices", "failed", T0 + timedelta(hours=2), 7.5)  # newest run, not a success
    _run(engine, "fs", "clients", "interrupted", T0, 2.0)  # never succeeded
    _run(engine, "fs", "backfill:invoices", "ok", T0, 60.0)  # a backfill window: not scheduled
    _run(engine, "gone", "invoices", "ok", T0, 1.0)  # a connection no longer configured
    runs.start_run(engine, "fs", "open_invoices", "incremental", T0)  # still running: no duration yet

    metrics = Metrics()
    series = [Series("fs", "factuursturen", ("clients", "invoices", "open_invoices"), ())]
    prime(metrics, series)
    assert restore(metrics, engine, series) == 2
    success = "connector_stream_last_success_timestamp_seconds"
    duration = "connector_stream_last_run_duration_seconds"
    assert _value(metrics, success, connection="fs", stream="invoices") == (T0 + timedelta(hours=1)).timestamp()
    assert _value(metrics, duration, connection="fs", stream="invoices") == 7.5
    assert _value(metrics, success, connection="fs", stream="clients") is None, "no success, no time (not 0)"
    assert _value(metrics, duration, connection="fs", stream="clients") == 2.0
    assert _value(metrics, duration, connection="fs", stream="open_invoices") is None
    assert _value(metrics, success, connection="fs", stream="backfill:invoices") is None
    assert _value(metrics, success, connection="gone", stream="invoices") is None
    assert _value(metrics, "connector_stream_runs_total", connection="fs", stream="open_invoices",
                  status="failed") == 0
    engine.dispose()
