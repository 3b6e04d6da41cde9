"""hydra: an invoice whose rows the service served broken once (one garbage answer to the rows request of the first
load) is quarantined, and nothing about it changes at the service afterwards, so no ``updatedAt`` window reads it
again; the next incremental run's re-read by id stores it. Real socket, SQLite and PostgreSQL."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import func, select

from connector.store.tables import Invoice, Quarantine
from tests.hydra.harness import TOKEN, HydraHarness
from tests.support import make_app


def _open(app: object) -> set[tuple[str, str]]:
    with app.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(select(Quarantine.entity_kind, Quarantine.remote_id)
                            .where(Quarantine.resolved_at.is_(None))).all()  # type: ignore[union-attr]
    return {(str(k), str(r)) for k, r in rows}


def _invoices(app: object) -> int:
    with app.engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(select(func.count()).select_from(Invoice)).scalar_one())


def test_a_hydra_invoice_served_broken_once_heals_on_the_next_incremental_run(
    database_url: str, hy: HydraHarness
) -> None:
    hy.seed(clients=4, invoices=12)
    invoices = [i for i in hy.state()["invoices"] if not i["deleted"]]
    victim = next(i for i in invoices if i["rows"])
    # The rows request the first load makes, answered once with one row's price unreadable.
    params = {"invoice[]": [str(i["id"]) for i in invoices], "order[id]": "asc", "itemsPerPage": 100}
    answer = httpx.get(f"{hy.base_url}/invoice-rows", params=params, headers={"Authorization": f"Bearer {TOKEN}",
                       "Accept": "application/ld+json"}).json()
    members = answer.get("hydra:member", answer.get("member"))
    bad = next(r for r in members if r["invoice"].endswith(f"/{victim['id']}"))
    bad["netPrice"] = "12,3a"
    hy.faults([{"kind": "html", "status": 200, "body": json.dumps(answer), "path_prefix": "/api/invoice-rows",
                "method": "GET", "times": 1}])
    app = make_app(database_url, hy.connection("hy"))

    app.sync("hy")
    assert ("invoice", str(victim["id"])) in _open(app)
    assert _invoices(app) == len(invoices) - 1

    report = app.sync("hy")  # nothing changed at the service since: only the re-read reads it

    assert report.refetched is not None and report.refetched.still_quarantined == 0
    assert _open(app) == set()
    assert _invoices(app) == len(invoices)
