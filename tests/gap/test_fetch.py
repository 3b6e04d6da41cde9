"""The provider contract's read-by-id (`Provider.fetch`), against each readable provider's sandbox on a real socket:
the records asked for come back as `pull` yields them, an id the service does not hold is named vanished."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module

import pytest

from connector.errors import Unsupported
from connector.providers.base import Provider
from tests.contract.harness import ContractHarness
from tests.support import make_app

KITS = {
    "factuursturen": "tests.factuursturen.harness:FactuurSturenHarness",
    "fastfaktura": "tests.fastfaktura.harness:FastFakturaHarness",
    "hydra": "tests.hydra.harness:HydraHarness",
}
BOGUS = "987654321"


@pytest.fixture(scope="module", params=sorted(KITS))
def kit(request: pytest.FixtureRequest) -> Iterator[ContractHarness]:
    """One started, seeded kit per readable provider."""
    module, _, name = KITS[request.param].partition(":")
    harness: ContractHarness = getattr(import_module(module), name).start()
    harness.reset()
    harness.seed(clients=6, invoices=9)
    yield harness
    harness.stop()


def _provider(kit: ContractHarness, url: str) -> Provider:
    app = make_app(url, kit.connection())
    return app.provider(app.connection("c"))  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", ["client", "invoice"])
def test_fetch_reads_the_asked_records_and_names_the_unknown_vanished(
    kit: ContractHarness, sqlite_url: str, kind: str
) -> None:
    provider = _provider(kit, sqlite_url)
    assert kind in provider.fetchable_kinds
    listed = [rid for batch in provider.list_ids(kind) for rid in batch]
    wanted = [listed[0], listed[-1], BOGUS]
    before = provider.requests_made
    pages = list(provider.fetch(kind, wanted))
    records = [r for page in pages for r in page.records]
    assert sorted(r.remote_id for r in records if r.kind == kind) == sorted(wanted[:2])
    assert [rid for page in pages for rid in page.vanished.get(kind, [])] == [BOGUS]
    assert all(page.checkpoint is None for page in pages)
    # one request per record asked for, plus (hydra) a batched request each for the invoices' rows and payments
    assert provider.requests_made - before == 3 + (2 if kit.provider_id == "hydra" and kind == "invoice" else 0)
    provider.close()


def test_kinds_it_cannot_read_by_id_are_unsupported(kit: ContractHarness, sqlite_url: str) -> None:
    provider = _provider(kit, sqlite_url)
    for kind in {"client", "invoice", "payment", "product"} - set(provider.fetchable_kinds):
        with pytest.raises(Unsupported):
            list(provider.fetch(kind, ["1"]))
    provider.close()


def test_a_stored_record_read_again_by_id_is_unchanged(kit: ContractHarness, sqlite_url: str) -> None:
    from connector.sync.pull.refetch import store_fetched

    app = make_app(sqlite_url, kit.connection())
    app.sync("c")
    provider = _provider(kit, sqlite_url)
    wanted = {kind: [next(iter(provider.list_ids(kind)))[0]] for kind in ("client", "invoice")}
    mapping = app.mapping(app.connection("c").provider)
    mapper = mapping.bind(provider.reference_data(set(mapping.references_needed)))
    outcome = store_fetched(app.engine, provider, mapper, "c", wanted, app.clock, stream="refetch")
    provider.close()
    assert outcome.counts.created == outcome.counts.updated == outcome.counts.quarantined == 0
    assert outcome.counts.unchanged == outcome.counts.read >= 2


def test_payments_by_id(kit: ContractHarness, sqlite_url: str) -> None:
    provider = _provider(kit, sqlite_url)
    if "payment" not in provider.fetchable_kinds:  # FastFaktura: payments are events of their invoice only,
        invoices = [rid for batch in provider.list_ids("invoice") for rid in batch]  # read again with it
        paid = [r for page in provider.fetch("invoice", invoices) for r in page.records if r.kind == "payment"]
        assert paid, f"{kit.provider_id}: reading invoices by id brings their payments along"
        return
    if "payment" in provider.sweep_kinds:  # hydra: transactions have their own ids and routes
        known = next(iter(provider.list_ids("payment")))[0]
    else:  # FactuurSturen: a payment is an event of its invoice's history, read through the invoice
        invoices = [rid for batch in provider.list_ids("invoice") for rid in batch]
        paid = next(p for page in provider.fetch("invoice", invoices) for p in page.records if p.kind == "payment")
        known = paid.remote_id
    bogus = f"{known.partition(':')[0]}:99" if ":" in known else BOGUS
    pages = list(provider.fetch("payment", [known, bogus]))
    assert known in {r.remote_id for page in pages for r in page.records if r.kind == "payment"}
    assert [rid for page in pages for rid in page.vanished.get("payment", [])] == [bogus]
    provider.close()
