"""The store's backlog gauges, read at scrape time from a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, insert, update

from connector.observability import metrics as obs
from connector.observability.health import Heartbeat, Readiness
from connector.observability.server import serve
from connector.observability.store_gauges import StoreGauges, StoreSnapshot, read_store
from connector.store.db import make_engine, upgrade
from connector.store.tables import Conflict, Lease, Outbox, Quarantine
from tests.observability.scrape import Scrape

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated, empty store."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _outbox(i: int, connection: str, status: str) -> dict[str, Any]:
    return {"entity_kind": "invoice", "entity_id": i, "connection": connection, "operation": "create",
            "idempotency_key": f"key-{i}", "payload": {}, "status": status, "attempts": 0}


def _quarantine(i: int, connection: str, resolved: bool) -> dict[str, Any]:
    return {"connection": connection, "stream": "invoices", "entity_kind": "invoice", "remote_id": f"R{i}",
            "payload": "{}", "error": "bad", "resolved_at": NOW if resolved else None}


def _fill(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Outbox), [
            _outbox(1, "books", "pending"), _outbox(2, "books", "pending"), _outbox(3, "books", "failed"),
            _outbox(4, "books", "done"), _outbox(5, "shop", "unsupported"), _outbox(6, "shop", "superseded"),
        ])
        conn.execute(insert(Quarantine), [
            _quarantine(1, "fs", False), _quarantine(2, "fs", False), _quarantine(3, "fs", True),
            _quarantine(4, "shop", True),
        ])
        conn.execute(insert(Conflict), [
            {"entity_kind": kind, "entity_id": i, "field": "email", "policy": "newest_wins", "versions": {},
             "decision": "remote"}
            for i, kind in enumerate(("client", "client", "invoice"))
        ])
        conn.execute(insert(Lease), [
            {"name": "fs", "holder": "replica-a", "acquired_at": NOW, "expires_at": NOW + timedelta(minutes=5)},
            {"name": "books", "holder": "replica-b", "acquired_at": NOW, "expires_at": NOW + timedelta(minutes=5)},
            {"name": "shop", "holder": "replica-a", "acquired_at": NOW, "expires_at": NOW - timedelta(minutes=1)},
        ])


def test_read_store_counts_what_is_in_the_tables(engine: Engine) -> None:
    _fill(engine)

    snapshot = read_store(engine, now=NOW, replica_id="replica-a")

    assert snapshot.outbox == {("books", "pending"): 2, ("books", "failed"): 1, ("shop", "unsupported"): 1}
    assert snapshot.quarantine_open == {"fs": 2}
    assert snapshot.conflicts == {"client": 2, "invoice": 1}
    assert snapshot.leases_held == {"self": 1, "other": 1}  # the expired one is held by nobody
    assert read_store(engine, now=NOW, replica_id=None).leases_held == {"self": 0, "other": 2}


def test_the_gauges_are_served_and_follow_the_store(engine: Engine) -> None:
    _fill(engine)
    metrics = obs.Metrics()
    metrics.registry.register(
        StoreGauges.for_engine(engine, connections=["fs", "books", "shop", "idle"], replica_id="replica-a",
                               now=lambda: NOW)
    )

    with serve(metrics, Heartbeat(), lambda: Readiness(True, "test"), port=0) as server:
        first = Scrape.get(server.url)
        # When a backlog clears, its gauge drops to 0 (it does not vanish).
        with engine.begin() as conn:
            conn.execute(update(Quarantine).values(resolved_at=NOW))
            conn.execute(update(Outbox).where(Outbox.status == "pending").values(status="done"))  # type: ignore[arg-type]
        second = Scrape.get(server.url)

    assert first.value("connector_outbox_rows", connection="books", status="pending") == 2
    assert first.value("connector_outbox_rows", connection="books", status="failed") == 1
    assert first.value("connector_outbox_rows", connection="shop", status="unsupported") == 1
    assert first.has("connector_outbox_rows", connection="idle", status="pending")
    assert first.value("connector_outbox_rows", connection="idle") == 0
    assert first.label_values("connector_outbox_rows", "status") == {"pending", "failed", "unsupported"}
    assert first.value("connector_quarantine_open", connection="fs") == 2
    assert first.value("connector_quarantine_open", connection="shop") == 0
    assert first.value("connector_conflicts", kind="client") == 2
    assert first.value("connector_leases_held", holder="self") == 1
    assert first.value("connector_leases_held", holder="other") == 1
    assert first.value("connector_store_up") == 1
    assert first.value("connector_store_scrape_errors_total") == 0
    assert second.has("connector_quarantine_open", connection="fs")
    assert second.value("connector_quarantine_open") == 0
    assert second.value("connector_outbox_rows", status="pending") == 0


def test_a_failing_read_is_counted_not_raised() -> None:
    calls: list[int] = []

    def flaky() -> StoreSnapshot:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("database down")
        return StoreSnapshot(quarantine_open={"fs": 4})

    metrics = obs.Metrics()
    metrics.registry.register(StoreGauges(flaky))

    with serve(metrics, Heartbeat(), lambda: Readiness(True, "test"), port=0) as server:
        down = Scrape.get(server.url)
        up = Scrape.get(server.url)

    assert down.value("connector_store_up") == 0
    assert down.value("connector_store_scrape_errors_total") == 1
    assert not down.has("connector_quarantine_open")
    assert down.has("connector_build_info")  # the rest of the scrape is intact
    assert up.value("connector_store_up") == 1
    assert up.value("connector_store_scrape_errors_total") == 1
    assert up.value("connector_quarantine_open", connection="fs") == 4


def test_an_unreachable_database_is_a_failed_read() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    registry = CollectorRegistry()
    registry.register(StoreGauges.for_engine(engine))

    for scrape in (1, 2):
        samples = {s.name: s.value for family in registry.collect() for s in family.samples}
        assert samples["connector_store_up"] == 0
        assert samples["connector_store_scrape_errors_total"] == scrape


def test_registering_does_not_touch_the_database() -> None:
    def never() -> StoreSnapshot:
        raise AssertionError("read at registration")

    registry = CollectorRegistry()
    registry.register(StoreGauges(never))
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        registry.register(StoreGauges(never))  # its names are known without a read
