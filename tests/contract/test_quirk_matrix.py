"""The connector under every quirk switch of each readable sandbox (issue 12 item 5): whichever way the real
service behaves where the evidence allows several, a full sync, an incremental sync after a person's changes and a
sweep each end equal to the sandbox's own truth. Test ids name the provider and the quirk
(``factuursturen[count_cap=100]``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests import truth as fs_truth
from tests.fastfaktura import truth as ff_truth
from tests.fastfaktura.harness import FastFakturaHarness
from tests.hydra import truth as hy_truth
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox, make_app, seed_until_yesterday


def _fs_changes(fs: FsSandbox) -> None:
    state = fs.state()
    by_sent = sorted(state["invoices"], key=lambda i: i["sent"])
    open_old = [i for i in by_sent if float(i["open"]) > 0][:2]
    fs.act("register_payment", invoice=open_old[0]["id"], amount=str(open_old[0]["open"]))  # leaves the open set
    fs.act("delete_invoice", invoice=open_old[1]["id"])
    client = state["clients"][0]
    fs.act("edit_client", clientnr=client["clientnr"], changes={"city": "Harlingen"})
    fs.act("create_invoice", clientnr=client["clientnr"],
           lines=[{"amount": 2, "description": "Advies", "tax_rate": 21, "price": "75.00"}])


def _ff_changes(ff: FastFakturaHarness) -> None:
    state = ff.state()
    client = next(c for c in state["clients"] if not c.get("archived_at"))
    ff.act("edit_client", client_id=client["id"], changes={"email": "nieuw@example.nl"})
    sent = next(i for i in state["invoices"] if i["status"] in ("sent", "opened", "overdue"))
    ff.act("pay_invoice", invoice_id=sent["id"])
    ff.act("create_invoice", client_id=client["id"], send=True)


def _hy_changes(hy: HydraHarness) -> None:
    state = hy.state()
    live = [i for i in state["invoices"] if not i.get("deleted")]
    customer = state["customers"][0]
    hy.act("edit_customer", id=customer["id"], changes={"email": "nieuw@example.nl"})
    hy.act("add_transaction", invoice=live[0]["id"], amount=5.25)


def _hy_deletion(hy: HydraHarness) -> int:
    """A deleted invoice leaves hydra's lists (soft delete): only a sweep can see it, so it comes before one."""
    live = [i for i in hy.state()["invoices"] if not i.get("deleted")]
    hy.act("delete_invoice", id=live[1]["id"])
    return 1


class Case:
    """One provider under one quirk setting."""

    def __init__(self, provider: str, quirks: dict[str, Any], page_size: int | None = None) -> None:
        self.provider, self.quirks, self.page_size = provider, quirks, page_size
        setting = ",".join(f"{k}={str(v).lower()}" for k, v in quirks.items()) or "defaults"
        self.id = f"{provider}[{setting}]"


CASES = [
    Case("factuursturen", {}),
    Case("factuursturen", {"unknown_id_answers_list": True}),
    Case("factuursturen", {"count_cap": 100}, page_size=500),
    Case("factuursturen", {"count_cap": 250}, page_size=500),
    Case("factuursturen", {"client_timestamp": "date"}),
    Case("factuursturen", {"client_timestamp": "datetime"}),
    Case("fastfaktura", {}),
    Case("fastfaktura", {"per_page": 10}),
    Case("fastfaktura", {"per_page": 40}),
    Case("fastfaktura", {"order": "oldest_first"}),
    Case("fastfaktura", {"envelope": "data"}),
    Case("fastfaktura", {"envelope": "bare"}),
    Case("hydra", {"flavour": "3"}),
    Case("hydra", {"flavour": "4"}),
    Case("hydra", {"flavour": "3", "max_items_per_page": 10}),
    Case("hydra", {"flavour": "4", "absolute_links": True}),
]


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Any]]:
    started = {"factuursturen": FsSandbox.start(), "fastfaktura": FastFakturaHarness.start(),
               "hydra": HydraHarness.start()}
    yield started
    for server in started.values():
        server.stop()


def _prepare(case: Case, server: Any) -> tuple[Any, Callable[[], None], Callable[[Any], None]]:
    """Reset, switch the quirks on, seed; return (connection, the person's changes, the truth check)."""
    server.reset()
    quirks = dict(case.quirks)
    if case.provider == "hydra":
        server.flavour(quirks.pop("flavour"))
    server.post("/quirks", quirks)
    if case.provider == "factuursturen":
        seed_until_yesterday(server, days=400, seed=21, clients=30, invoices=1100)
        conn = server.connection("c", page_size=case.page_size or 100)
        return conn, lambda: _fs_changes(server), lambda app: fs_truth.assert_store_matches(app.engine, "c",
                                                                                             server.state())
    if case.provider == "fastfaktura":
        server.seed(clients=12, invoices=70)
        return (server.connection("c"), lambda: _ff_changes(server),
                lambda app: ff_truth.assert_store_matches(app.engine, "c", server.state()))
    server.seed(clients=12, invoices=70)
    return (server.connection("c", page_size=25), lambda: _hy_changes(server),
            lambda app: hy_truth.assert_store_matches(app.engine, "c", server.state()))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_full_incremental_and_sweep_equal_the_truth(case: Case, servers: dict[str, Any], sqlite_url: str) -> None:
    server = servers[case.provider]
    connection, person, matches = _prepare(case, server)
    app = make_app(sqlite_url, connection)

    first = app.sync("c", full=True)
    assert all(s.status == "ok" for s in first.streams), [(s.stream, s.error) for s in first.streams]
    matches(app)

    person()
    second = app.sync("c")
    assert all(s.status == "ok" for s in second.streams), [(s.stream, s.error) for s in second.streams]
    matches(app)

    deleted = _hy_deletion(server) if case.provider == "hydra" else 0
    sweep = app.sync("c", full=True)
    assert all(s.status == "ok" for s in sweep.streams), [(s.stream, s.error) for s in sweep.streams]
    # (an invoice's payments go with it; the truth check below says exactly what must be left)
    assert (sweep.totals.deleted > 0) == bool(deleted), "the sweep deletes what is gone and nothing that exists"
    matches(app)
    server.reset()
