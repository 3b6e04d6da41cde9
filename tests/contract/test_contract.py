"""One contract, every provider: the same checks against each provider's sandbox (test ids = provider ids).

Each installed provider's kit (found by tests/contract/harness.py:kits) starts its sandbox on a
real socket; the checks go through the real `App` -> provider -> HTTP layer -> sandbox path, into real
SQLite and PostgreSQL stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from typing import Any

import pytest
from sqlalchemy import func, select

from connector.errors import AuthFailed, ProtocolError, RateLimited, Unsupported
from connector.providers.base import Capabilities, NoStamps, Provider
from connector.providers.registry import get_provider_class
from connector.store.tables import Invoice, Quarantine
from tests.contract.harness import ContractHarness, kits
from tests.support import make_app

KITS = kits()


def test_every_installed_provider_has_a_kit() -> None:
    assert len(KITS) >= 4 and [name for name, module in KITS.items() if module is None] == []


@pytest.fixture(scope="module", params=sorted(name for name, module in KITS.items() if module))
def kit_server(request: pytest.FixtureRequest) -> Iterator[ContractHarness]:
    """One started kit per provider for the module."""
    harness: ContractHarness = import_module(str(KITS[request.param])).KIT.start()
    yield harness
    harness.stop()


@pytest.fixture
def kit(kit_server: ContractHarness) -> ContractHarness:
    """The provider's kit, reset."""
    kit_server.reset()
    return kit_server


def _invoices_stored(app: Any) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Invoice)).scalar_one())


def _provider(app: Any, name: str = "c") -> Provider:
    return app.provider(app.connection(name))  # type: ignore[no-any-return]


def test_capabilities_are_declared_and_consistent(kit: ContractHarness, sqlite_url: str) -> None:
    app = make_app(sqlite_url, kit.connection())
    provider = _provider(app)
    cls = get_provider_class(kit.provider_id)
    assert cls.id == kit.provider_id
    caps = cls.capabilities
    assert isinstance(caps, Capabilities)
    assert caps.readable or caps.writable, "a provider must read or write something"
    assert bool(caps.readable) == kit.readable
    for spec in provider.streams():
        assert set(spec.kinds) <= caps.readable, f"stream {spec.name} yields kinds the provider cannot read"
    assert set(cls.sweep_kinds) <= caps.readable
    assert caps.updatable <= caps.writable and caps.deletable <= caps.writable | caps.readable
    if not kit.readable:
        assert provider.streams() == []
        with pytest.raises(Unsupported):
            next(iter(provider.pull("invoices", None, None, {}, NoStamps())))
    provider.close()


def test_pages_to_the_end(kit: ContractHarness, database_url: str) -> None:
    if not kit.readable:
        assert get_provider_class(kit.provider_id).capabilities.writable, "push-only kits must write"
        return
    kit.seed(clients=15, invoices=kit.page_size * 3 + 7)
    app = make_app(database_url, kit.connection(page_size=kit.page_size))
    report = app.sync("c")
    assert _invoices_stored(app) == kit.invoice_count()
    assert report.totals.quarantined == 0
    assert sum(r.pages for r in report.streams) >= 4


def test_wrong_key_is_auth_failed_and_writes_nothing(kit: ContractHarness, database_url: str) -> None:
    app = make_app(database_url, kit.connection(wrong_key=True, max_attempts=2))
    if kit.readable:
        kit.seed(clients=3, invoices=5)
        with pytest.raises(AuthFailed):
            app.sync("c")
        assert _invoices_stored(app) == 0
    else:
        with pytest.raises(AuthFailed):
            _provider(app).write("invoice", "create", kit.sample_invoice_payload(), None, idempotency_key="k-auth")


def _call(kit: ContractHarness, app: Any) -> None:
    if kit.readable:
        app.sync("c")
    else:
        _provider(app).write("invoice", "create", kit.sample_invoice_payload(), None, idempotency_key="k-call")


def test_rate_limit_answer_is_typed(kit: ContractHarness, sqlite_url: str) -> None:
    if kit.readable:
        kit.seed(clients=3, invoices=5)
    status = kit.rate_limit_status
    kit.faults([{"kind": "storm", "status": status, "times": None, "retry_after": 1}])
    app = make_app(sqlite_url, kit.connection(max_attempts=1))
    with pytest.raises(RateLimited):
        _call(kit, app)


def test_rate_limit_is_honoured_without_provoking_it(kit: ContractHarness, sqlite_url: str) -> None:
    limit, window = 4, 2.0
    if kit.readable:
        kit.seed(clients=3, invoices=kit.page_size * 2)
    kit.rate_limit(limit, window)
    app = make_app(sqlite_url, kit.connection(page_size=kit.page_size, rate_limit=limit, rate_window_seconds=window))
    if kit.readable:
        app.sync("c")
        assert _invoices_stored(app) == kit.invoice_count()
    else:
        provider = _provider(app)
        for n in range(limit + 2):
            payload = kit.sample_invoice_payload()
            provider.write("invoice", "create", payload, None, idempotency_key=f"k-pace-{n}")
    statuses = kit.request_statuses()
    assert len(statuses) > limit, "the run must need more than one window of requests"
    assert 429 not in statuses and 403 not in statuses


@pytest.mark.parametrize("garbage", ["html", "truncated_json"])
def test_garbage_answers_are_protocol_errors(kit: ContractHarness, sqlite_url: str, garbage: str) -> None:
    if kit.readable:
        kit.seed(clients=3, invoices=5)
    kit.faults([{"kind": garbage, "times": None}])
    app = make_app(sqlite_url, kit.connection(max_attempts=1))
    with pytest.raises(ProtocolError):
        _call(kit, app)


def test_a_record_the_mapping_cannot_read_is_quarantined(kit: ContractHarness, database_url: str) -> None:
    if not kit.readable:
        # A push-only service has no records to read; its mapping refuses bad records on the way out
        # (tests/facturalia). Here: nothing is pulled, so nothing can be quarantined.
        app = make_app(database_url, kit.connection())
        assert _provider(app).streams() == []
        return
    kit.seed(clients=5, invoices=12)
    kind, remote_id = kit.corrupt_one()
    app = make_app(database_url, kit.connection())
    report = app.sync("c")
    assert report.totals.quarantined >= 1
    with app.engine.connect() as conn:
        rows = conn.execute(select(Quarantine.entity_kind, Quarantine.remote_id, Quarantine.error)).all()  # type: ignore[call-overload]
    assert (kind, remote_id) in {(k, r) for k, r, _ in rows}
    assert all(error for _, _, error in rows)
    if kind == "invoice":
        assert _invoices_stored(app) == kit.invoice_count() - 1
