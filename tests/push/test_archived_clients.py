"""An archived (inactive) FactuurSturen client still has invoices; a target that receives those invoices gets
the client first, so they do not wait for it until they fail (found by the issue 11 oracle: 34 invoices lost
at hydra in 20 trials)."""

from __future__ import annotations

from connector.store.tables import Outbox
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox, make_app, seed_until_yesterday


def test_invoices_of_an_inactive_client_reach_hydra_with_their_client(
    database_url: str, fs: FsSandbox, hy: HydraHarness
) -> None:
    seed_until_yesterday(fs, days=10, seed=3, clients=2, invoices=4)
    clients = fs.state()["clients"]
    for client in clients:
        fs.act("edit_client", clientnr=client["clientnr"], changes={"active": "false"})
    app = make_app(database_url, fs.connection("fs"), hy.connection("hy", receives=["client", "invoice"]))
    app.sync("fs")
    [result] = app.push("hy")
    assert result.drain is not None and result.drain.failed == 0, result.drain
    state = hy.state()
    assert len(state["invoices"]) == 4
    assert len(state["customers"]) == len({i["clientnr"] for i in fs.state()["invoices"]})

    app.sync("hy")
    app.sync("fs")
    [again] = app.push("hy")
    assert again.planned == 0 and again.drain is not None and again.drain.requests == 0
    with app.engine.connect() as conn:
        pending = conn.execute(Outbox.__table__.select().where(Outbox.status != "done")).all()  # type: ignore[attr-defined]
    assert pending == []
