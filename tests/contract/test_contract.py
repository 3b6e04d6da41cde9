"""One contract, every provider, every quirk: the same checks against each provider's sandbox, once under
its defaults and once per value of each quirk it declares (test ids ``factuursturen[count_cap=100]``; the
matrix: `tests.contract.matrix`).

Each provider's kit (tests/<provider>/harness.py, see tests/contract/harness.py) starts its sandbox on a
real socket, once for the module; each test resets it and switches its quirks through the control
surface. The checks go through the real `App` -> provider -> HTTP layer -> sandbox path, into real
SQLite and PostgreSQL stores. Rate windows pass on a clock tied to the sandbox's (`LinkedClock`): waits
cost no real time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import pytest
from sqlalchemy import func, select

from connector.cli.sandboxes import sandbox_class
from connector.errors import AuthFailed, ProtocolError, RateLimited, Unsupported
from connector.providers.base import Capabilities, NoStamps, Provider
from connector.providers.registry import get_provider_class
from connector.store.tables import Invoice, Quarantine
from tests.contract.harness import ContractHarness, kits
from tests.contract.matrix import Variant, variants
from tests.sandbox_time import LinkedClock
from tests.support import make_app

KITS = kits()


def test_every_installed_provider_has_a_kit() -> None:
    assert len(KITS) >= 4 and [name for name, module in KITS.items() if module is None] == []


def _start_kit(provider: str) -> ContractHarness:
    harness: ContractHarness = import_module(str(KITS[provider])).KIT.start()
    return harness


VARIANTS = variants(sorted(name for name, module in KITS.items() if module))
READABLE = [v for v in VARIANTS if get_provider_class(v.provider).capabilities.readable]
KEYED = [v for v in VARIANTS if get_provider_class(v.provider).capabilities.idempotency_keys]


@pytest.fixture(scope="module")
def started() -> Iterator[dict[str, ContractHarness]]:
    """The module's kits, one per provider, each started when a test first needs it."""
    kits: dict[str, ContractHarness] = {}
    yield kits
    for harness in kits.values():
        harness.stop()


def _ready(started: dict[str, ContractHarness], variant: Variant) -> ContractHarness:
    """The variant's provider kit, reset, with the variant's quirks switched on."""
    if variant.provider not in started:
        started[variant.provider] = _start_kit(variant.provider)
    harness = started[variant.provider]
    harness.reset()
    harness.quirks(variant.quirks)
    return harness


@pytest.fixture(params=VARIANTS, ids=lambda v: v.id)
def kit(request: pytest.FixtureRequest, started: dict[str, ContractHarness]) -> ContractHarness:
    """A provider's kit, reset, under one quirk setting of its sandbox."""
    return _ready(started, request.param)


def test_the_matrix_names_each_setting() -> None:
    # (every quirk offers values besides its default: tests/sandbox/test_quirk_alternatives.py)
    ids = {v.id for v in VARIANTS}
    assert {"factuursturen[defaults]", "factuursturen[count_cap=100]", "factuursturen[count_cap=250]",
            "factuursturen[unknown_id_answers_list]", "hydra[flavour=4]", "facturalia[replay_header=false]"} <= ids
    assert len(ids) == len(VARIANTS) == sum(1 + sum(len(q.alternatives) for q in sandbox_class(p).declared_quirks)
                                            for p in KITS)


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
    # Given the service's windows of a minute, the first starting a second ago (a service without
    # Remaining gives its phase away to no client: a first burst across a boundary would be a 429 no
    # pacer could avoid), and a clock on which waits cost no real time
    limit, window = 4, 60.0
    if kit.readable:
        kit.seed(clients=3, invoices=kit.page_size * 2)
    kit.rate_limit(limit, window, phase_seconds=(time.time() - 1) % window)
    clock = LinkedClock(kit.advance_clock)
    app = make_app(sqlite_url, kit.connection(page_size=kit.page_size, rate_limit=limit, rate_window_seconds=window),
                   clock=clock)
    clock.follow(app, "c")
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
    assert clock.slept >= window / 2, "it waited for the service's window (on the sandbox's clock)"


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


@pytest.mark.parametrize("variant", KEYED, ids=lambda v: v.id)
def test_a_create_repeated_with_its_key_makes_one_record(variant: Variant, started: dict[str, ContractHarness],
                                                         sqlite_url: str) -> None:
    # However the service answers a replay (status, headers: its quirks), the retry finds the first record
    kit = _ready(started, variant)
    provider = _provider(make_app(sqlite_url, kit.connection()))
    payload = kit.sample_invoice_payload()
    first = provider.write("invoice", "create", payload, None, idempotency_key="k-replay")
    again = provider.write("invoice", "create", payload, None, idempotency_key="k-replay")
    assert again == first
    assert kit.invoice_count() == 1
    provider.close()


@pytest.mark.parametrize("variant", READABLE, ids=lambda v: v.id)
def test_full_incremental_and_sweep_equal_the_truth(variant: Variant, started: dict[str, ContractHarness],
                                                    database_url: str) -> None:
    # Given a history spanning several pages, at the connection's default page size
    kit = _ready(started, variant)
    kit.seed_history()
    app = make_app(database_url, kit.connection())
    # When a full sync runs, then an incremental one after a person's changes, then a sweep after
    # deletions only a sweep can see: each ends healthy and equal to the service's truth
    first = app.sync("c", full=True)
    assert all(s.status == "ok" for s in first.streams), [(s.stream, s.error) for s in first.streams]
    kit.assert_store_matches(app.engine, "c")

    kit.change_as_a_person()
    second = app.sync("c")
    assert all(s.status == "ok" for s in second.streams), [(s.stream, s.error) for s in second.streams]
    kit.assert_store_matches(app.engine, "c")

    gone = kit.delete_behind_the_listing()
    sweep = app.sync("c", full=True)
    assert all(s.status == "ok" for s in sweep.streams), [(s.stream, s.error) for s in sweep.streams]
    # (an invoice's payments go with it; the truth check says exactly what must be left)
    assert (sweep.totals.deleted > 0) == bool(gone), "the sweep deletes what is gone and nothing that exists"
    kit.assert_store_matches(app.engine, "c")
